"""The gradient kernel as it was before the speed work (issue 12), kept as a test oracle.

A verbatim copy of ``grad_workspace``/``grad_into``/``grad_kernel`` from
reludyn/kernels/gradient.py at main 555f366 (the fdlibm arccos and the angle
helpers it calls are imported, unchanged): the tuned kernel must agree with it
(tests/test_kernels.py) and the gradient-descent ensembles built on each must
end at the same points (tests/test_dynamics_gd.py).
"""
import math

import numpy as np
from numba import njit

from reludyn.kernels.angles import _BLAS_FLOPS, _NEAR_PARALLEL, TWO_PI, matmul_into, near_parallel_sin, row_norm
from reludyn.kernels.gradient import acos_fast, asin_small


@njit(cache=True, error_model="numpy")
def _fix_near_parallel(XT, j, n, c):
    """(sin θ, θ) for |cos θ| > 0.9 from the unit columns j, n of XT (d, N), as the geometry does:
    θ = asin(sin θ) or π − asin(sin θ) (sin θ < 0.44 here, where the asin series is exact to 1 ulp)."""
    U = XT.T
    s = near_parallel_sin(U, j, 1.0, U, n, 1.0, c)
    th = asin_small(s)
    return s, (th if c > 0.0 else math.pi - th)


@njit(cache=True, error_model="numpy")
def grad_workspace(W, V):
    """Per-run workspace for (:func:`grad_into`), with the teacher part filled in.

    Returns (X (N, d) raw rows [W; V], XT (d, N) unit rows transposed,
    nrm (N,) row norms, C (K, N) cosines, S (K, N) sines, T (K, N) angles,
    Cm (K, N) coefficients), N = K + M. The student part is refreshed by
    (:func:`grad_into`) from X[:K], which holds the current iterate.
    """
    K, d = W.shape
    M = V.shape[0]
    N = K + M
    X = np.empty((N, d))
    XT = np.empty((d, N))
    nrm = np.empty(N)
    for n in range(N):
        for t in range(d):
            X[n, t] = W[n, t] if n < K else V[n - K, t]
    for m in range(M):
        nrm[K + m] = row_norm(V, m)
        for t in range(d):
            XT[t, K + m] = V[m, t] / nrm[K + m]
    C = np.empty((K, N))
    S = np.empty((K, N))
    T = np.empty((K, N))
    Cm = np.empty((K, N))
    return X, XT, nrm, C, S, T, Cm


@njit(cache=True, error_model="numpy")
def _product(A, B, out, big):
    """out = A @ B: BLAS when ``big``, else the ordered loops of :func:`matmul_into`."""
    if big:
        out[:, :] = np.dot(np.ascontiguousarray(A), B)
    else:
        matmul_into(A, B, out)


@njit(cache=True, error_model="numpy")
def grad_into(K, X, XT, nrm, C, S, T, Cm, G):
    """Write ∇J (K, d) at the student W = X[:K] into G; X[K:] is the teacher V.

    Workspace from :func:`grad_workspace`. On return nrm[:K] holds the row norms
    of W and C, S, T (K, N) the cos/sin/angle of each student row with [W; V]
    (S[j, j] = 0), the layout :func:`.loss.loss_from_angles` reads. A zero row
    gets zero gradient and contributes nothing to the others. Above _BLAS_FLOPS
    the Gram product and the assembly call BLAS.
    """
    N, d = X.shape
    for j in range(K):
        a = row_norm(X, j)
        nrm[j] = a
        inv = 1.0 / a if a > 0.0 else 0.0
        for t in range(d):
            XT[t, j] = X[j, t] * inv
    # cosines of every (student, partner) pair: C = E_W [E_W; E_V]ᵀ
    big = K * N * d >= _BLAS_FLOPS
    _product(XT[:, :K].T, XT, C, big)
    # sines and angles, branch-free (vectorized)
    for j in range(K):
        for n in range(N):
            c = C[j, n]
            c = c if c < 1.0 else 1.0
            c = c if c > -1.0 else -1.0
            C[j, n] = c
            u = 1.0 - c * c
            S[j, n] = math.sqrt(u if u > 0.0 else 0.0)
            T[j, n] = acos_fast(c)
    # nearly parallel pairs: recompute as the geometry does; student pairs once, mirrored
    for j in range(K):
        for n in range(N):
            if n < K and n <= j:
                continue
            c = C[j, n]
            if abs(c) > _NEAR_PARALLEL:
                s, th = _fix_near_parallel(XT, j, n, c)
                S[j, n] = s
                T[j, n] = th
                if n < K:
                    S[n, j] = s
                    T[n, j] = th
    # coefficients: G_j = [Σ_n Cm_jn x_n + (Σ_{k≠j} |w_k| s_jk − Σ_m |v_m| s_jm) e_j] / 2π
    for j in range(K):
        S[j, j] = 0.0  # the row itself: coefficient π, no radial term
        rad = 0.0
        for n in range(N):
            if n < K:
                Cm[j, n] = math.pi - T[j, n]
                rad += nrm[n] * S[j, n]
            else:
                Cm[j, n] = T[j, n] - math.pi
                rad -= nrm[n] * S[j, n]
        Cm[j, j] = math.pi
        # the radial term goes through S[j, j], which no coefficient reads again
        S[j, j] = rad
    _product(Cm, X, G, big)
    for j in range(K):
        rad = S[j, j]
        S[j, j] = 0.0
        if nrm[j] > 0.0:
            for t in range(d):
                G[j, t] = (G[j, t] + rad * XT[t, j]) / TWO_PI
        else:
            for t in range(d):
                G[j, t] = 0.0  # relu'(0) = 0: a dead row receives no gradient


@njit(cache=True, error_model="numpy")
def grad_kernel(W, V, G):
    """Write ∇J(W) (K, d) into G; the gradient of a zero row is 0."""
    X, XT, nrm, C, S, T, Cm = grad_workspace(W, V)
    grad_into(W.shape[0], X, XT, nrm, C, S, T, Cm, G)


@njit(cache=True, error_model="numpy")
def gd_reference(W0, V, eta, tol, use_fro, max_steps):
    """Plain gradient descent on the reference gradient with gd_run's stop rules (no
    recording, no dead-row tolerance): returns (W, steps, reason code) with the codes of
    reludyn.dynamics._gdkernel (0 converged, 1 budget, 2 diverged, 3 dead_row)."""
    W = W0.copy()
    K, d = W.shape
    G = np.empty((K, d))
    t = 0
    while True:
        grad_kernel(W, V, G)
        fro2 = 0.0
        amin = np.inf
        best = 0.0
        tot = 0.0
        for j in range(K):
            a = 0.0
            g = 0.0
            for p in range(d):
                a += W[j, p] * W[j, p]
                g += G[j, p] * G[j, p]
            fro2 += a
            amin = min(amin, math.sqrt(a))
            tot += g
            if g > best or g != g:
                best = g
        gn = math.sqrt(tot) if use_fro else math.sqrt(best)
        if not math.isfinite(fro2) or math.sqrt(fro2) > 1e8 or not math.isfinite(gn):
            return W, t, 2
        if amin <= 0.0:
            return W, t, 3
        if gn < tol:
            return W, t, 0
        if t >= max_steps:
            return W, t, 1
        for j in range(K):
            for p in range(d):
                W[j, p] -= eta * G[j, p]
        t += 1
