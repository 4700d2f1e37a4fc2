"""Benchmark: the parts of one native-solver iteration (issue 9), one BLAS thread.

For K = M = d (orthonormal teacher, one Xavier start): the analytic Hessian (and, as the
baseline in the same process, the block-by-block kernel it replaced, kept as the test oracle
tests/_hessian_reference.py), one gradient,
the Newton LU solve, H² as a product (np.dot) and as the symmetric rank-k update the
solver uses (syrk, lower triangle), one Cholesky of H² + μI, one Cholesky solve (potrs),
one matrix-vector product, and a symmetric eigendecomposition (what an eigen-based trust
region would need).  Best of 5 repeats, microseconds per call.

    python benchmarks/bench_native_parts.py [-K 10 20]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

import reludyn as rd
from reludyn.critical._blas import single_threaded_blas
from reludyn.critical._lapack import cholesky_solve, square_lower
from reludyn.critical.native import F_INT_nptype, _cholesky, _lu_solve, _matvec
from reludyn.dynamics.init import xavier_init
from reludyn.kernels import grad_kernel, hessian_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _hessian_reference import hessian_reference  # noqa: E402  (the baseline kernel)


def _looped(fn):
    """A jitted loop calling ``fn(*args)`` r times (no Python dispatch inside the timing)."""
    @njit
    def run(r, *args):
        for _ in range(r):
            fn(*args)
    return run


@njit
def _dot(H, A):
    np.dot(H, H, A)


@njit
def _chol(A, L):
    _cholesky(A, 1e-3, L)


@njit
def _eigh(H):
    np.linalg.eigh(H)


_hess, _hess_old, _grad, _lu, _syrk = (_looped(f) for f in (
    hessian_kernel, hessian_reference, grad_kernel, _lu_solve, square_lower))
_potrs, _mv = _looped(cholesky_solve), _looped(_matvec)
_dot, _chol, _eigh = _looped(_dot), _looped(_chol), _looped(_eigh)


def best_us(f, *args, reps: int) -> float:
    f(1, *args)
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        f(reps, *args)
        best = min(best, (time.perf_counter() - t) / reps)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-K", type=int, nargs="+", default=[10, 20])
    args = ap.parse_args()
    print("K     n   hessian  (old)     grad       LU   H² dot  H² syrk cholesky    potrs   "
          "matvec     eigh  (µs)")
    for K in args.K:
        P = rd.Problem.orthonormal(K)
        W, V = xavier_init(P, 1, seed=0)[0], P.V
        n = K * K
        H, A, L = np.empty((n, n)), np.empty((n, n)), np.empty((n, n))
        G, x = np.empty((K, K)), np.empty(n)
        b = np.random.default_rng(0).normal(size=n)
        piv = np.empty(n, dtype=F_INT_nptype)
        hessian_kernel(W, V, H)  # exactly symmetric, as the solver uses it
        np.dot(H, H, A)
        reps = max(1, int(2e4 / n))
        with single_threaded_blas():
            row = [best_us(_hess, W, V, np.empty((n, n)), reps=reps),
                   best_us(_hess_old, W, V, np.empty((n, n)), reps=reps),
                   best_us(_grad, W, V, G, reps=reps),
                   best_us(_lu, H, np.empty((n, n)), piv, b, x, reps=reps),
                   best_us(_dot, H, np.empty((n, n)), reps=reps),
                   best_us(_syrk, H, np.empty((n, n)), reps=reps),
                   best_us(_chol, A, L, reps=reps),
                   best_us(_potrs, L, b, x, reps=reps),
                   best_us(_mv, H, b, x, reps=reps),
                   best_us(_eigh, H, reps=max(1, reps // 10))]
        print(f"{K:<3} {n:>4} " + " ".join(f"{v:8.1f}" for v in row))


if __name__ == "__main__":
    main()
