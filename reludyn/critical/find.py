"""``find_critical_points``: seeds -> solvers -> dedup -> classified catalogue."""
from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._version import __version__
from ..problem import Problem
from ..runner import Executor, Task
from ..validation import positive_float, positive_int
from ._blas import single_threaded_blas
from .catalogue import Catalogue
from .seeds import DEFAULT_STRATEGIES, NAMED_STRATEGIES, STRATEGIES, applicable, make_seeds
from .native import NativeSettings, native_solve
from .solve import METHODS, SolveResult, check_methods, solve_point
from .targeted import TargetSettings
from .targeted import follow_modes as _follow_modes


def resolve_strategies(problem: Problem, seeds: "SeedSettings") -> dict[str, int]:
    """{strategy: count} of validated ``seeds``: its dict of counts, or its n_seeds split
    evenly over its strategies (default: all that apply; earlier ones get the remainder).
    Refuses a named strategy that does not apply to ``problem``."""
    if isinstance(seeds.n_seeds, dict):
        counts = dict(seeds.n_seeds)
    else:
        names = seeds.strategies
        if names is None:
            names = [s for s in DEFAULT_STRATEGIES if applicable(problem, s) is None]
        base, extra = divmod(seeds.n_seeds, len(names)) if names else (0, 0)
        counts = {s: base + (1 if i < extra else 0) for i, s in enumerate(names)}
    for k in counts:
        why = applicable(problem, k)
        if why:
            raise ValueError(f"seed strategy {k!r} {why}")
    return counts


@dataclass(frozen=True)
class SeedSettings:
    """Which seeds :func:`find_critical_points` solves from (validated here, once).

    n_seeds: total number of seeds, split evenly over ``strategies`` (earlier ones get
    the remainder; GD runs for "gd", each adding its end point and plateau points), or
    {strategy: count} (then ``strategies`` is unused); seed: base seed of every random
    draw; strategies: names from :data:`reludyn.critical.seeds.NAMED_STRATEGIES`
    (None: all that apply to the problem); options: {strategy: keyword arguments of its
    seed maker}.  Whether a strategy applies to a problem is checked when it is used.
    """

    n_seeds: int | dict = 60
    seed: int = 0
    strategies: tuple | None = None
    options: dict | None = None

    def __post_init__(self):
        if isinstance(self.n_seeds, dict):
            for k, v in self.n_seeds.items():
                if k not in NAMED_STRATEGIES:
                    raise ValueError(f"unknown seed strategy {k!r}; choose from {NAMED_STRATEGIES}")
                positive_int(v, f"n_seeds[{k!r}]", minimum=0)
            object.__setattr__(self, "n_seeds", {k: int(v) for k, v in self.n_seeds.items()})
        else:
            object.__setattr__(self, "n_seeds", positive_int(self.n_seeds, "n_seeds", minimum=0))
        object.__setattr__(self, "seed", positive_int(self.seed, "seed", minimum=0))
        if self.strategies is not None:
            names = [self.strategies] if isinstance(self.strategies, str) else \
                list(self.strategies)
            for s in names:
                if s not in NAMED_STRATEGIES:
                    raise ValueError(f"unknown seed strategy {s!r}; choose from "
                                     f"{', '.join(NAMED_STRATEGIES)} (user points go in points=)")
            object.__setattr__(self, "strategies", tuple(dict.fromkeys(names)))
        opts = self.options or {}
        if not isinstance(opts, dict):
            raise TypeError(f"options must be a dict {{strategy: keyword arguments}}, "
                            f"got {type(opts).__name__}")
        for k, v in opts.items():
            if k not in STRATEGIES:
                raise ValueError(f"options has unknown strategy {k!r}")
            if not isinstance(v, dict):
                raise TypeError(f"options[{k!r}] must be a dict of keyword arguments")
        object.__setattr__(self, "options", {k: dict(v) for k, v in opts.items()})


@dataclass(frozen=True)
class SolverSettings:
    """How :func:`find_critical_points` solves ∇J = 0 and files the results.

    methods: solver order from ("native", "hybr", "lm", "lsq") (with "native" first the
    others only get the seeds it does not converge from); tol: accept ‖∇J‖_F <= tol;
    dedup_tol / null_rtol: see :data:`reludyn.critical.catalogue.DEFAULT_SETTINGS`;
    max_nfev: budget per SciPy call; native: the native solver's :class:`NativeSettings`
    (its tol is replaced by this tol); follow_modes: after the seeds, follow this many
    softest Hessian modes of every minimum, both ways, to index-1 saddles.
    """

    methods: tuple = METHODS
    tol: float = 1e-10
    dedup_tol: float = 1e-6
    null_rtol: float = 1e-7
    max_nfev: int = 300
    native: NativeSettings | None = None
    follow_modes: int = 0

    def __post_init__(self):
        object.__setattr__(self, "methods", check_methods(self.methods))
        for name in ("tol", "dedup_tol", "null_rtol"):
            object.__setattr__(self, name, positive_float(getattr(self, name), name))
        object.__setattr__(self, "max_nfev", positive_int(self.max_nfev, "max_nfev"))
        object.__setattr__(self, "follow_modes",
                           positive_int(self.follow_modes, "follow_modes", minimum=0))
        if self.native is not None and not isinstance(self.native, NativeSettings):
            raise TypeError(f"native must be a NativeSettings, got {type(self.native).__name__}")
        object.__setattr__(self, "native",
                           dataclasses.replace(self.native or NativeSettings(), tol=self.tol))


def _solve_task(args):
    W0, V, kw = args
    t, c = time.perf_counter(), time.process_time()
    r = solve_point(W0, V, **kw)
    r.timings["total"] = time.perf_counter() - t
    r.timings["cpu"] = time.process_time() - c
    return r


def _native_chunk(W0s, V, settings: NativeSettings):
    """The native solver on a chunk of seeds (B, K, d); returns (NativeResult, seconds)."""
    t = time.perf_counter()
    r = native_solve(W0s, V, settings)
    return r, time.perf_counter() - t


def _chunk_results(seeds, V, kw: dict) -> list[SolveResult]:
    """SolveResult for each seed of one chunk, in seed order.

    With "native" first, the chunk goes through the batched native solver; a seed it
    stops on a dead row is finished by :func:`solve_point` from there (zero the row,
    solve the live rows, then the other methods), and a seed it does not converge from
    (stalled, budget, diverged) is solved from the seed by the remaining methods in
    order.  Otherwise every seed goes to :func:`solve_point` with ``methods``.  Each
    result depends only on its own seed, so neither chunking nor workers change it.
    """
    methods = kw["methods"]
    if methods[0] != "native":
        return [_solve_task((W0, V, kw)) for W0 in seeds]
    rest = methods[1:]
    nr, secs = _native_chunk(seeds, V, kw["native"])
    share = secs / max(len(seeds), 1)
    out: list = [None] * len(seeds)
    for k in range(len(seeds)):
        why = nr.reason[k]
        timings = {"native": share, "total": share, "njev": int(nr.iterations[k])}
        if why == "converged":
            out[k] = SolveResult(nr.W[k], float(nr.grad_norm[k]), True, "native", [],
                                 "native: converged", int(nr.nfev[k]), timings)
            continue
        if why == "dead_row":
            r = _solve_task((nr.W[k], V, dict(kw, methods=methods)))
        elif rest:
            r = _solve_task((seeds[k], V, dict(kw, methods=rest)))
        else:
            out[k] = SolveResult(nr.W[k], float(nr.grad_norm[k]), False, "native", [],
                                 f"native: {why}", int(nr.nfev[k]), timings)
            continue
        r.timings["native"] = r.timings.get("native", 0.0) + share
        r.timings["total"] = r.timings.get("total", 0.0) + share
        r.nfev += int(nr.nfev[k])
        out[k] = r
    return out


_TIMINGS = ("kernel", "scipy", "polish", "native", "total", "cpu")


def solve_chunk(seeds, V, methods, tol, max_nfev, native) -> dict[str, np.ndarray]:
    """Runner task: solve one chunk of seeds (B, K, d) for teacher V (M, d).

    methods (list), tol, max_nfev and native (the fields of :class:`NativeSettings`)
    are those of :class:`SolverSettings`.  Returns arrays over the B seeds: W (B, K, d),
    grad_norm, success, method ("" for none), nfev, njev and the seconds per timing key.
    """
    seeds = np.asarray(seeds, dtype=np.float64).reshape(-1, *np.shape(seeds)[-2:])
    V = np.ascontiguousarray(V, dtype=np.float64)
    nat = NativeSettings(**native)
    # the fallback solves zero the rows the native solver called dead: one threshold
    kw = {"methods": tuple(methods), "tol": float(tol), "max_nfev": int(max_nfev),
          "native": nat, "dead_tol": nat.dead_tol}
    with single_threaded_blas():  # small dense algebra: BLAS threads only hurt
        rs = _chunk_results(seeds, V, kw)
    return {
        "W": np.array([r.W for r in rs], dtype=np.float64).reshape(seeds.shape),
        "grad_norm": np.array([r.grad_norm for r in rs], dtype=np.float64),
        "success": np.array([bool(r.success) for r in rs], dtype=bool),
        "method": np.array([r.method or "" for r in rs], dtype=str),
        "nfev": np.array([int(r.nfev) for r in rs], dtype=np.int64),
        "njev": np.array([int(r.timings.get("njev", 0)) for r in rs], dtype=np.int64),
        **{f"t_{k}": np.array([float(r.timings.get(k, 0.0)) for r in rs]) for k in _TIMINGS},
    }


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


def _make_seeds(problem: Problem, seeds: SeedSettings, points):
    """(seeds (n, K, d), sources, counts, number of user points), deterministic."""
    counts = resolve_strategies(problem, seeds)
    Ws, sources = [], []
    for name, n in counts.items():
        if n == 0:
            continue
        b = make_seeds(problem, name, n, seeds.seed, **seeds.options.get(name, {}))
        Ws.append(b.W)
        sources += b.sources
    n_user = 0
    if points is not None:
        b = make_seeds(problem, "user", 0, seeds.seed, points=points)
        Ws.append(b.W)
        sources += b.sources
        n_user = len(b.sources)
    W = np.concatenate(Ws) if Ws else np.zeros((0, problem.K, problem.d))
    return np.ascontiguousarray(W, dtype=np.float64), sources, counts, n_user


def _add_results(cat: Catalogue, res: dict, sources: list, first: int) -> None:
    """File one chunk's results (seeds first, first + 1, ...) into ``cat``, in seed order."""
    timing = cat.provenance["timing"]
    by = cat.provenance.setdefault("accepted_by", {})
    for k in range(len(res["grad_norm"])):
        for key in ("kernel", "scipy", "polish", "native"):
            timing[key] = timing.get(key, 0.0) + float(res[f"t_{key}"][k])
        timing["nfev"] = timing.get("nfev", 0) + int(res["nfev"][k])
        timing["njev"] = timing.get("njev", 0) + int(res["njev"][k])
        timing["solve_total"] += float(res["t_total"][k])
        timing["solve_cpu"] = timing.get("solve_cpu", 0.0) + float(res["t_cpu"][k])
        added = None
        method = str(res["method"][k]) or None
        if bool(res["success"][k]):
            added = cat.add(np.array(res["W"][k]), grad_norm=float(res["grad_norm"][k]),
                            method=method, source=sources[first + k])
            cat.provenance["accepted"] += 1
            by[str(method)] = by.get(str(method), 0) + 1
        else:
            cat.provenance["rejected"] += 1
        cat.record_start(added)  # completeness: every start counts, new entries stamped
        cat.provenance["seeds_done"] = first + k + 1


def chunk_dir(out) -> Path:
    """The runner directory of the catalogue ``out``: finished chunks, for resuming."""
    out = Path(out)
    return out.with_name(f"{out.stem}.chunks")


def find_critical_points(problem: Problem, seeds: SeedSettings | int = SeedSettings(), *,
                         solver: SolverSettings = SolverSettings(),
                         executor: Executor = Executor(), out=None, resume: bool = False,
                         points=None) -> Catalogue:
    """Find, deduplicate and classify critical points of J for ``problem``.

    seeds: a :class:`SeedSettings` (an int n is ``SeedSettings(n_seeds=n)``); points: extra
    user seeds (n, K, d); solver: a :class:`SolverSettings` (with "native" first the
    batched native solver runs on each chunk, then the SciPy methods on the seeds it does
    not converge from, see :func:`_chunk_results`).  Seeds that do not reach solver.tol
    are counted in provenance["rejected"], never added.

    executor: the seeds are solved in tasks of ``executor.chunk`` seeds through
    :mod:`reludyn.runner` (``executor.workers`` processes or a Dask scheduler); results
    are filed in seed order, so the catalogue depends neither on workers nor on chunking.
    out: catalogue JSON, rewritten as chunks finish (the finished prefix) and at the end;
    the finished chunks live in ``chunk_dir(out)`` (removed once the catalogue is
    complete) or, when set, in ``executor.out_dir`` (kept, and always reused: the runner's
    rule).  resume: continue an interrupted run from its finished chunks (refused when
    ``out`` was made with other settings); otherwise start afresh.  Returns the catalogue
    sorted by loss.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    if not isinstance(seeds, SeedSettings):
        if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer, dict)):
            raise TypeError(f"seeds must be a SeedSettings or a number of seeds, "
                            f"got {type(seeds).__name__}")
        seeds = SeedSettings(n_seeds=seeds)
    if not isinstance(solver, SolverSettings):
        raise TypeError(f"solver must be a SolverSettings, got {type(solver).__name__}")
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a reludyn.runner.Executor, "
                        f"got {type(executor).__name__}")
    with single_threaded_blas():  # small dense algebra: BLAS threads only hurt
        return _find(problem, seeds, solver, executor, out, resume, points)


def _find(problem: Problem, seeds: SeedSettings, solver: SolverSettings, executor: Executor,
          out, resume: bool, points) -> Catalogue:
    main_cpu0 = time.process_time()
    W0s, sources, counts, n_user = _make_seeds(problem, seeds, points)
    methods, tol = solver.methods, solver.tol
    prov = {
        "reludyn_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seed": seeds.seed, "counts": counts, "strategies": list(counts),
        "n_user_points": n_user, "methods": list(methods), "tol": tol,
        "max_nfev": solver.max_nfev, "strategy_options": seeds.options,
        "n_seed_points": int(len(W0s)),
        "seeds_done": 0, "accepted": 0, "rejected": 0, "complete": False,
        "timing": {"kernel": 0.0, "scipy": 0.0, "polish": 0.0, "native": 0.0,
                   "solve_total": 0.0},
        "accepted_by": {m: 0 for m in methods}, "follow_modes": solver.follow_modes,
    }
    native = {k: v for k, v in dataclasses.asdict(solver.native).items()}
    if "native" in methods:
        # memory_mb only sets the native solver's inner chunking, which changes no result
        prov["native_settings"] = {k: v for k, v in native.items() if k != "memory_mb"}
    settings = {"tol": tol, "dedup_tol": solver.dedup_tol, "null_rtol": solver.null_rtol}
    cat = Catalogue(problem, settings=settings, provenance=prov)
    if out is not None and resume and Path(out).is_file():
        old = Catalogue.load(out, problem)
        if _settings_key(old.provenance) != _settings_key(prov) or \
                old.settings != cat.settings or old.provenance.get("n_seed_points") != len(W0s):
            raise ValueError(f"cannot resume from {str(out)!r}: it was made with other settings "
                             f"({_settings_key(old.provenance)}); use another output path "
                             "or start afresh (CLI: --fresh)")
        if old.provenance.get("complete"):
            return old

    run_dir = executor.out_dir if executor.out_dir is not None else \
        (None if out is None else chunk_dir(out))
    if executor.out_dir is None and run_dir is not None and not resume:  # start afresh
        (run_dir / "manifest.json").unlink(missing_ok=True)
        if (run_dir / "tasks").is_dir():
            for f in (run_dir / "tasks").glob("seeds*.npz"):
                f.unlink()
    V = np.ascontiguousarray(problem.V, dtype=np.float64)
    spans = executor.chunks(len(W0s))
    tasks = [Task(f"seeds{a:07d}-{e:07d}", {
        "seeds": W0s[a:e], "V": V, "methods": list(methods), "tol": tol,
        "max_nfev": solver.max_nfev, "native": native}) for a, e in spans]
    filed = [0]  # chunks filed into cat so far (a prefix, in seed order)

    def file_prefix(finished: dict) -> None:
        n0 = filed[0]
        while filed[0] < len(tasks) and tasks[filed[0]].key in finished:
            _add_results(cat, finished[tasks[filed[0]].key], sources, spans[filed[0]][0])
            filed[0] += 1
        if out is not None and filed[0] > n0:
            cat.save(out)  # the finished prefix; a rerun with resume=True goes on from the chunks

    if tasks:
        try:
            results = dataclasses.replace(executor, out_dir=run_dir).run(
                solve_chunk, tasks, label="critical points", on_result=file_prefix)
        except ValueError as exc:
            if "different parameters" in str(exc) or "holds a sweep" in str(exc):
                raise ValueError(f"cannot resume from {str(run_dir)!r}: {exc}") from None
            raise
        file_prefix(dict(zip((t.key for t in tasks), results)))
    if solver.follow_modes and "follow" not in cat.provenance:
        _follow_minima(cat, solver.follow_modes, tol)
    timing = cat.provenance["timing"]
    timing["main_cpu"] = timing.get("main_cpu", 0.0) + time.process_time() - main_cpu0
    cat.provenance["complete"] = True
    cat.provenance["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    cat.sort()
    if out is not None:
        cat.save(out)
        if executor.out_dir is None and run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)  # the catalogue now holds every chunk
    return cat


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1), 8))
