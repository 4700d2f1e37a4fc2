"""Row norms, Gram products and the pairwise angle geometry shared by every kernel.

Notation: student rows ``W`` (K, d), teacher rows ``V`` (M, d), N = K + M.
Angles are stored in one layout for the loss, the gradient and the Hessian:
``nrm`` (N,) the norms of [W; V], and ``C``, ``S``, ``T`` (K, N) the cosine,
sine and angle between student row j and row n of [W; V].
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

TWO_PI = 2.0 * math.pi
# Above this |cos θ| the angle is recomputed from the unit vectors, because
# sqrt(1 - c²) and acos(c) lose half their digits as |c| -> 1.
_NEAR_PARALLEL = 0.9
# Above this many multiply-adds the Gram matrix and the gradient assembly go
# through BLAS (np.dot), which beats any loop Numba emits for large K·d.
_BLAS_FLOPS = 40_000


@njit(cache=True, inline="always")
def row_norm(X, i):
    """Euclidean norm of row i of X, summed in index order."""
    acc = 0.0
    for t in range(X.shape[1]):
        acc += X[i, t] * X[i, t]
    return math.sqrt(acc)


@njit(cache=True, inline="always")
def matmul_into(A, B, out):
    """out = A @ B as plain loops (A (n, k), B (k, m)), each entry summed over k in order.

    The inner loop runs over contiguous rows of B and out, so it vectorizes;
    callers switch to BLAS above ``_BLAS_FLOPS``.
    """
    n, kk = A.shape
    m = B.shape[1]
    for j in range(n):
        for c in range(m):
            out[j, c] = 0.0
        for t in range(kk):
            x = A[j, t]
            for c in range(m):
                out[j, c] += x * B[t, c]


@njit(cache=True)
def _unit_rows(X, nrm, E):
    n, d = X.shape
    for i in range(n):
        if nrm[i] > 0.0:
            inv = 1.0 / nrm[i]
            for t in range(d):
                E[i, t] = X[i, t] * inv
        else:
            for t in range(d):
                E[i, t] = 0.0


@njit(cache=True)
def _rows_gram(W, V):
    """Norms of all rows of [W; V] (K + M,) and inner products w_j · [W; V]_k (K, K + M).

    Small sizes accumulate over a transposed copy so the inner loop is
    contiguous and vectorizes; large sizes call BLAS.
    """
    K, d = W.shape
    M = V.shape[0]
    n = K + M
    sq = np.empty(n)
    for j in range(K):
        sq[j] = row_norm(W, j)
    for m in range(M):
        sq[K + m] = row_norm(V, m)
    gram = np.empty((K, n))
    if K * n * d >= _BLAS_FLOPS:
        gram[:, :K] = np.dot(W, W.T)
        if M > 0:
            gram[:, K:] = np.dot(W, V.T)
        return sq, gram
    XT = np.empty((d, n))
    for j in range(K):
        for t in range(d):
            XT[t, j] = W[j, t]
    for m in range(M):
        for t in range(d):
            XT[t, K + m] = V[m, t]
    matmul_into(XT[:, :K].T, XT, gram)
    return sq, gram


@njit(cache=True)
def near_parallel_sin(U, i, ia, Y, k, ib, c):
    """sin θ = |ib·y_k − c·u_i·ia| between row i of U and row k of Y, given cos θ = c.

    ``ia``, ``ib`` scale the rows to unit length (1.0 for rows that already are).
    Free of the cancellation in sqrt(1 − c²), which loses half the digits as |c| -> 1.
    """
    acc = 0.0
    for t in range(U.shape[1]):
        q = Y[k, t] * ib - c * U[i, t] * ia
        acc += q * q
    return math.sqrt(acc)


@njit(cache=True)
def pair_angle(U, i, a, Y, k, b, dot):
    """(cos θ, sin θ, θ) between row i of U (norm a) and row k of Y (norm b), given their dot."""
    c = dot / (a * b)
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    if abs(c) <= _NEAR_PARALLEL:
        return c, math.sqrt(1.0 - c * c), math.acos(c)
    s = near_parallel_sin(U, i, 1.0 / a, Y, k, 1.0 / b, c)
    return c, s, math.atan2(s, c)


@njit(cache=True)
def geometry(W, V):
    """Norms, unit rows and the pairwise cos/sin/angle of every student row with [W; V].

    Returns (nrm (N,), E (N, d) unit rows of [W; V], C, S, T (K, N)), N = K + M.
    Pairs touching a zero row, and the diagonal, get c = 1, s = 0, θ = 0 (their
    contributions are all multiplied by the zero norm, except where callers
    treat dead rows explicitly).
    """
    K, d = W.shape
    M = V.shape[0]
    N = K + M
    nrm, gram = _rows_gram(W, V)
    E = np.empty((N, d))
    _unit_rows(W, nrm[:K], E[:K])
    _unit_rows(V, nrm[K:], E[K:])
    C = np.ones((K, N))
    S = np.zeros((K, N))
    T = np.zeros((K, N))
    for j in range(K):
        if nrm[j] == 0.0:
            continue
        for k in range(j + 1, K):
            if nrm[k] == 0.0:
                continue
            c, s, th = pair_angle(W, j, nrm[j], W, k, nrm[k], gram[j, k])
            C[j, k] = c
            C[k, j] = c
            S[j, k] = s
            S[k, j] = s
            T[j, k] = th
            T[k, j] = th
        for m in range(M):
            if nrm[K + m] == 0.0:
                continue
            c, s, th = pair_angle(W, j, nrm[j], V, m, nrm[K + m], gram[j, K + m])
            C[j, K + m] = c
            S[j, K + m] = s
            T[j, K + m] = th
    return nrm, E, C, S, T
