"""``find_critical_points``: seeds -> solvers -> dedup -> classified catalogue."""
from __future__ import annotations

import dataclasses
import datetime
import functools
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .._version import __version__
from ..problem import Problem
from ..progress import Progress
from ..validation import positive_float, positive_int
from ._blas import single_threaded_blas
from .catalogue import Catalogue
from .seeds import DEFAULT_STRATEGIES, NAMED_STRATEGIES, STRATEGIES, applicable, make_seeds
from .native import NativeSettings, chunk_size, native_solve
from .solve import SolveResult, check_methods, solve_point
from .targeted import TargetSettings
from .targeted import follow_modes as _follow_modes


def resolve_strategies(problem: Problem, strategies, n_seeds) -> dict[str, int]:
    """{strategy: count}. ``strategies``: names (default: all that apply), ``n_seeds``: int
    total split evenly (earlier strategies get the remainder) or a dict {name: count}."""
    if isinstance(n_seeds, dict):
        counts = {}
        for k, v in n_seeds.items():
            if k not in NAMED_STRATEGIES:
                raise ValueError(f"unknown seed strategy {k!r}; choose from {NAMED_STRATEGIES}")
            counts[k] = positive_int(v, f"n_seeds[{k!r}]", minimum=0)
        for k in counts:
            why = applicable(problem, k)
            if why:
                raise ValueError(f"seed strategy {k!r} {why}")
        return counts
    total = positive_int(n_seeds, "n_seeds", minimum=0)
    if strategies is None:
        names = [s for s in DEFAULT_STRATEGIES if applicable(problem, s) is None]
    else:
        if isinstance(strategies, str):
            strategies = [strategies]
        names = list(dict.fromkeys(strategies))
        for s in names:
            if s not in NAMED_STRATEGIES:
                raise ValueError(f"unknown seed strategy {s!r}; choose from "
                                 f"{', '.join(NAMED_STRATEGIES)} (user points go in points=)")
            why = applicable(problem, s)
            if why:
                raise ValueError(f"seed strategy {s!r} {why}")
    if not names:
        return {}
    base, extra = divmod(total, len(names))
    return {s: base + (1 if i < extra else 0) for i, s in enumerate(names)}


def _solve_task(args):
    W0, V, kw = args
    t, c = time.perf_counter(), time.process_time()
    with single_threaded_blas():
        r = solve_point(W0, V, **kw)
    r.timings["total"] = time.perf_counter() - t
    r.timings["cpu"] = time.process_time() - c
    return r


def _pool_context():
    """A fork-safe start method for the solver processes: the native solver's parallel
    loop starts OpenMP threads in this process, and forking after that is unsafe."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _native_chunk(W0s, V, settings: NativeSettings):
    """The native solver on a chunk of seeds (B, K, d); returns (NativeResult, seconds)."""
    t = time.perf_counter()
    r = native_solve(W0s, V, settings)
    return r, time.perf_counter() - t


def _results(seeds, start, V, methods, kw, settings, pool, chunk):
    """SolveResult for seeds[start:], in seed order.

    With "native" first, each chunk of seeds goes through the batched native solver;
    a seed it stops on a dead row is finished by :func:`solve_point` from there (zero
    the row, solve the live rows, then the other methods), and a seed it does not
    converge from (stalled, budget, diverged) is solved from the seed by the remaining
    methods in order.  Otherwise every seed goes to :func:`solve_point` with ``methods``.
    """
    def run(tasks):
        return list(pool.map(_solve_task, tasks, chunksize=4)) if pool else \
            [_solve_task(t) for t in tasks]

    if methods[0] != "native":
        tasks = ((seeds[i], V, kw) for i in range(start, len(seeds)))
        yield from (pool.map(_solve_task, tasks, chunksize=4) if pool else
                    map(_solve_task, tasks))
        return
    rest = methods[1:]
    for a in range(start, len(seeds), chunk):
        e = min(len(seeds), a + chunk)
        nr, secs = _native_chunk(seeds[a:e], V, settings)
        share = secs / (e - a)
        out: list = [None] * (e - a)
        tasks, where = [], []
        for k in range(e - a):
            why = nr.reason[k]
            timings = {"native": share, "total": share, "njev": int(nr.iterations[k])}
            if why == "converged":
                out[k] = SolveResult(nr.W[k], float(nr.grad_norm[k]), True, "native", [],
                                     "native: converged", int(nr.nfev[k]), timings)
            elif why == "dead_row":
                tasks.append((nr.W[k], V, dict(kw, methods=methods)))
                where.append(k)
            elif rest:
                tasks.append((seeds[a + k], V, dict(kw, methods=rest)))
                where.append(k)
            else:
                out[k] = SolveResult(nr.W[k], float(nr.grad_norm[k]), False, "native", [],
                                     f"native: {why}", int(nr.nfev[k]), timings)
        for k, r in zip(where, run(tasks)):
            r.timings["native"] = r.timings.get("native", 0.0) + share
            r.timings["total"] = r.timings.get("total", 0.0) + share
            r.nfev += int(nr.nfev[k])
            out[k] = r
        yield from out


def _follow_minima(cat: Catalogue, n_modes: int, tol: float) -> None:
    """Index-1 saddles by mode following from every minimum in ``cat`` (added to it)."""
    t = time.perf_counter()
    V = cat.problem.V
    mins = [(i, e.W) for i, e in enumerate(cat.entries)
            if e.kind in ("global_min", "spurious_min") and not e.dead_rows]
    n_ok = n_new = 0
    n_all = 0
    for i, W in mins:
        for j, r in enumerate(_follow_modes(W, V, n_modes, TargetSettings(index=1, tol=tol))):
            n_all += 1
            if r.success:
                n_ok += 1
                _, new = cat.add(r.W, grad_norm=r.grad_norm, method="follow",
                                 source=f"follow:{i}:{j}")
                n_new += new
    cat.provenance["follow"] = {"minima": len(mins), "searches": n_all,
                                "index1_found": n_ok, "new_entries": n_new,
                                "seconds": time.perf_counter() - t}


def _settings_key(prov: dict) -> dict:
    keys = ("seed", "counts", "methods", "tol", "strategy_options", "n_user_points",
            "native_settings", "follow_modes")
    return {k: prov.get(k) for k in keys}


def _find(problem: Problem, *, strategies=None, n_seeds=60, seed: int = 0,
                         points=None, methods=("native", "hybr", "lm", "lsq"),
                         tol: float = 1e-10,
                         dedup_tol: float = 1e-6, null_rtol: float = 1e-7,
                         max_nfev: int = 300, workers: int = 1, progress: bool = False,
                         out=None, resume: bool = False, save_every: int = 50,
                         strategy_options: dict | None = None,
                         native: NativeSettings | None = None,
                         follow_modes: int = 0) -> Catalogue:
    """Find, deduplicate and classify critical points of J for ``problem``.

    strategies: seed strategy names (see :mod:`reludyn.critical.seeds`; default all
    that apply); n_seeds: total number of seeds split evenly over them (GD runs for
    "gd", each adding its end point and plateau points), or {strategy: count};
    points: extra user seeds (n, K, d); methods: solver order (default the batched
    native solver, then the SciPy methods for the seeds it does not converge from, see
    :func:`_results`); native: its :class:`NativeSettings` (tol is this tol);
    follow_modes: after the seeds, follow this many softest Hessian modes of every
    minimum found, both ways, to index-1 saddles (:func:`reludyn.critical.targeted.follow_modes`;
    source "follow:<minimum>:<search>", method "follow"); tol: accept
    ‖∇J‖_F <= tol; dedup_tol / null_rtol: see :data:`reludyn.critical.catalogue.DEFAULT_SETTINGS`;
    workers: processes for the solves (results are added in seed order, so the
    catalogue does not depend on it); out: JSON path written every ``save_every``
    seeds and at the end; resume: continue from ``out`` if it holds a partial run
    with the same settings.  Seeds that do not reach tol are counted in
    provenance["rejected"], never added.  Returns the catalogue sorted by loss.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    seed = positive_int(seed, "seed", minimum=0)
    methods = check_methods(methods)
    tol = positive_float(tol, "tol")
    dedup_tol = positive_float(dedup_tol, "dedup_tol")
    null_rtol = positive_float(null_rtol, "null_rtol")
    max_nfev = positive_int(max_nfev, "max_nfev")
    workers = positive_int(workers, "workers")
    follow_modes = positive_int(follow_modes, "follow_modes", minimum=0)
    save_every = positive_int(save_every, "save_every")
    strategy_options = dict(strategy_options or {})
    for k in strategy_options:
        if k not in STRATEGIES:
            raise ValueError(f"strategy_options has unknown strategy {k!r}")
    counts = resolve_strategies(problem, strategies, n_seeds)
    if native is not None and not isinstance(native, NativeSettings):
        raise TypeError(f"native must be a NativeSettings, got {type(native).__name__}")
    native = dataclasses.replace(native or NativeSettings(), tol=tol)

    main_cpu0 = time.process_time()
    # --- seeds (deterministic, prefix-stable per strategy) -------------------
    Ws, sources = [], []
    for name, n in counts.items():
        if n == 0:
            continue
        b = make_seeds(problem, name, n, seed, **strategy_options.get(name, {}))
        Ws.append(b.W)
        sources += b.sources
    n_user = 0
    if points is not None:
        b = make_seeds(problem, "user", 0, seed, points=points)
        Ws.append(b.W)
        sources += b.sources
        n_user = len(b.sources)
    seeds = np.concatenate(Ws) if Ws else np.zeros((0, problem.K, problem.d))

    prov = {
        "reludyn_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed, "counts": counts, "strategies": list(counts),
        "n_user_points": n_user, "methods": list(methods), "tol": tol, "max_nfev": max_nfev,
        "strategy_options": strategy_options, "n_seed_points": int(len(seeds)),
        "seeds_done": 0, "accepted": 0, "rejected": 0, "complete": False,
        "timing": {"kernel": 0.0, "scipy": 0.0, "polish": 0.0, "native": 0.0,
                   "solve_total": 0.0},
        "accepted_by": {m: 0 for m in methods}, "follow_modes": follow_modes,
    }
    if "native" in methods:
        # memory_mb only sets the chunking, which does not change any result
        prov["native_settings"] = {k: v for k, v in dataclasses.asdict(native).items()
                                   if k != "memory_mb"}
    settings = {"tol": tol, "dedup_tol": dedup_tol, "null_rtol": null_rtol}
    cat = Catalogue(problem, settings=settings, provenance=prov)
    if out is not None and resume and Path(out).is_file():
        old = Catalogue.load(out, problem)
        if _settings_key(old.provenance) != _settings_key(prov) or \
                old.settings != cat.settings or old.provenance.get("n_seed_points") != len(seeds):
            raise ValueError(f"cannot resume from {str(out)!r}: it was made with other settings "
                             f"({_settings_key(old.provenance)}); use another output path "
                             "or start afresh (CLI: --fresh)")
        cat = old
        cat.provenance.setdefault("timing", prov["timing"])
    start = int(cat.provenance.get("seeds_done", 0))

    kw = {"methods": methods, "tol": tol, "max_nfev": max_nfev, "native": native}
    V = np.ascontiguousarray(problem.V)
    timing = cat.provenance["timing"]
    chunk = min(max(save_every, 64), chunk_size(problem.K, problem.d, native))
    pool = ProcessPoolExecutor(workers, mp_context=_pool_context()) if workers > 1 else None
    try:
        results = _results(seeds, start, V, methods, kw, native, pool, chunk)
        with Progress(len(seeds) - start, "critical points", enabled=progress) as bar:
            for i, r in enumerate(results, start=start):
                for k in ("kernel", "scipy", "polish", "native"):
                    timing[k] = timing.get(k, 0.0) + r.timings.get(k, 0.0)
                timing["nfev"] = timing.get("nfev", 0) + r.nfev
                timing["njev"] = timing.get("njev", 0) + r.timings.get("njev", 0)
                timing["solve_total"] += r.timings.get("total", 0.0)
                timing["solve_cpu"] = timing.get("solve_cpu", 0.0) + r.timings.get("cpu", 0.0)
                added = None
                if r.success:
                    added = cat.add(r.W, grad_norm=r.grad_norm, method=r.method,
                                    source=sources[i])
                    cat.provenance["accepted"] += 1
                    by = cat.provenance.setdefault("accepted_by", {})
                    by[str(r.method)] = by.get(str(r.method), 0) + 1
                else:
                    cat.provenance["rejected"] += 1
                cat.record_start(added)  # completeness: every start counts, new entries stamped
                cat.provenance["seeds_done"] = i + 1
                bar.update(1)
                if out is not None and (i + 1 - start) % save_every == 0:
                    cat.save(out)
    except KeyboardInterrupt:
        if out is not None:
            cat.save(out)  # keep every finished seed; rerun with resume=True to go on
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if follow_modes and "follow" not in cat.provenance:
        _follow_minima(cat, follow_modes, tol)
        if out is not None:
            cat.save(out)
    timing["main_cpu"] = timing.get("main_cpu", 0.0) + time.process_time() - main_cpu0
    cat.provenance["complete"] = True
    cat.provenance["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    cat.sort()
    if out is not None:
        cat.save(out)
    return cat


@functools.wraps(_find)
def find_critical_points(problem: Problem, **kwargs) -> Catalogue:
    with single_threaded_blas():  # small dense algebra: BLAS threads only hurt
        return _find(problem, **kwargs)


find_critical_points.__name__ = "find_critical_points"
find_critical_points.__qualname__ = "find_critical_points"


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1), 8))
