"""Numba kernels for the closed-form population loss, gradient and Hessian.

Everything here is a plain loop over C-contiguous float64 arrays and does no
validation: the public wrappers in :mod:`reludyn.landscape` check inputs.  The
serial kernels (``*_kernel``) may be called from other jitted code (the
dynamics ensembles call :func:`grad_kernel` inside ``prange`` loops).

Notation: student rows ``W`` (K, d), teacher rows ``V`` (M, d).  For two
vectors u, v at angle θ with s = sin θ, c = cos θ,

    κ(u, v)  = |u||v| (s + (π − θ) c) / (2π)
    ∂κ/∂u    = ((π − θ) v + |v| s e_u) / (2π)                        (gating lemma)
    ∂²κ/∂u²  = |v| / (2π|u|) [ s (I − e_u e_uᵀ) + q qᵀ / s ],  q = e_v − c e_u
    ∂²κ/∂u∂v = [ (π − θ) I + q rᵀ / s + s e_u e_vᵀ ] / (2π),  r = e_u − c e_v

and the q qᵀ/s, q rᵀ/s terms tend to 0 as s → 0 (|q| = |r| = s), which is the
continuous limit at coincident (θ = 0) and opposite (θ = π) rows.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

TWO_PI = 2.0 * math.pi
# Above this |cos θ| the angle is recomputed from the unit vectors, because
# sqrt(1 - c²) and acos(c) lose half their digits as |c| -> 1.
_NEAR_PARALLEL = 0.9


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


# Above this many multiply-adds the Gram matrix and the gradient assembly go
# through BLAS (np.dot), which beats any loop Numba emits for large K·d.
_BLAS_FLOPS = 40_000


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
        acc = 0.0
        for t in range(d):
            acc += W[j, t] * W[j, t]
        sq[j] = math.sqrt(acc)
    for m in range(M):
        acc = 0.0
        for t in range(d):
            acc += V[m, t] * V[m, t]
        sq[K + m] = math.sqrt(acc)
    if K * n * d >= _BLAS_FLOPS:
        gram = np.empty((K, n))
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
    gram = np.zeros((K, n))
    for t in range(d):
        for j in range(K):
            x = XT[t, j]
            for k in range(n):
                gram[j, k] += x * XT[t, k]
    return sq, gram


@njit(cache=True)
def _angle(U, i, a, Y, k, b, dot):
    """(cos θ, sin θ, θ) between row i of U (norm a) and row k of Y (norm b), given their dot."""
    c = dot / (a * b)
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    if abs(c) <= _NEAR_PARALLEL:
        return c, math.sqrt(1.0 - c * c), math.acos(c)
    # sin θ = |e_y − c e_u| avoids the cancellation in sqrt(1 − c²)
    acc = 0.0
    ia = 1.0 / a
    ib = 1.0 / b
    for t in range(U.shape[1]):
        q = Y[k, t] * ib - c * U[i, t] * ia
        acc += q * q
    s = math.sqrt(acc)
    return c, s, math.atan2(s, c)


@njit(cache=True)
def geometry(W, V):
    """Norms, unit rows and pairwise cos/sin/angle of student-student and student-teacher pairs.

    Returns (a, b, EW, EV, cww, sww, tww, cwv, swv, twv). Pairs touching a zero
    row get c = 1, s = 0, θ = 0 (their contributions are all multiplied by the
    zero norm, except where callers treat dead rows explicitly).
    """
    K, d = W.shape
    M = V.shape[0]
    nrm, gram = _rows_gram(W, V)
    a = nrm[:K].copy()
    b = nrm[K:].copy()
    EW = np.empty((K, d))
    EV = np.empty((M, d))
    _unit_rows(W, a, EW)
    _unit_rows(V, b, EV)
    cww = np.ones((K, K))
    sww = np.zeros((K, K))
    tww = np.zeros((K, K))
    cwv = np.ones((K, M))
    swv = np.zeros((K, M))
    twv = np.zeros((K, M))
    for j in range(K):
        if a[j] == 0.0:
            continue
        for k in range(j + 1, K):
            if a[k] == 0.0:
                continue
            c, s, th = _angle(W, j, a[j], W, k, a[k], gram[j, k])
            cww[j, k] = c
            cww[k, j] = c
            sww[j, k] = s
            sww[k, j] = s
            tww[j, k] = th
            tww[k, j] = th
        for m in range(M):
            if b[m] == 0.0:
                continue
            c, s, th = _angle(W, j, a[j], V, m, b[m], gram[j, K + m])
            cwv[j, m] = c
            swv[j, m] = s
            twv[j, m] = th
    return a, b, EW, EV, cww, sww, tww, cwv, swv, twv


@njit(cache=True)
def _teacher_energy(V):
    """½ Σ_{m,n} κ(v_m, v_n): the loss's constant term."""
    M = V.shape[0]
    nrm, gram = _rows_gram(V, V[:0])
    tot = 0.0
    for m in range(M):
        tot += 0.5 * math.pi * nrm[m] * nrm[m]
        if nrm[m] == 0.0:
            continue
        for n in range(m + 1, M):
            if nrm[n] == 0.0:
                continue
            c, s, th = _angle(V, m, nrm[m], V, n, nrm[n], gram[m, n])
            tot += nrm[m] * nrm[n] * (s + (math.pi - th) * c)
    return tot / TWO_PI


@njit(cache=True)
def _loss_from_geometry(a, b, cww, sww, tww, cwv, swv, twv, teacher_energy):
    K = a.shape[0]
    M = b.shape[0]
    ww = 0.0
    for j in range(K):
        ww += 0.5 * math.pi * a[j] * a[j]
        for k in range(j + 1, K):
            ww += a[j] * a[k] * (sww[j, k] + (math.pi - tww[j, k]) * cww[j, k])
    wv = 0.0
    for j in range(K):
        for m in range(M):
            wv += a[j] * b[m] * (swv[j, m] + (math.pi - twv[j, m]) * cwv[j, m])
    return (ww - wv) / TWO_PI + teacher_energy


@njit(cache=True)
def loss_kernel(W, V):
    """J(W) for one student (K, d) and teacher (M, d)."""
    a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(W, V)
    return _loss_from_geometry(a, b, cww, sww, tww, cwv, swv, twv, _teacher_energy(V))


# ---------------------------------------------------------------------------
# Gradient: the hot path of every optimizer. All cosines come from one Gram
# product of unit rows, angles from a branch-free arccos that vectorizes, and
# the workspace can be allocated once per run (grad_workspace) and reused.
# ---------------------------------------------------------------------------
# fdlibm e_acos.c constants: acos via asin(x) = x + x·R(x²) on |x| < 1/2 and the
# half-angle identity on 1/2 <= |x| <= 1.
_PIO2_HI = 1.57079632679489655800e+00
_PIO2_LO = 6.12323399573676603587e-17
_PS0 = 1.66666666666666657415e-01
_PS1 = -3.25565818622400915405e-01
_PS2 = 2.01212532134862925881e-01
_PS3 = -4.00555345006794114027e-02
_PS4 = 7.91534994289814532176e-04
_PS5 = 3.47933107596021167570e-05
_QS1 = -2.40339491173441421878e+00
_QS2 = 2.02094576023350569471e+00
_QS3 = -6.88283971605453293030e-01
_QS4 = 7.70381505559019352791e-02


@njit(cache=True, inline="always", error_model="numpy")
def acos_fast(x):
    """arccos(x) for x in [-1, 1] without branches (so loops over it vectorize); <= 1 ulp off libm."""
    ax = abs(x)
    small = ax < 0.5
    z = x * x if small else (1.0 - ax) * 0.5
    p = z * (_PS0 + z * (_PS1 + z * (_PS2 + z * (_PS3 + z * (_PS4 + z * _PS5)))))
    q = 1.0 + z * (_QS1 + z * (_QS2 + z * (_QS3 + z * _QS4)))
    r = p / q
    s = math.sqrt(z)
    big = 2.0 * (s + s * r)
    res_small = _PIO2_HI - (x - (_PIO2_LO - x * r))
    res_big = big if x > 0.0 else 2.0 * _PIO2_HI - big
    return res_small if small else res_big


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
        acc = 0.0
        for t in range(d):
            acc += V[m, t] * V[m, t]
        nrm[K + m] = math.sqrt(acc)
        for t in range(d):
            XT[t, K + m] = V[m, t] / nrm[K + m]
    C = np.empty((K, N))
    S = np.empty((K, N))
    T = np.empty((K, N))
    Cm = np.empty((K, N))
    return X, XT, nrm, C, S, T, Cm


@njit(cache=True, inline="always", error_model="numpy")
def _asin_small(x):
    """arcsin(x) for 0 <= x < 1/2 (fdlibm's x + x·R(x²), within 1 ulp)."""
    z = x * x
    p = z * (_PS0 + z * (_PS1 + z * (_PS2 + z * (_PS3 + z * (_PS4 + z * _PS5)))))
    q = 1.0 + z * (_QS1 + z * (_QS2 + z * (_QS3 + z * _QS4)))
    return x + x * (p / q)


@njit(cache=True, error_model="numpy")
def asin_small_array(x, out):
    """out[i] = _asin_small(x[i]) for 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = _asin_small(x[i])


@njit(cache=True, error_model="numpy")
def _fix_near_parallel(XT, j, n, c):
    """(sin θ, θ) for |cos θ| > 0.9: sin θ = ‖e_n − c e_j‖ from the unit vectors (as kernels._angle),
    θ = asin(sin θ) or π − asin(sin θ) (sin θ < 0.44 here, where the asin series is exact to 1 ulp)."""
    acc = 0.0
    for t in range(XT.shape[0]):
        q = XT[t, n] - c * XT[t, j]
        acc += q * q
    s = math.sqrt(acc)
    th = _asin_small(s)
    return s, (th if c > 0.0 else math.pi - th)


@njit(cache=True, error_model="numpy")
def grad_into(K, X, XT, nrm, C, S, T, Cm, G):
    """Write ∇J (K, d) at the student W = X[:K] into G; X[K:] is the teacher V.

    Workspace from :func:`grad_workspace`. On return nrm[:K] holds the row norms
    of W. A zero row gets zero gradient and contributes nothing to the others.
    Above _BLAS_FLOPS the Gram product and the assembly call BLAS.
    """
    N, d = X.shape
    for j in range(K):
        acc = 0.0
        for t in range(d):
            acc += X[j, t] * X[j, t]
        a = math.sqrt(acc)
        nrm[j] = a
        inv = 1.0 / a if a > 0.0 else 0.0
        for t in range(d):
            XT[t, j] = X[j, t] * inv
    # cosines of every (student, partner) pair: C = E_W [E_W; E_V]ᵀ
    big = K * N * d >= _BLAS_FLOPS
    if big:
        EW = np.empty((K, d))
        for j in range(K):
            for t in range(d):
                EW[j, t] = XT[t, j]
        C[:, :] = np.dot(EW, XT)
    else:
        for j in range(K):
            for n in range(N):
                C[j, n] = 0.0
            for t in range(d):
                x = XT[t, j]
                for n in range(N):
                    C[j, n] += x * XT[t, n]
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
    # nearly parallel pairs: recompute as kernels._angle; student pairs once, mirrored
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
    if big:
        G[:, :] = np.dot(Cm, X)
    else:
        for j in range(K):
            for t in range(d):
                G[j, t] = 0.0
            for n in range(N):
                cm = Cm[j, n]
                for t in range(d):
                    G[j, t] += cm * X[n, t]
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
def _loss_from_workspace(K, nrm, C, S, T, teacher_energy):
    """J from the angles left in the workspace by :func:`grad_into`."""
    N = nrm.shape[0]
    ww = 0.0
    wv = 0.0
    for j in range(K):
        aj = nrm[j]
        ww += 0.5 * math.pi * aj * aj
        for n in range(j + 1, N):
            h = aj * nrm[n] * (S[j, n] + (math.pi - T[j, n]) * C[j, n])
            if n < K:
                ww += h
            else:
                wv += h
    return (ww - wv) / TWO_PI + teacher_energy


@njit(cache=True, error_model="numpy")
def grad_kernel(W, V, G):
    """Write ∇J(W) (K, d) into G; the gradient of a zero row is 0."""
    X, XT, nrm, C, S, T, Cm = grad_workspace(W, V)
    grad_into(W.shape[0], X, XT, nrm, C, S, T, Cm, G)


@njit(cache=True, error_model="numpy")
def loss_grad_kernel(W, V, G, teacher_energy):
    """Write ∇J(W) into G and return J(W); ``teacher_energy`` = teacher_energy_kernel(V), precomputed once."""
    X, XT, nrm, C, S, T, Cm = grad_workspace(W, V)
    grad_into(W.shape[0], X, XT, nrm, C, S, T, Cm, G)
    return _loss_from_workspace(W.shape[0], nrm, C, S, T, teacher_energy)


@njit(cache=True, error_model="numpy")
def acos_fast_array(x, out):
    """out[i] = acos_fast(x[i]) for 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = acos_fast(x[i])


@njit(cache=True)
def _add_diag_block(H, j, EW, e2, b, a, c, s, sign):
    """H_jj += sign · ∂²κ(w_j, u)/∂w_j² for a partner u with unit row e2 and norm b."""
    d = EW.shape[1]
    f = sign * b / (TWO_PI * a)
    o = j * d
    for p in range(d):
        H[o + p, o + p] += f * s
        for r in range(d):
            H[o + p, o + r] -= f * s * EW[j, p] * EW[j, r]
    if s > 0.0:
        g = f / s
        for p in range(d):
            qp = e2[p] - c * EW[j, p]
            for r in range(d):
                H[o + p, o + r] += g * qp * (e2[r] - c * EW[j, r])


@njit(cache=True)
def hessian_kernel(W, V, H):
    """Write the Hessian of J (K·d, K·d), rows of W flattened row-major, into H.

    The caller guarantees no student row is zero (J is not twice
    differentiable there).
    """
    K, d = W.shape
    M = V.shape[0]
    a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(W, V)
    for i in range(K * d):
        for i2 in range(K * d):
            H[i, i2] = 0.0
    for j in range(K):
        o = j * d
        for p in range(d):
            H[o + p, o + p] += 0.5
        for k in range(K):
            if k == j:
                continue
            c = cww[j, k]
            s = sww[j, k]
            _add_diag_block(H, j, EW, EW[k], a[k], a[j], c, s, 1.0)
            # mixed block ∂²κ(w_j, w_k)/∂w_j∂w_k
            ok = k * d
            base = (math.pi - tww[j, k]) / TWO_PI
            for p in range(d):
                H[o + p, ok + p] += base
                for r in range(d):
                    H[o + p, ok + r] += s * EW[j, p] * EW[k, r] / TWO_PI
            if s > 0.0:
                g = 1.0 / (TWO_PI * s)
                for p in range(d):
                    qp = EW[k, p] - c * EW[j, p]
                    for r in range(d):
                        H[o + p, ok + r] += g * qp * (EW[j, r] - c * EW[k, r])
        for m in range(M):
            if b[m] == 0.0:
                continue
            _add_diag_block(H, j, EW, EV[m], b[m], a[j], cwv[j, m], swv[j, m], -1.0)


@njit(cache=True, parallel=True)
def loss_batch_kernel(Ws, V, out):
    te = _teacher_energy(V)
    for i in prange(Ws.shape[0]):
        a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(Ws[i], V)
        out[i] = _loss_from_geometry(a, b, cww, sww, tww, cwv, swv, twv, te)


@njit(cache=True, parallel=True)
def grad_batch_kernel(Ws, V, out):
    for i in prange(Ws.shape[0]):
        grad_kernel(Ws[i], V, out[i])


@njit(cache=True, parallel=True)
def loss_grad_batch_kernel(Ws, V, G, L):
    te = _teacher_energy(V)
    for i in prange(Ws.shape[0]):
        L[i] = loss_grad_kernel(Ws[i], V, G[i], te)


@njit(cache=True, parallel=True)
def hessian_batch_kernel(Ws, V, out):
    for i in prange(Ws.shape[0]):
        hessian_kernel(Ws[i], V, out[i])


@njit(cache=True)
def teacher_energy_kernel(V):
    return _teacher_energy(V)


@njit(cache=True)
def scan_inputs(Wflat, V):
    """0 if all inputs are usable, else 1: W not finite, 2: V not finite, 3: V has a zero row.

    Lets the public wrappers skip NumPy-level checks on the fast path; on a
    nonzero code they rerun the detailed Python validation to name the problem.
    """
    for i in range(Wflat.shape[0]):
        if not math.isfinite(Wflat[i]):
            return 1
    M, d = V.shape
    for m in range(M):
        nz = False
        for t in range(d):
            x = V[m, t]
            if not math.isfinite(x):
                return 2
            if x != 0.0:
                nz = True
        if not nz:
            return 3
    return 0


@njit(cache=True)
def grad_entry(W, V, G):
    """Checked single-point gradient: returns scan_inputs' code (G untouched unless 0)."""
    code = scan_inputs(W.reshape(-1), V)
    if code == 0:
        grad_kernel(W, V, G)
    return code


@njit(cache=True)
def loss_entry(W, V, out):
    code = scan_inputs(W.reshape(-1), V)
    if code == 0:
        out[0] = loss_kernel(W, V)
    return code
