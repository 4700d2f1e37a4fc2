"""Shared plumbing for the analysis scripts: options, figures, JSON summaries, verdicts."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless; every script only writes files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reludyn.cli.common import number_list_arg  # noqa: E402
from reludyn.io import write_json  # noqa: E402
from reludyn.plots.graphdraw import save_figure  # noqa: E402

REPRODUCED = "reproduced"
CAVEAT = "reproduced with a caveat"
NOT_REPRODUCED = "not reproduced"
MEASURED = "measured (beyond the paper)"
VERDICTS = (REPRODUCED, CAVEAT, NOT_REPRODUCED, MEASURED)

DPI = 100


def make_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options every script shares: --fast, --out-dir, --seed, --quiet."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--fast", action="store_true", help="quick reduced version (seconds)")
    p.add_argument("--out-dir", default=None,
                   help="where figures and JSON go (default figures/, with --fast figures/fast/)")
    p.add_argument("--seed", type=int, default=0, help="base seed of every random draw (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


# argparse types from reludyn's CLI: "6,7,8" or "6-10"; "0.1,0.5"
int_list = number_list_arg(int, lambda v: True, "integers like '6,7,8' or '6-10'", ranges=True)
float_list = number_list_arg(float, lambda v: True, "numbers like '0.1,0.5'")


def out_dir(args) -> Path:
    """The output folder: --out-dir, else figures/ (full runs) or figures/fast/ (--fast)."""
    if args.out_dir is None:
        args.out_dir = "figures/fast" if args.fast else "figures"
    p = Path(args.out_dir)
    p.mkdir(parents=True, exist_ok=True)
    return p


def savefig(fig, directory: Path, name: str) -> str:
    """Save a figure as a small PNG (:func:`reludyn.plots.save_figure`, tight) and close it."""
    path = Path(directory) / name
    save_figure(fig, path, dpi=DPI, tight=True)
    plt.close(fig)
    return str(path)


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson interval of k/n (:func:`reludyn.basins.wilson_interval`); (0, 1) when n = 0."""
    from reludyn.basins.fractions import wilson_interval

    return (0.0, 1.0) if n == 0 else wilson_interval(int(k), int(n))


def finish(directory: Path, name: str, *, claim: str, title: str, figures: list[str],
           measured: str, verdict: str, numbers: dict, t0: float, fast: bool) -> dict:
    """Write ``<name>.json`` with the numbers and return the summary dict the runner tabulates."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    summary = {
        "claim": claim,
        "title": title,
        "figures": [str(Path(f).name) for f in figures],
        "measured": measured,
        "verdict": verdict,
        "fast": bool(fast),
        "seconds": round(time.perf_counter() - t0, 2),
        "numbers": numbers,
    }
    path = Path(directory) / f"{name}.json"
    write_json(path, summary)
    summary["json"] = str(path)
    return summary


def log(args, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg, flush=True)


def teacher_perm_distance(W: np.ndarray, V: np.ndarray) -> float:
    """min over row assignments of ‖W − P V‖_F (extra student rows compared with 0).

    Uses the Hungarian algorithm on squared row distances
    (:func:`reludyn.critical.symmetry.match_rows`), so it is exact for any K ≥ M.
    """
    from reludyn.critical.symmetry import match_rows

    K, M = W.shape[0], V.shape[0]
    Vp = np.zeros((max(K, M), W.shape[1]))
    Vp[:M] = V
    Wp = np.zeros_like(Vp)
    Wp[:K] = W
    return float(np.linalg.norm(Wp[match_rows(Wp, Vp)] - Vp))
