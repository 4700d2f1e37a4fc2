"""Critical-point catalogues over a grid of problems, through the resumable runner.

One task per problem: ``find_critical_points`` with the given seeds, its catalogue
written to ``out_dir/catalogues/<key>.json`` and a per-entry summary (loss, kind,
index, nullity, hits, plane) returned as arrays, so the sweep runs embedded, in
local processes or on a Dask cluster (``scheduler="tcp://host:port"``) with the same
numbers, and an interrupted sweep resumes from the finished problems.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..io import write_json
from ..problem import Problem
from ..runner import Executor, Task
from ..validation import positive_int


def problem_grid(Ks, Ms, ds, teacher: str = "orthonormal", teacher_seed: int = 0) -> list[Problem]:
    """Every (K, M, d) of the grid as a Problem (orthonormal or Gaussian teacher).

    Combinations an orthonormal teacher cannot have (d < M) are skipped.
    """
    if teacher not in ("orthonormal", "gaussian"):
        raise ValueError(f"teacher must be 'orthonormal' or 'gaussian', got {teacher!r}")
    out = []
    for K, M, d in itertools.product(Ks, Ms, ds):
        K, M, d = positive_int(K, "K"), positive_int(M, "M"), positive_int(d, "d")
        if teacher == "orthonormal":
            if d >= M:
                out.append(Problem.orthonormal(M, d, K=K))
        else:
            out.append(Problem.gaussian(M, d, K=K, seed=teacher_seed))
    if not out:
        raise ValueError("the grid holds no valid problem (an orthonormal teacher needs d >= M)")
    return out


def planar_grid(angles, K: int = 2) -> list[Problem]:
    """Two unit teacher rows in the plane at angles 0 and φ, for each φ (radians), width K."""
    return [Problem.planar([0.0, float(phi)], K=K) for phi in np.atleast_1d(angles)]


def sweep_settings(n_seeds: int, seed: int, options: dict | None):
    """(SeedSettings, SolverSettings) of one sweep task. options: a JSON-able dict with
    the seed keys ``strategies`` and ``strategy_options`` and any field of
    :class:`reludyn.critical.SolverSettings` but ``native``."""
    from .find import SeedSettings, SolverSettings

    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    options = dict(options or {})
    seeds = SeedSettings(n_seeds=n_seeds, seed=seed, strategies=options.pop("strategies", None),
                         options=options.pop("strategy_options", None))
    fields = {f for f in SolverSettings.__dataclass_fields__ if f != "native"}
    bad = sorted(set(options) - fields)
    if bad:
        raise ValueError(f"unknown sweep option(s) {bad}; choose from "
                         f"{sorted(fields | {'strategies', 'strategy_options'})}")
    return seeds, SolverSettings(**options)


def catalogue_task(problem: dict, n_seeds: int, seed: int, options: dict, catalogue_path: str) -> dict:
    """Find the critical points of one problem; save its catalogue; return per-entry arrays."""
    from .find import find_critical_points

    prob = Problem.from_dict(problem)
    seeds, solver = sweep_settings(n_seeds, seed, options)
    cat = find_critical_points(prob, seeds, solver=solver)
    cat.save(catalogue_path)
    e = cat.entries
    return {
        "loss": np.array([x.loss for x in e], dtype=float),
        "kind": np.array([x.kind for x in e], dtype=str),
        "index": np.array([x.index for x in e], dtype=int),
        "nullity": np.array([x.nullity for x in e], dtype=int),
        "hits": np.array([x.hits for x in e], dtype=int),
        "in_plane": np.array([x.in_plane for x in e], dtype=bool),
        "grad_norm": np.array([x.grad_norm for x in e], dtype=float),
    }


def catalogue_sweep(problems, out_dir, *, n_seeds: int = 100, seed: int = 0,
                    options: dict | None = None, executor: Executor = Executor()) -> list[dict]:
    """Catalogue every problem; returns one summary dict per problem (in order).

    options: seed strategies and solver settings (see :func:`sweep_settings`).
    executor: workers or Dask scheduler, progress (its out_dir is replaced by ``out_dir``,
    its chunk is unused:
    one task per problem). Writes ``out_dir/catalogues/<key>.json`` per problem, the
    runner's per-task files and ``out_dir/sweep.json`` (the summaries). Summary keys:
    key, K, M, d, kind, entries, counts per type, min_spurious_loss, and the per-entry arrays.
    """
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a reludyn.runner.Executor, got {type(executor).__name__}")
    problems = list(problems)
    if not problems or not all(isinstance(p, Problem) for p in problems):
        raise TypeError("problems must be a non-empty list of reludyn.Problem")
    n_seeds = positive_int(n_seeds, "n_seeds")
    seed = positive_int(seed, "seed", minimum=0)
    sweep_settings(n_seeds, seed, options)  # bad options fail here, before any task runs
    out_dir = Path(out_dir)
    (out_dir / "catalogues").mkdir(parents=True, exist_ok=True)
    tasks = []
    for i, p in enumerate(problems):
        key = f"p{i:03d}_K{p.K}_M{p.M}_d{p.d}"
        tasks.append(Task(key, {"problem": p.to_dict(), "n_seeds": n_seeds, "seed": seed,
                                "options": dict(options or {}),
                                "catalogue_path": str(out_dir / "catalogues" / f"{key}.json")}))
    results = replace(executor, out_dir=out_dir).run(catalogue_task, tasks, label="catalogues")
    summaries = []
    for t, p, r in zip(tasks, problems, results):
        kinds = [str(k) for k in r["kind"]]
        spurious = r["loss"][np.array(kinds) == "spurious_min"] if kinds else np.array([])
        summaries.append({
            "key": t.key, "K": p.K, "M": p.M, "d": p.d, "teacher": p.kind, "params": p.params,
            "entries": len(kinds), "counts": {k: kinds.count(k) for k in sorted(set(kinds))},
            "min_spurious_loss": float(spurious.min()) if spurious.size else None,
            **{k: np.asarray(v).tolist() for k, v in r.items()},
        })
    write_json(out_dir / "sweep.json", {"n_seeds": n_seeds, "seed": seed,
                                        "options": options or {}, "problems": summaries})
    return summaries


def format_sweep(summaries: list[dict]) -> str:
    head = f"{'key':<22} {'K':>3} {'M':>3} {'d':>3} {'entries':>7} {'min spurious J':>15}  types"
    lines = [head, "-" * len(head)]
    for s in summaries:
        ms = "-" if s["min_spurious_loss"] is None else f"{s['min_spurious_loss']:.6g}"
        types = ", ".join(f"{k} {n}" for k, n in s["counts"].items())
        lines.append(f"{s['key']:<22} {s['K']:3d} {s['M']:3d} {s['d']:3d} {s['entries']:7d} "
                     f"{ms:>15}  {types}")
    return "\n".join(lines)
