"""Progress bars for long runs: a thin wrapper over tqdm that keeps call sites unchanged.

The bar is drawn only on a terminal: redirected to a file or a pipe, stderr
gets nothing (no carriage returns in logs).
"""
from __future__ import annotations

import sys


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """``with Progress(total, "label") as bar: bar.update(n)``.

    Draws a tqdm bar on ``stream`` (default stderr) when ``enabled`` and the
    stream is a terminal; otherwise only counts (``done``).
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(enabled) and _is_terminal(self.stream)
        self.done = 0
        self._bar = None

    def __enter__(self):
        if self.enabled:
            from tqdm import tqdm  # imported here: only runs that draw a bar need it

            self._bar = tqdm(total=self.total, desc=self.label or None, file=self.stream,
                             mininterval=0.2, dynamic_ncols=True)
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return False

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
