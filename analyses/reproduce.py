"""Run every analysis script of :mod:`analyses` and tabulate claim, figure, measurement, verdict.

``reludyn reproduce`` (:mod:`reludyn.cli.cmd_reproduce`) finds this package in the source
checkout and calls :func:`run_all`; the library itself never imports it.

``run_all`` imports each script, calls its ``main(argv)`` and collects the summary dict it
returns. A script whose dependency is missing or that fails is reported as "not run" with
the reason, so one broken analysis never hides the others.
"""
from __future__ import annotations

import importlib
import textwrap
import time
import traceback
from pathlib import Path

from reludyn.io import write_json


def script_names() -> list[str]:
    """Module names of the analysis scripts, in run order."""
    from . import SCRIPTS

    return list(SCRIPTS)


def _select(names: list[str], only) -> list[str]:
    if not only:
        return names
    picked = []
    for key in only:
        key = key.strip().lower()
        hits = [n for n in names if n.split("_")[1] == key or n == key]
        if not hits:
            raise ValueError(f"unknown claim {key!r}; choose from "
                             f"{', '.join(n.split('_')[1] for n in names)}")
        picked += [h for h in hits if h not in picked]
    return picked


def run_all(fast: bool = False, out_dir: str | Path | None = None, only=None, seed: int = 0,
            quiet: bool = False) -> list[dict]:
    """Run the selected scripts (all by default; ``only`` = claim letters like ["a", "h"]).

    Returns one summary per script with keys claim, title, figures, measured, verdict,
    seconds (and numbers, json when the script ran). Writes ``reproduce_summary.json``.
    ``out_dir`` defaults to figures/ (full runs) or figures/fast/ (``fast``), so a quick
    run never overwrites the committed full-run figures.
    """
    out = Path(out_dir if out_dir is not None else ("figures/fast" if fast else "figures"))
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in _select(script_names(), only):
        argv = ["--out-dir", str(out), "--seed", str(seed)]
        if fast:
            argv.append("--fast")
        if quiet:
            argv.append("--quiet")
        letter = name.split("_")[1]
        t0 = time.perf_counter()
        if not quiet:
            print(f"=== {name} {'(fast)' if fast else ''}", flush=True)
        try:
            mod = importlib.import_module(f"{__package__}.{name}")
            res = mod.main(argv)
        except ImportError as exc:
            res = {"claim": letter, "title": name, "figures": [], "verdict": "not run",
                   "measured": f"missing dependency: {exc}"}
        except Exception as exc:  # report, keep going
            if not quiet:
                traceback.print_exc()
            res = {"claim": letter, "title": name, "figures": [], "verdict": "not run",
                   "measured": f"failed: {type(exc).__name__}: {exc}"}
        res.setdefault("seconds", round(time.perf_counter() - t0, 2))
        results.append(res)
    write_json(out / ("reproduce_summary_fast.json" if fast else "reproduce_summary.json"),
               [{k: v for k, v in r.items() if k != "numbers"} for r in results])
    return results


def format_table(results: list[dict], width: int = 60) -> str:
    """A plain-text table: claim | figure | measured (wrapped) | verdict | seconds."""
    head = f"{'claim':<6}{'figure':<34}{'measured':<{width + 2}}{'verdict':<28}{'s':>7}"
    lines = [head, "-" * len(head)]
    for r in results:
        figs = r.get("figures") or ["-"]
        meas = textwrap.wrap(str(r.get("measured", "")), width) or [""]
        n = max(len(figs), len(meas))
        for i in range(n):
            c = r["claim"] if i == 0 else ""
            f = figs[i] if i < len(figs) else ""
            m = meas[i] if i < len(meas) else ""
            v = r["verdict"] if i == 0 else ""
            s = f"{r.get('seconds', 0):.1f}" if i == 0 else ""
            lines.append(f"{c:<6}{f:<34}{m:<{width + 2}}{v:<28}{s:>7}")
        lines.append("")
    return "\n".join(lines)


def load_results(out_dir: str | Path, fast: bool = False) -> list[dict]:
    """Read back the per-script JSON summaries a previous run left in ``out_dir`` (in run order)."""
    from reludyn.io import read_json

    out = Path(out_dir)
    results = []
    for name in script_names():
        hits = sorted(out.glob(f"{name}*.json"))
        hits = [h for h in hits if h.stem.endswith("_fast") == fast] or hits
        if hits:
            results.append(read_json(hits[0], "analysis summary"))
    return results


def markdown_table(results: list[dict]) -> str:
    """The summary table as GitHub markdown: claim | figures | measured | verdict | seconds."""
    lines = ["| claim | figure | measured | verdict | s |", "|---|---|---|---|---|"]
    for r in results:
        figs = "<br>".join(f"[{f}](figures/{f})" for f in r.get("figures", [])) or "-"
        meas = str(r.get("measured", "")).replace("|", "\\|")
        lines.append(f"| {r['claim']} | {figs} | {meas} | **{r['verdict']}** | {r.get('seconds', 0):.0f} |")
    return "\n".join(lines)
