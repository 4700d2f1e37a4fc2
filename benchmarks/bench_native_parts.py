"""Benchmark: the parts of one native-solver iteration (issue 9), one BLAS thread.

For K = M = d (orthonormal teacher, one Xavier start): the analytic Hessian, one gradient,
the Newton LU solve, H² as a product (np.dot) and as the symmetric rank-k update the
solver uses (syrk, lower triangle), one Cholesky of H² + μI, one Cholesky solve (potrs),
one matrix-vector product, and a symmetric eigendecomposition (what an eigen-based trust
region would need).  Best of 5 repeats, microseconds per call.

    python benchmarks/bench_native_parts.py [-K 10 20]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

import reludyn as rd
from reludyn.critical._blas import single_threaded_blas
from reludyn.critical._lapack import cholesky_solve, square_lower
from reludyn.critical.native import F_INT_nptype, _cholesky, _lu_solve, _matvec
from reludyn.dynamics.init import xavier_init
from reludyn.kernels import grad_kernel, hessian_kernel


@njit
def _hess(W, V, H, r):
    for _ in range(r):
        hessian_kernel(W, V, H)


@njit
def _grad(W, V, G, r):
    for _ in range(r):
        grad_kernel(W, V, G)


@njit
def _lu(H, A, piv, b, x, r):
    for _ in range(r):
        _lu_solve(H, A, piv, b, x)


@njit
def _dot(H, A, r):
    for _ in range(r):
        np.dot(H, H, A)


@njit
def _syrk(H, A, r):
    for _ in range(r):
        square_lower(H, A)


@njit
def _chol(A, L, r):
    for _ in range(r):
        _cholesky(A, 1e-3, L)


@njit
def _potrs(L, b, x, r):
    for _ in range(r):
        cholesky_solve(L, b, x)


@njit
def _mv(H, b, x, r):
    for _ in range(r):
        _matvec(H, b, x)


@njit
def _eigh(H, r):
    for _ in range(r):
        np.linalg.eigh(H)


def best_us(f, *args, reps: int) -> float:
    f(*args, 1)
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        f(*args, reps)
        best = min(best, (time.perf_counter() - t) / reps)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-K", type=int, nargs="+", default=[10, 20])
    args = ap.parse_args()
    print("K     n   hessian   grad     LU   H² dot  H² syrk  cholesky  potrs  matvec    eigh  (µs)")
    for K in args.K:
        P = rd.Problem.orthonormal(K)
        W, V = xavier_init(P, 1, seed=0)[0], P.V
        n = K * K
        H, A, L = np.empty((n, n)), np.empty((n, n)), np.empty((n, n))
        G, x = np.empty((K, K)), np.empty(n)
        b = np.random.default_rng(0).normal(size=n)
        piv = np.empty(n, dtype=F_INT_nptype)
        hessian_kernel(W, V, H)
        H = 0.5 * (H + H.T)
        np.dot(H, H, A)
        reps = max(1, int(2e4 / n))
        with single_threaded_blas():
            row = [best_us(_hess, W, V, np.empty((n, n)), reps=reps),
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
