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
def _norms(X, out):
    n, d = X.shape
    for i in range(n):
        acc = 0.0
        for t in range(d):
            acc += X[i, t] * X[i, t]
        out[i] = math.sqrt(acc)


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
def _cross_gram(W, V, out):
    """out[j, m] = w_j · v_m, accumulated column-wise so the inner loop vectorizes."""
    K, d = W.shape
    M = V.shape[0]
    VT = np.empty((d, M))
    for m in range(M):
        for t in range(d):
            VT[t, m] = V[m, t]
    for j in range(K):
        for m in range(M):
            out[j, m] = 0.0
    for j in range(K):
        for t in range(d):
            x = W[j, t]
            for m in range(M):
                out[j, m] += x * VT[t, m]


@njit(cache=True)
def _angle(Eu, i, Ev, k, dot, a, b):
    """Return (cos θ, sin θ, θ) between row i of Eu and row k of Ev.

    ``dot`` is the raw inner product of the unnormalized rows with norms a, b.
    """
    c = dot / (a * b)
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    if abs(c) <= _NEAR_PARALLEL:
        s = math.sqrt(1.0 - c * c)
        return c, s, math.acos(c)
    acc = 0.0
    for t in range(Eu.shape[1]):
        q = Ev[k, t] - c * Eu[i, t]
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
    a = np.empty(K)
    b = np.empty(M)
    _norms(W, a)
    _norms(V, b)
    EW = np.empty((K, d))
    EV = np.empty((M, d))
    _unit_rows(W, a, EW)
    _unit_rows(V, b, EV)
    gww = np.empty((K, K))
    gwv = np.empty((K, M))
    _cross_gram(W, W, gww)
    _cross_gram(W, V, gwv)
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
            c, s, th = _angle(EW, j, EW, k, gww[j, k], a[j], a[k])
            cww[j, k] = c
            cww[k, j] = c
            sww[j, k] = s
            sww[k, j] = s
            tww[j, k] = th
            tww[k, j] = th
        for m in range(M):
            if b[m] == 0.0:
                continue
            c, s, th = _angle(EW, j, EV, m, gwv[j, m], a[j], b[m])
            cwv[j, m] = c
            swv[j, m] = s
            twv[j, m] = th
    return a, b, EW, EV, cww, sww, tww, cwv, swv, twv


@njit(cache=True)
def _teacher_energy(V):
    """½ Σ_{m,n} κ(v_m, v_n): the loss's constant term."""
    M = V.shape[0]
    b = np.empty(M)
    _norms(V, b)
    EV = np.empty(V.shape)
    _unit_rows(V, b, EV)
    g = np.empty((M, M))
    _cross_gram(V, V, g)
    tot = 0.0
    for m in range(M):
        tot += 0.5 * math.pi * b[m] * b[m]
        if b[m] == 0.0:
            continue
        for n in range(m + 1, M):
            if b[n] == 0.0:
                continue
            c, s, th = _angle(EV, m, EV, n, g[m, n], b[m], b[n])
            tot += b[m] * b[n] * (s + (math.pi - th) * c)
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
def _grad_from_geometry(W, V, a, b, EW, sww, tww, swv, twv, G):
    """∇_{w_j} J = Σ_k ∂κ(w_j, w_k)/∂w_j − Σ_m ∂κ(w_j, v_m)/∂w_j; zero for dead rows."""
    K, d = W.shape
    M = V.shape[0]
    for j in range(K):
        for t in range(d):
            G[j, t] = 0.0
        if a[j] == 0.0:
            continue  # relu'(0) = 0: a dead row receives no gradient
        radial = 0.0
        for k in range(K):
            if k == j:
                coef = math.pi
            else:
                coef = math.pi - tww[j, k]
                radial += a[k] * sww[j, k]
            for t in range(d):
                G[j, t] += coef * W[k, t]
        for m in range(M):
            coef = math.pi - twv[j, m]
            radial -= b[m] * swv[j, m]
            for t in range(d):
                G[j, t] -= coef * V[m, t]
        for t in range(d):
            G[j, t] = (G[j, t] + radial * EW[j, t]) / TWO_PI


@njit(cache=True)
def loss_kernel(W, V):
    """J(W) for one student (K, d) and teacher (M, d)."""
    a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(W, V)
    return _loss_from_geometry(a, b, cww, sww, tww, cwv, swv, twv, _teacher_energy(V))


@njit(cache=True)
def grad_kernel(W, V, G):
    """Write ∇J(W) into G (K, d)."""
    a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(W, V)
    _grad_from_geometry(W, V, a, b, EW, sww, tww, swv, twv, G)


@njit(cache=True)
def loss_grad_kernel(W, V, G, teacher_energy):
    """Write ∇J(W) into G and return J(W); ``teacher_energy`` is ½Σκ(v_m, v_n), precomputed once."""
    a, b, EW, EV, cww, sww, tww, cwv, swv, twv = geometry(W, V)
    _grad_from_geometry(W, V, a, b, EW, sww, tww, swv, twv, G)
    return _loss_from_geometry(a, b, cww, sww, tww, cwv, swv, twv, teacher_energy)


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
