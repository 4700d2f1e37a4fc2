"""Numba kernels for gradient-descent ensembles.

``gd_grad`` computes the same gradient as :func:`reludyn.kernels.grad_kernel`
(to a few ulp; tests compare them) but is organized for the GD inner loop,
where it runs millions of times on one small (K, d) array:

* the teacher's norms and unit rows are prepared once per run, and the
  workspace is allocated once per run, not per step;
* all cosines come from one Gram product of unit rows, E_W [E_W; E_V]ᵀ, whose
  inner loop runs over the K + M partners and vectorizes;
* angles come from a branch-free, vectorizable arccos (fdlibm's rational
  approximation, within 1 ulp of libm); for nearly parallel or opposite pairs,
  |cos θ| > 0.9, sin θ is recomputed from the unit vectors as in the kernels
  and θ = asin(sin θ) (or π − asin) from the same series;
* the kernels are compiled with ``error_model="numpy"`` (no Python
  zero-division checks, which block vectorization); no fastmath.

``gd_ensemble_kernel`` runs B initializations in one ``prange`` loop; each run
stops on its own and its result depends only on its own W0 (no shared
reductions), so an ensemble equals B separate runs bit for bit.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..kernels import loss_grad_kernel, teacher_energy_kernel

TWO_PI = 2.0 * math.pi
# As in reludyn.kernels: above this |cos θ| the angle is recomputed from the unit
# vectors (sqrt(1 − c²) and acos(c) lose half their digits as |c| → 1).
_NEAR_PARALLEL = 0.9

# stop-reason codes (index into REASONS); RUNNING never leaves the kernel
CONVERGED, BUDGET, DIVERGED, DEAD_ROW, RUNNING = 0, 1, 2, 3, 4
REASONS = ("converged", "budget", "diverged", "dead_row")

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
def acos_fast_array(x, out):
    """out[i] = acos_fast(x[i]) for 1-D arrays (for tests)."""
    for i in range(x.shape[0]):
        out[i] = acos_fast(x[i])


@njit(cache=True, error_model="numpy")
def gd_workspace(W, V):
    """Per-run workspace for :func:`gd_grad`, with the teacher part filled in.

    Returns (X (N, d) raw rows [W; V], XT (d, N) unit rows transposed,
    nrm (N,) row norms, C (K, N) cosines, S (K, N) sines, T (K, N) angles,
    Cm (K, N) coefficients), N = K + M. The student part is refreshed by
    :func:`gd_grad` from X[:K], which holds the current iterate.
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
def gd_grad(K, X, XT, nrm, C, S, T, Cm, G):
    """Write ∇J (K, d) at the student W = X[:K] into G; X[K:] is the teacher V.

    Workspace from :func:`gd_workspace`. On return nrm[:K] holds the row norms
    of W. A zero row gets zero gradient and contributes nothing to the others
    (as in ``kernels.grad_kernel``).
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
        for t in range(d):
            G[j, t] = rad * XT[t, j]
        for n in range(N):
            cm = Cm[j, n]
            for t in range(d):
                G[j, t] += cm * X[n, t]
        if nrm[j] > 0.0:
            for t in range(d):
                G[j, t] = G[j, t] / TWO_PI
        else:
            for t in range(d):
                G[j, t] = 0.0  # relu'(0) = 0: a dead row receives no gradient


@njit(cache=True, error_model="numpy")
def gd_grad_simple(W, V, G):
    """:func:`gd_grad` for one W (K, d) and teacher V (M, d), allocating its workspace."""
    X, XT, nrm, C, S, T, Cm = gd_workspace(W, V)
    gd_grad(W.shape[0], X, XT, nrm, C, S, T, Cm, G)


@njit(cache=True, error_model="numpy")
def _grad_norm(G, use_fro):
    """Frobenius norm of G, or its largest row norm; NaN if G has a NaN."""
    K, d = G.shape
    best = 0.0
    tot = 0.0
    for j in range(K):
        acc = 0.0
        for t in range(d):
            acc += G[j, t] * G[j, t]
        tot += acc
        if acc > best or acc != acc:
            best = acc
    if use_fro:
        return math.sqrt(tot)
    return math.sqrt(best)


@njit(cache=True, error_model="numpy")
def gd_run(W, V, eta, tol, use_fro, max_steps, bound, dead_tol,
           rec_sched, rec_steps, rec_W, rec_gn):
    """Gradient descent W ← W − η∇J(W) on one W (K, d), in place, until a stop rule fires.

    Checks at every iterate W_t, in this order: non-finite W or ‖W‖_F > bound
    (diverged); a row norm <= dead_tol (dead_row); non-finite gradient
    (diverged); gradient norm < tol (converged); t = max_steps (budget).
    Records (t, W_t, ‖∇J(W_t)‖) at the steps listed in ``rec_sched`` (ascending)
    and at the final iterate into ``rec_steps`` (T,), ``rec_W`` (T, K, d),
    ``rec_gn`` (T,); T = 0 records nothing. Returns (steps, reason code, grad norm).
    """
    K, d = W.shape
    X, XT, nrm, C, S, T_, Cm = gd_workspace(W, V)
    G = np.empty((K, d))
    T = rec_steps.shape[0]
    n_sched = rec_sched.shape[0]
    nxt = 0
    slot = 0
    t = 0
    reason = RUNNING
    gn = np.nan
    while True:
        gd_grad(K, X, XT, nrm, C, S, T_, Cm, G)
        fro2 = 0.0
        amin = np.inf
        for j in range(K):
            fro2 += nrm[j] * nrm[j]
            amin = min(amin, nrm[j])
        gn = _grad_norm(G, use_fro)
        if not math.isfinite(fro2) or math.sqrt(fro2) > bound:
            reason = DIVERGED
        elif amin <= dead_tol:
            reason = DEAD_ROW
        elif not math.isfinite(gn):
            reason = DIVERGED
        elif gn < tol:
            reason = CONVERGED
        elif t >= max_steps:
            reason = BUDGET
        if T > 0:
            while nxt < n_sched and rec_sched[nxt] < t:
                nxt += 1
            scheduled = nxt < n_sched and rec_sched[nxt] == t
            if (scheduled or reason != RUNNING) and slot < T:
                rec_steps[slot] = t
                rec_gn[slot] = gn
                for j in range(K):
                    for p in range(d):
                        rec_W[slot, j, p] = X[j, p]
                slot += 1
        if reason != RUNNING:
            break
        for j in range(K):
            for p in range(d):
                X[j, p] -= eta * G[j, p]
        t += 1
    for j in range(K):
        for p in range(d):
            W[j, p] = X[j, p]
    return t, reason, gn


@njit(cache=True, parallel=True, error_model="numpy")
def gd_ensemble_kernel(Ws, V, eta, tol, use_fro, max_steps, bound, dead_tol,
                       rec_sched, rec_steps, rec_W, rec_gn, steps, reasons, gnorms):
    """:func:`gd_run` on every Ws[i] of (B, K, d), in place, in parallel over i.

    Per-run outputs go to slot i of ``steps`` (B,), ``reasons`` (B,), ``gnorms`` (B,),
    ``rec_steps`` (B, T), ``rec_W`` (B, T, K, d), ``rec_gn`` (B, T).
    """
    for i in prange(Ws.shape[0]):
        s, r, g = gd_run(Ws[i], V, eta, tol, use_fro, max_steps, bound, dead_tol,
                         rec_sched, rec_steps[i], rec_W[i], rec_gn[i])
        steps[i] = s
        reasons[i] = r
        gnorms[i] = g


@njit(cache=True, parallel=True)
def finite_loss_batch(Ws, V, out):
    """out[i] = J(Ws[i]) for Ws (B, K, d) where Ws[i] is finite, NaN otherwise."""
    te = teacher_energy_kernel(V)
    for i in prange(Ws.shape[0]):
        ok = True
        for j in range(Ws.shape[1]):
            for t in range(Ws.shape[2]):
                if not math.isfinite(Ws[i, j, t]):
                    ok = False
        if ok:
            G = np.empty(Ws.shape[1:])
            out[i] = loss_grad_kernel(Ws[i], V, G, te)
        else:
            out[i] = np.nan
