"""Benchmark: the critical-point catalogue for K = M = d = 10 (issue 4: 1000 seeds < 2 min on 2 cores).

Runs ``find_critical_points`` (what ``reludyn catalogue`` runs) and reports the wall
time, time per seed and per solved seed point, and where the solver time goes:
Numba kernels (gradient and Hessian evaluations inside the SciPy solvers), SciPy's
own work (solver time minus kernel time), Newton polish, and the rest (seed
generation incl. gradient descent, dedup, classification), as shares of the run.
The baseline in the same process is the bare kernel cost of the same number of
gradient + Hessian evaluations (what a perfect solver wrapper would cost).

    python benchmarks/bench_catalogue.py [-K 10] [-n 1000] [--workers 2] [--repeats 1]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import reludyn as rd
from reludyn import kernels
from reludyn.critical import find_critical_points


def kernel_baseline(P, n_grad, n_hess, seed=0):
    """Seconds for n_grad gradient and n_hess Hessian kernel calls at random points."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((P.K, P.d)) / np.sqrt(P.d)
    V = np.ascontiguousarray(P.V)
    G = np.empty_like(W)
    H = np.empty((W.size, W.size))
    kernels.grad_kernel(W, V, G)
    kernels.hessian_kernel(W, V, H)
    t = time.perf_counter()
    for _ in range(n_grad):
        kernels.grad_kernel(W, V, G)
    for _ in range(n_hess):
        kernels.hessian_kernel(W, V, H)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-K", type=int, default=10)
    ap.add_argument("-n", "--n-seeds", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    P = rd.Problem.orthonormal(args.K)
    find_critical_points(P, n_seeds=6, seed=99)  # compile / load caches
    walls = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        cat = find_critical_points(P, n_seeds=args.n_seeds, seed=args.seed + r,
                                   workers=args.workers)
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    prov = cat.provenance
    tm = prov["timing"]
    n_pts = prov["n_seed_points"]
    cpu = tm["solve_total"]
    print(f"{P!r}, {args.n_seeds} seeds -> {n_pts} seed points, workers={args.workers}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"wall {wall:.1f} s (median of {len(walls)}; issue target 120 s); "
          f"{wall / args.n_seeds * 1e3:.1f} ms per seed, "
          f"{wall / max(n_pts, 1) * 1e3:.1f} ms per seed point")
    print(f"solver time inside the workers (wall, summed) {cpu:.1f} s = "
          f"{cpu / max(n_pts, 1) * 1e3:.1f} ms per seed point")
    scipy_own = tm["scipy"] - tm["kernel"]
    for name, v in (("Numba kernels (grad, Hessian)", tm["kernel"]),
                    ("SciPy solvers (own work)", scipy_own),
                    ("Newton polish", tm["polish"]),
                    ("other solve overhead", cpu - tm["scipy"] - tm["polish"])):
        print(f"  {name:32s} {v:8.2f} s  {100 * v / cpu:5.1f} % of solver time")
    scpu = tm.get("solve_cpu", 0.0)
    mcpu = tm.get("main_cpu", 0.0)
    est = max(scpu / max(args.workers, 1), mcpu)
    print(f"CPU time: solves {scpu:.1f} s (all workers), main process {mcpu:.1f} s "
          f"(seeds incl. GD, dedup, classification{', solves' if args.workers == 1 else ''}); "
          f"wall on {args.workers} idle cores ~ {est:.0f} s")
    rest = wall - cpu / max(args.workers, 1)
    print(f"seeds (incl. GD), dedup, classification ~ {max(rest, 0):.1f} s of the wall time")
    print(f"accepted {prov['accepted']}, rejected {prov['rejected']}, entries {len(cat)}: "
          f"{cat.kinds()}")
    # baseline: the same kernel work, called directly
    nfev, njev = int(tm.get("nfev", 0)), int(tm.get("njev", 0))
    base = kernel_baseline(P, nfev, njev)
    print(f"baseline: the solvers' {nfev} gradient + {njev} Hessian kernel calls made "
          f"directly take {base:.2f} s; measured kernel time inside the solvers "
          f"{tm['kernel']:.2f} s (ratio {tm['kernel'] / max(base, 1e-12):.2f}); "
          f"solver time / bare kernel work = {cpu / max(base, 1e-12):.1f}")


if __name__ == "__main__":
    main()
