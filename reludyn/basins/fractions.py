"""Basin fractions: run N starts, map every end point to a catalogue entry, count.

The N starts are drawn once from ``make_init(init, problem, n, seed)`` and cut into
chunks; each chunk is one runner task (:func:`reludyn.dynamics.ensemble.run_chunked`) (local processes or Dask), written to the
output directory as soon as it finishes, so a sweep resumes. Matching end points to
the catalogue happens afterwards in this process, in start order, so the catalogue
grows the same way whatever backend or chunking ran the dynamics.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..dynamics.ensemble import run_chunked
from ..dynamics.settings import FlowSettings, GDSettings, check_dynamics
from ..problem import Problem
from ..runner import Executor
from ..validation import positive_float, positive_int

Z95 = 1.959963984540054  # standard normal 97.5% quantile


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lo, hi) for k successes in n trials (95% for the default z)."""
    for v, name in ((k, "k"), (n, "n")):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    k, n = int(k), int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n] = [0, {n}], got {k}")
    z = positive_float(z, "z")
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # exact ends at k = 0 and k = n (rounding would leave 1e-17 off)
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _loss_text(J: float) -> str:
    """A loss for the summary: rounding at the global minimum (|J| < 1e-12) prints as 0, not
    as -4e-16 (as plots.graphdraw.format_loss, which this layer may not import)."""
    J = float(J)
    return format(0.0 if abs(J) < 1e-12 else J, ".6g")


@dataclass
class BasinResult:
    """Basin fractions over ``n`` starts.

    labels: (n,) catalogue entry reached by each start (-1: none). reason: (n,) how
    the dynamics stopped. time: (n,) GD steps or flow time. table: one row per
    entry reached, sorted by entry: entry, kind, loss, count, fraction, lo, hi
    (95% Wilson, denominator n). n_unconverged: starts with label -1.
    """

    n: int
    labels: np.ndarray
    reason: np.ndarray
    time: np.ndarray
    loss: np.ndarray
    table: list = field(default_factory=list)
    n_unconverged: int = 0
    reasons: dict = field(default_factory=dict)
    time_stats: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    n_new_entries: int = 0

    def fraction(self, entry: int) -> float:
        return float(np.mean(self.labels == entry))

    def to_dict(self) -> dict:
        return {"n": self.n, "table": self.table, "n_unconverged": self.n_unconverged,
                "reasons": self.reasons, "time_stats": self.time_stats,
                "settings": self.settings, "n_new_entries": self.n_new_entries}

    def summary(self) -> str:
        lines = [f"{self.n} starts; {self.n_unconverged} reached no entry {self.reasons}"]
        for r in self.table:
            lines.append(f"  entry {r['entry']:3d} {r['kind']:<14s} loss {_loss_text(r['loss'])}  "
                         f"{r['count']:6d}  {r['fraction']:.4f} [{r['lo']:.4f}, {r['hi']:.4f}]")
        ts = self.time_stats
        if ts:
            lines.append(f"  time to converge: median {ts['median']:.4g}, mean {ts['mean']:.4g}, "
                         f"90% {ts['p90']:.4g}, max {ts['max']:.4g}")
        return "\n".join(lines)


def check_catalogue(problem: Problem, catalogue) -> None:
    """Refuse a problem that is not a Problem or a catalogue of another problem."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    if getattr(catalogue, "problem", None) != problem:
        raise ValueError("the catalogue belongs to a different problem than `problem`")


def assign_end(catalogue, W: np.ndarray, reason: str, add_new: bool) -> int | None:
    """Catalogue entry of one end point (None: none): diverged or non-finite ends get
    none; converged ones may be polished and added (``add_new``); others are only matched."""
    if reason == "diverged" or not np.all(np.isfinite(W)):
        return None
    grow = add_new and reason == "converged"
    return catalogue.assign(W, polish=grow, add=grow)


def basin_fractions(problem: Problem, catalogue, *, n: int = 1000, init="xavier", seed: int = 0,
                    dynamics: GDSettings | FlowSettings = GDSettings(),
                    executor: Executor = Executor(chunk=100), add_new: bool = True) -> BasinResult:
    """Basin fractions of ``catalogue``'s entries under ``dynamics`` from ``n`` seeded starts.

    problem: the Problem (must equal catalogue.problem). init: initializer name of
    ``reludyn.dynamics.init.make_init``, or a pair (name, options dict). dynamics: a
    :class:`~reludyn.dynamics.GDSettings` (default: η = 0.1, max-row gradient norm
    1e-10, 100000 steps) or :class:`~reludyn.dynamics.FlowSettings`. Converged ends that
    match no entry are polished and added to the catalogue (``add_new``), so the
    catalogue grows in place. executor: chunking, workers/scheduler, the run directory
    (resume; None: a temporary one), progress.
    """
    check_catalogue(problem, catalogue)
    n = positive_int(n, "n")
    seed = positive_int(seed, "seed", minimum=0)
    dynamics = check_dynamics(dynamics)
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a reludyn.runner.Executor, got {type(executor).__name__}")
    name, init_options = _init_pair(init)
    from ..dynamics.init import make_init

    W0 = make_init(name, problem, n, seed, **init_options)
    ends = run_chunked(problem, W0, dynamics, executor, label="basins", key="chunk")
    options = dynamics.to_dict()
    settings = {"init": name, "init_options": init_options, "seed": seed, "n": n,
                "dynamics": options.pop("dynamics"), "options": options, "chunk": executor.chunk}
    return summarise(catalogue, ends.W, ends.reason, ends.time, ends.loss, settings=settings,
                     add_new=add_new)


def _init_pair(init) -> tuple[str, dict]:
    """(name, options) of ``init``: an initializer name or a pair (name, options dict)."""
    if isinstance(init, str):
        return init, {}
    if isinstance(init, (tuple, list)) and len(init) == 2 and isinstance(init[0], str) \
            and isinstance(init[1], dict):
        return init[0], dict(init[1])
    raise TypeError(f"init must be an initializer name or a pair (name, options dict), got {init!r}")


def summarise(catalogue, W, reason, time, loss, *, settings=None, add_new: bool = True) -> BasinResult:
    """Map end points W (n, K, d) with stop reasons onto catalogue entries and count."""
    n = W.shape[0]
    before = len(catalogue.entries)
    labels = np.full(n, -1, dtype=int)
    for i in range(n):
        idx = assign_end(catalogue, W[i], str(reason[i]), add_new)
        if idx is not None:
            labels[i] = int(idx)
    counts = Counter(labels[labels >= 0].tolist())
    table = []
    for e in sorted(counts):
        c = counts[e]
        lo, hi = wilson_interval(c, n)
        entry = catalogue.entries[e]
        table.append({"entry": int(e), "kind": str(getattr(entry, "kind", "?")),
                      "loss": float(getattr(entry, "loss", float("nan"))),
                      "index": int(getattr(entry, "index", -1)),
                      "count": int(c), "fraction": c / n, "lo": lo, "hi": hi})
    ok = labels >= 0
    t = time[ok]
    stats = {}
    if t.size:
        stats = {"median": float(np.median(t)), "mean": float(np.mean(t)),
                 "p90": float(np.quantile(t, 0.9)), "max": float(np.max(t))}
    unconv = reason[~ok]
    return BasinResult(n=n, labels=labels, reason=reason, time=time, loss=loss, table=table,
                       n_unconverged=int((~ok).sum()),
                       reasons={str(k): int(v) for k, v in sorted(Counter(unconv.tolist()).items())},
                       time_stats=stats, settings=settings or {},
                       n_new_entries=len(catalogue.entries) - before)
