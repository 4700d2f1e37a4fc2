"""Basin fractions: run N starts, map every end point to a catalogue entry, count.

The N starts are drawn once from ``make_init(init, problem, n, seed)`` and cut into
chunks; each chunk is one executor task (local processes or Dask), written to the
output directory as soon as it finishes, so a sweep resumes. Matching end points to
the catalogue happens afterwards in this process, in start order, so the catalogue
grows the same way whatever backend or chunking ran the dynamics.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..newton import newton_polish
from ..problem import Problem
from ..validation import positive_float, positive_int
from .executor import Task, run_tasks

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


# --- the per-chunk task (module level: it is sent to workers) -------------
def run_chunk(problem: dict, W0: np.ndarray, dynamics: str, options: dict) -> dict:
    """Run the dynamics from each start of W0 (n, K, d); returns arrays per start.

    Keys: ``W`` (n, K, d), ``loss`` (n,), ``grad_norm`` (n,), ``time`` (n,) (GD steps,
    or flow time), ``reason`` (n,) str.
    """
    prob = Problem.from_dict(problem)
    if dynamics == "gd":
        from ..dynamics.gd import gradient_descent

        r = gradient_descent(prob, W0, **options)
        return {"W": r.W, "loss": r.loss, "grad_norm": r.grad_norm,
                "time": np.asarray(r.steps, dtype=float), "reason": np.asarray(r.reason, dtype=str)}
    if dynamics == "flow":
        from ..dynamics.flow import gradient_flow

        out = {"W": [], "loss": [], "grad_norm": [], "time": [], "reason": []}
        for w in W0:
            r = gradient_flow(prob, w, **options)
            out["W"].append(r.W)
            out["loss"].append(r.loss)
            out["grad_norm"].append(r.grad_norm)
            out["time"].append(r.t)
            out["reason"].append(str(r.reason))
        return {"W": np.asarray(out["W"], dtype=float).reshape(W0.shape),
                "loss": np.asarray(out["loss"], float), "grad_norm": np.asarray(out["grad_norm"], float),
                "time": np.asarray(out["time"], float), "reason": np.asarray(out["reason"], dtype=str)}
    raise ValueError(f"dynamics must be 'gd' or 'flow', got {dynamics!r}")


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
            lines.append(f"  entry {r['entry']:3d} {r['kind']:<14s} loss {r['loss']:.6g}  "
                         f"{r['count']:6d}  {r['fraction']:.4f} [{r['lo']:.4f}, {r['hi']:.4f}]")
        ts = self.time_stats
        if ts:
            lines.append(f"  time to converge: median {ts['median']:.4g}, mean {ts['mean']:.4g}, "
                         f"90% {ts['p90']:.4g}, max {ts['max']:.4g}")
        return "\n".join(lines)


def assign_entry(catalogue, W, polish_tol: float = 1e-11) -> int | None:
    """Index of the catalogue entry that W reaches, adding a new one if needed.

    Tries ``catalogue.match(W)``; otherwise Newton-polishes W and matches again; a
    polished point that matches nothing is added (classified by the catalogue).
    Returns None when polishing fails (W is not near a critical point).
    """
    idx = catalogue.match(W)
    if idx is not None:
        return int(idx)
    pol = newton_polish(W, catalogue.problem.V, tol=polish_tol)
    if not pol.success:
        return None
    idx = catalogue.match(pol.W)
    if idx is not None:
        return int(idx)
    res = catalogue.add(pol.W, method="newton", source="basins")
    idx = res[0] if isinstance(res, tuple) else res  # Catalogue.add -> (index, is_new)
    return int(idx)


def dynamics_settings(dynamics: str, eta, tol, max_steps, extra: dict | None) -> dict:
    """Validated options of the end-point dynamics: GD (eta, tol, max_steps) or flow (tol)."""
    if dynamics not in ("gd", "flow"):
        raise ValueError(f"dynamics must be 'gd' or 'flow', got {dynamics!r}")
    if dynamics == "gd":
        opts = {"eta": positive_float(eta, "eta"), "tol": positive_float(tol, "tol"),
                "max_steps": positive_int(max_steps, "max_steps")}
    else:
        opts = {"tol": positive_float(tol, "tol")}
    opts.update(extra or {})
    return opts


def basin_fractions(problem: Problem, catalogue, *, n: int = 1000, init: str = "xavier",
                    seed: int = 0, dynamics: str = "gd", eta: float = 0.1,
                    tol: float = 1e-10, max_steps: int = 100_000, init_options: dict | None = None,
                    dynamics_options: dict | None = None, out_dir=None, chunk: int = 100,
                    scheduler=None, workers: int | None = 1, progress: bool = False,
                    add_new: bool = True) -> BasinResult:
    """Basin fractions of ``catalogue``'s entries under ``dynamics`` from ``n`` seeded starts.

    problem: the Problem (must equal catalogue.problem). init: initializer name of
    ``reludyn.dynamics.init.make_init`` (``init_options`` passed on). dynamics: "gd"
    (step ``eta``, stop at max-row gradient norm ``tol`` or ``max_steps``) or "flow"
    (gradient flow). Converged ends that match no entry are polished and added to
    the catalogue (``add_new``), so the catalogue grows in place. out_dir: where
    per-chunk results go (resume); None uses a temporary directory.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    if getattr(catalogue, "problem", None) != problem:
        raise ValueError("the catalogue belongs to a different problem than `problem`")
    n = positive_int(n, "n")
    chunk = positive_int(chunk, "chunk")
    seed = positive_int(seed, "seed", minimum=0)
    opts = dynamics_settings(dynamics, eta, tol, max_steps, dynamics_options)
    from ..dynamics.init import make_init

    W0 = make_init(init, problem, n, seed, **(init_options or {}))
    pd = problem.to_dict()
    tasks = [Task(f"chunk{s:08d}", {"problem": pd, "W0": W0[s:s + chunk], "dynamics": dynamics,
                                    "options": opts})
             for s in range(0, n, chunk)]
    if out_dir is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            parts = run_tasks(run_chunk, tasks, tmp, scheduler=scheduler, workers=workers,
                              progress=progress, label="basins")
    else:
        parts = run_tasks(run_chunk, tasks, Path(out_dir), scheduler=scheduler, workers=workers,
                          progress=progress, label="basins")
    W = np.concatenate([p["W"] for p in parts])
    reason = np.concatenate([p["reason"] for p in parts]).astype(str)
    time = np.concatenate([p["time"] for p in parts]).astype(float)
    loss = np.concatenate([p["loss"] for p in parts]).astype(float)
    settings = {"init": init, "init_options": init_options or {}, "seed": seed, "n": n,
                "dynamics": dynamics, "options": opts, "chunk": chunk}
    return summarise(catalogue, W, reason, time, loss, settings=settings, add_new=add_new)


def summarise(catalogue, W, reason, time, loss, *, settings=None, add_new: bool = True) -> BasinResult:
    """Map end points W (n, K, d) with stop reasons onto catalogue entries and count."""
    n = W.shape[0]
    before = len(catalogue.entries)
    labels = np.full(n, -1, dtype=int)
    for i in range(n):
        if reason[i] == "diverged" or not np.all(np.isfinite(W[i])):
            continue
        idx = catalogue.match(W[i])
        if idx is None and add_new and reason[i] == "converged":
            idx = assign_entry(catalogue, W[i])
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
