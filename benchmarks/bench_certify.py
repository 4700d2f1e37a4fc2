"""Benchmark: certification time (issue 14 targets: K = 6 type-A < 1 s, a K = 20 entry < 60 s, one core).

Times ``certify_point`` (Krawczyk inflation loop + spectrum + loss enclosure) and
``verify`` on the type-A minima (V = I_k) the global minimum W = V and the symmetric saddle x_s (a
critical manifold: coincident rows, index (k − 1)²), medians of
repeats, with the float Hessian + eigendecomposition of the same point as an in-process
baseline (what a non-rigorous classification costs).

    python benchmarks/bench_certify.py [--sizes 6,10,20] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from reludyn import hessian, symmetric_saddle_x  # noqa: E402
from reludyn.certify import certify_point, verify  # noqa: E402
from reludyn.certify.safran_shamir import type_a_minimum  # noqa: E402


def median_time(fn, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="6,10,20")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"{'point':<14} {'n':>4} {'certify s':>10} {'verify s':>9} {'float eig s':>11} "
          f"{'ratio':>7} {'radius':>9} status")
    for k in (int(x) for x in args.sizes.split(",")):
        V = np.eye(k)
        points = (("type-A", type_a_minimum(k)), ("W = V", V.copy()),
                  ("x_s", np.full((k, k), symmetric_saddle_x(k))))
        for name, W in points:
            hessian(W, V)  # compile outside the timing
            t_c, c = median_time(lambda: certify_point(W, V), args.repeats)
            t_v, _ = median_time(lambda: verify(c, V), max(1, args.repeats // 2))
            t_f, _ = median_time(lambda: np.linalg.eigvalsh(hessian(W, V)), args.repeats)
            print(f"{name + f' k={k}':<14} {k * k:>4} {t_c:>10.3f} {t_v:>9.3f} {t_f:>11.4f} "
                  f"{t_c / t_f:>7.0f} {c.radius:>9.1e} {c.status}")


if __name__ == "__main__":
    main()
