"""A dependency-free progress bar on stderr for long runs."""
from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "label") as bar: bar.update(n)``; silent when disabled or not a TTY-less quiet run."""

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self._t0 = time.perf_counter()
        self._last = 0.0

    def __enter__(self):
        self._draw(force=True)
        return self

    def __exit__(self, *exc):
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return False

    def update(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        frac = self.done / self.total if self.total else 1.0
        width = 30
        fill = int(round(width * min(frac, 1.0)))
        el = now - self._t0
        eta = el / frac - el if 0 < frac < 1 else 0.0
        self.stream.write(
            f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total}"
            f" {el:6.1f}s elapsed, {eta:6.1f}s left"
        )
        self.stream.flush()
