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


@njit(cache=True)
def _fused_loss_grad(W, V, G, teacher_energy):
    """Write ∇J(W) into G (K, d); return J(W) (teacher_energy = ½Σκ(v_m, v_n) supplied).

    The optimizers' hot path: one pass over the pairs, no geometry arrays.
    """
    K, d = W.shape
    M = V.shape[0]
    nrm, gram = _rows_gram(W, V)
    cw = np.empty((K, K))  # coefficient of w_k in 2π ∇_{w_j} J
    cv = np.empty((K, M))  # coefficient of v_m
    rad = np.zeros(K)  # coefficient of e_j
    ww = 0.0
    wv = 0.0
    for j in range(K):
        cw[j, j] = math.pi
        aj = nrm[j]
        ww += 0.5 * math.pi * aj * aj
        for k in range(j + 1, K):
            ak = nrm[k]
            if aj == 0.0 or ak == 0.0:
                cw[j, k] = math.pi  # multiplies a zero row, or row j is dead
                cw[k, j] = math.pi
                continue
            c, s, th = _angle(W, j, aj, W, k, ak, gram[j, k])
            cw[j, k] = math.pi - th
            cw[k, j] = math.pi - th
            rad[j] += ak * s
            rad[k] += aj * s
            ww += aj * ak * (s + (math.pi - th) * c)
        for m in range(M):
            bm = nrm[K + m]
            if aj == 0.0 or bm == 0.0:
                cv[j, m] = 0.0
                continue
            c, s, th = _angle(W, j, aj, V, m, bm, gram[j, K + m])
            cv[j, m] = th - math.pi
            rad[j] -= bm * s
            wv += aj * bm * (s + (math.pi - th) * c)
    if K * (K + M) * d >= _BLAS_FLOPS:
        G[:, :] = np.dot(cw, W)
        if M > 0:
            G[:, :] += np.dot(cv, V)
    else:
        for j in range(K):
            for t in range(d):
                G[j, t] = 0.0
            for k in range(K):
                f = cw[j, k]
                for t in range(d):
                    G[j, t] += f * W[k, t]
            for m in range(M):
                f = cv[j, m]
                for t in range(d):
                    G[j, t] += f * V[m, t]
    for j in range(K):
        if nrm[j] == 0.0:
            for t in range(d):
                G[j, t] = 0.0  # relu'(0) = 0: a dead row receives no gradient
            continue
        f = rad[j] / nrm[j]
        for t in range(d):
            G[j, t] = (G[j, t] + f * W[j, t]) / TWO_PI
    return (ww - wv) / TWO_PI + teacher_energy


@njit(cache=True)
def grad_kernel(W, V, G):
    """Write ∇J(W) (K, d) into G; the gradient of a zero row is 0."""
    _fused_loss_grad(W, V, G, 0.0)


@njit(cache=True)
def loss_grad_kernel(W, V, G, teacher_energy):
    """Write ∇J(W) into G and return J(W); ``teacher_energy`` = teacher_energy_kernel(V), precomputed once."""
    return _fused_loss_grad(W, V, G, teacher_energy)


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
        _fused_loss_grad(W, V, G, 0.0)
    return code


@njit(cache=True)
def loss_entry(W, V, out):
    code = scan_inputs(W.reshape(-1), V)
    if code == 0:
        out[0] = loss_kernel(W, V)
    return code
