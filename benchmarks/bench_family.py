"""Benchmark: symmetry-reduced critical points (issue 13).

1. The type-A family Δ(S_{K−1}×S_1) followed from K = 6 to K = 1000 with its loss, Morse
   index and the 12 distinct Hessian eigenvalues at every K (target: < 60 s on 2 cores).
2. At K = 20: reduced Newton in the 5-dimensional Fix(H) plus the isotypic spectrum, against
   a full-space Newton solve (reludyn.newton_polish) plus the dense Hessian and its
   eigendecomposition, from the same perturbed start (target: >= 100×).  Medians of repeats,
   both measured in this process; results are checked to agree.

    python benchmarks/bench_family.py [--K-max 1000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from reludyn import hessian
from reludyn.critical import (BlockStructure, find_reduced_critical_points, follow_family,
                              isotypic_spectrum, solve_reduced, spectrum_with_multiplicities)
from reludyn.newton import newton_polish


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--K-max", type=int, default=1000)
    p.add_argument("--K", type=int, default=20, help="width of the reduced-vs-full comparison")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    st6 = BlockStructure((5, 1))
    th6 = [r for r in find_reduced_critical_points(st6, 40, 0) if r.loss > 1e-10][0].theta
    follow_family((6, th6), range(6, 9), pattern="K-1,1")          # warm-up
    t = time.perf_counter()
    fam = follow_family((6, th6), range(6, args.K_max + 1), pattern="K-1,1")
    t_family = time.perf_counter() - t
    n_distinct = {len(q.eigenvalues) for q in fam.points}
    print(f"type-A family K = 6..{args.K_max}: {len(fam.points)} widths in {t_family:.1f} s "
          f"({1e3 * t_family / len(fam.points):.1f} ms per K); distinct eigenvalues per K: "
          f"{sorted(n_distinct)}; index {sorted(set(fam.index.tolist()))}; "
          f"K·J({args.K_max}) = {args.K_max * fam.points[-1].loss:.6f}")

    K = args.K
    st = BlockStructure((K - 1, 1))
    thK = [q for q in fam.points if q.K == K][0].theta
    rng = np.random.default_rng(0)
    th0 = thK + 1e-3 * rng.standard_normal(st.dim)
    W0 = st.embed(th0)
    V = np.eye(K)

    def reduced():
        r = solve_reduced(st, th0)
        vals, mult = spectrum_with_multiplicities(isotypic_spectrum(st, r.theta))
        return r.theta, vals, mult

    def full():
        pol = newton_polish(W0, V, tol=1e-12, max_iter=50)
        return pol.W, np.linalg.eigvalsh(hessian(pol.W, V))

    reduced(), full()                                                 # warm-up (Numba)
    tr, tf = [], []
    for _ in range(args.repeats):
        t = time.perf_counter(); th, vals, mult = reduced(); tr.append(time.perf_counter() - t)
        t = time.perf_counter(); Wf, ev = full(); tf.append(time.perf_counter() - t)
    assert np.max(np.abs(st.embed(th) - Wf)) < 1e-8
    assert np.max(np.abs(np.repeat(vals, mult) - ev)) < 1e-9
    r_med, f_med = statistics.median(tr), statistics.median(tf)
    print(f"K = {K}: reduced solve + isotypic spectrum {1e3 * r_med:.2f} ms, full-space Newton + "
          f"dense eigendecomposition {1e3 * f_med:.1f} ms: speed-up {f_med / r_med:.0f}× "
          f"(medians of {args.repeats}; same point, same spectrum)")
    return {"family_seconds": t_family, "reduced_ms": 1e3 * r_med, "full_ms": 1e3 * f_med,
            "speedup": f_med / r_med}


if __name__ == "__main__":
    main()
