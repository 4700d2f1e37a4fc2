"""Benchmark: the native root finder against the SciPy chain on the same random starts (issue 9).

Part 1 (always): B random Xavier starts for K = M = d (orthonormal teacher).  The batched
native solver runs all B; the SciPy chain (hybr -> lm -> lsq + Newton polish, what
``methods=("hybr", "lm", "lsq")`` runs) runs the first ``--scipy-starts`` of them, one
by one, in the same process.  Reported: time per start (native: batch wall / B, Numba
threads on all cores; SciPy: one core per start, so the ratio is also given per core),
success rate, stop reasons, the catalogue entries each reached on the common starts and
whether both reached the same entry from the same start where both converged.

Part 2 (``--catalogue``): ``find_critical_points(P, n_seeds=N)`` with the default
strategies and methods (native, then the SciPy fallback), wall time and kinds.

Peak resident memory (ru_maxrss) is printed at the end (K = 30: the issue's 2 GB bound).

    python benchmarks/bench_catalogue.py -K 10 -n 1000 --scipy-starts 40 --catalogue
    python benchmarks/bench_catalogue.py -K 20 -n 100 --scipy-starts 4
    python benchmarks/bench_catalogue.py -K 30 -n 30 --scipy-starts 0 --max-iter 2
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

import reludyn as rd
from reludyn.critical import Catalogue, SeedSettings, find_critical_points
from reludyn.critical._blas import single_threaded_blas
from reludyn.critical.native import NativeSettings, chunk_size, native_solve
from reludyn.critical.solve import solve_point
from reludyn.dynamics.init import xavier_init

SCIPY = ("hybr", "lm", "lsq")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-K", type=int, default=10)
    ap.add_argument("-n", "--starts", type=int, default=1000)
    ap.add_argument("--scipy-starts", type=int, default=40)
    ap.add_argument("--catalogue", action="store_true",
                    help="also time find_critical_points with the default strategies")
    ap.add_argument("--catalogue-seeds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-iter", type=int, default=None,
                    help="native Hessian budget per start (K = 30 memory check: a few)")
    args = ap.parse_args()
    settings = NativeSettings() if args.max_iter is None else \
        NativeSettings(max_iter=args.max_iter)
    P = rd.Problem.orthonormal(args.K)
    V = P.V
    W0 = xavier_init(P, args.starts, seed=args.seed)
    native_solve(xavier_init(rd.Problem.orthonormal(2), 2, seed=1), rd.Problem.orthonormal(2).V)
    print(f"native chunks of {chunk_size(P.K, P.d, settings)} starts "
          f"({settings.memory_mb:.0f} MB of workspace)")
    import numba
    print(f"numba threads {numba.get_num_threads()}; {settings}")
    print(f"{P!r}: {args.starts} Xavier starts (seed {args.seed}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: times are noisy)")

    t, c = time.perf_counter(), time.process_time()
    nat = native_solve(W0, V, settings)
    t_nat, c_nat = time.perf_counter() - t, time.process_time() - c
    conv = nat.converged
    print(f"native: wall {t_nat:.2f} s = {t_nat / args.starts * 1e3:.2f} ms per start; "
          f"CPU {c_nat / args.starts * 1e3:.2f} ms per start (process time, less load "
          f"sensitive); converged {conv.mean():.1%}; reasons {nat.counts()}; Hessians per "
          f"start median {np.median(nat.iterations):.0f}; descent rounds taken "
          f"{np.bincount(nat.descents).tolist()} (starts with 0, 1, ... rounds)")

    ns = min(args.scipy_starts, args.starts)
    if ns:
        sci, t_sci = [], []
        c = time.process_time()
        with single_threaded_blas():
            for i in range(ns):
                t = time.perf_counter()
                sci.append(solve_point(W0[i], V, methods=SCIPY))
                t_sci.append(time.perf_counter() - t)
        c_sci = time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        nat_sub = native_solve(W0[:ns], V, settings)
        t_nat_sub, c_nat_sub = time.perf_counter() - t, time.process_time() - c
        ok_s = np.array([r.success and not r.dead_rows for r in sci])
        per_s = float(np.mean(t_sci))
        per_n = t_nat_sub / ns
        ncores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        print(f"SciPy chain on the first {ns} starts: {per_s * 1e3:.1f} ms per start "
              f"(median {np.median(t_sci) * 1e3:.1f}), success {ok_s.mean():.1%}")
        print(f"native on the same {ns} starts: {per_n * 1e3:.2f} ms per start (wall, "
              f"{ncores} threads), success {nat_sub.converged.mean():.1%}; speed-up per start "
              f"{per_s / per_n:.1f}x wall, {per_s / (per_n * ncores):.1f}x per core; CPU "
              f"time per start SciPy {c_sci / ns * 1e3:.1f} ms, native "
              f"{c_nat_sub / ns * 1e3:.2f} ms: {c_sci / c_nat_sub:.1f}x")
        cat = Catalogue(P)
        ids_s = [cat.add(r.W)[0] if ok else None for r, ok in zip(sci, ok_s)]
        ids_n = [cat.add(nat_sub.W[i])[0] if nat_sub.converged[i] else None
                 for i in range(ns)]
        both = [i for i in range(ns) if ids_s[i] is not None and ids_n[i] is not None]
        same = sum(ids_s[i] == ids_n[i] for i in both)
        es, en = {i for i in ids_s if i is not None}, {i for i in ids_n if i is not None}
        print(f"entries reached: SciPy {len(es)}, native {len(en)}, both {len(es & en)}; "
              f"from the {len(both)} starts where both converged, the same entry from "
              f"{same} (a random start may lead each method to a different root)")
        kinds = {}
        for i in en:
            kinds[cat.entries[i].kind] = kinds.get(cat.entries[i].kind, 0) + 1
        print(f"native entries' kinds: {kinds}")

    if args.catalogue:
        find_critical_points(P, SeedSettings(n_seeds=6, seed=99))  # compile / load caches
        t = time.perf_counter()
        cat = find_critical_points(P, SeedSettings(n_seeds=args.catalogue_seeds, seed=args.seed),
                                   executor=rd.Executor(workers=2, chunk=16))
        wall = time.perf_counter() - t
        prov = cat.provenance
        print(f"find_critical_points(n_seeds={args.catalogue_seeds}, default strategies, "
              f"native + SciPy fallback, workers=2): wall {wall:.1f} s; "
              f"{prov['n_seed_points']} seed points, accepted {prov['accepted']} "
              f"(by {prov['accepted_by']}), rejected {prov['rejected']}; "
              f"{len(cat)} entries {cat.kinds()}; native solver time "
              f"{prov['timing']['native']:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {rss:.0f} MB")


if __name__ == "__main__":
    main()
