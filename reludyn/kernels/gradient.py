"""The gradient: the hot path of every optimizer.

All cosines come from one Gram product of unit rows (below the BLAS size, blocks of the
output held in vector registers, :mod:`.simd`), angles from a branch-free arccos that
vectorizes, and the workspace can be allocated once per run
(:func:`grad_workspace`) and reused (the gradient-descent ensembles call
:func:`grad_into` inside ``prange`` loops).

    ∂κ(w_j, u)/∂w_j = ((π − θ) u + |u| s e_j) / (2π)          (gating lemma)
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .angles import _BLAS_FLOPS, _NEAR_PARALLEL, TWO_PI, matmul_into, near_parallel_sin, row_norm
from .loss import loss_from_angles
from .simd import matmul_blocked
from .views import flat, rows

# fdlibm e_acos.c / e_asin.c constants: asin(x) = x + x·R(x²) on |x| < 1/2, with
# R(z) = p(z)/q(z), and the half-angle identity on 1/2 <= |x| <= 1.
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
def _asin_ratio(z):
    """fdlibm's rational R(z) = p(z)/q(z), with asin(x) = x + x·R(x²) for |x| < 1/2."""
    p = z * (_PS0 + z * (_PS1 + z * (_PS2 + z * (_PS3 + z * (_PS4 + z * _PS5)))))
    q = 1.0 + z * (_QS1 + z * (_QS2 + z * (_QS3 + z * _QS4)))
    return p / q


@njit(cache=True, inline="always", error_model="numpy")
def acos_fast(x):
    """arccos(x) for x in [-1, 1] without branches (so loops over it vectorize); <= 1 ulp off libm."""
    ax = abs(x)
    small = ax < 0.5
    z = x * x if small else (1.0 - ax) * 0.5
    r = _asin_ratio(z)
    s = math.sqrt(z)
    big = 2.0 * (s + s * r)
    res_small = _PIO2_HI - (x - (_PIO2_LO - x * r))
    res_big = big if x > 0.0 else 2.0 * _PIO2_HI - big
    return res_small if small else res_big


@njit(cache=True, inline="always", error_model="numpy")
def asin_small(x):
    """arcsin(x) for 0 <= x < 1/2 (fdlibm's x + x·R(x²), within 1 ulp)."""
    return x + x * _asin_ratio(x * x)


@njit(cache=True, error_model="numpy")
def _fix_near_parallel(XT, j, n, c):
    """(sin θ, θ) for |cos θ| > 0.9 from the unit columns j, n of XT (d, N), as the geometry does:
    θ = asin(sin θ) or π − asin(sin θ) (sin θ < 0.44 here, where the asin series is exact to 1 ulp)."""
    U = XT.T
    s = near_parallel_sin(U, j, 1.0, U, n, 1.0, c)
    th = asin_small(s)
    return s, (th if c > 0.0 else math.pi - th)


# Below this output row length the small products keep blocks of two output rows in
# registers (measured, same process: 0.93 -> 0.45 µs for the assembly at K = M = d = 10,
# 0.64 -> 0.43 µs for the Gram; no gain once rows are long enough for the row loop to vectorize).
_SHORT_ROWS = 21


@njit(cache=True, inline="always", error_model="numpy")
def _product_short_rows(A, B, out):
    """out = A @ B (A (K, N), B (N, m), m small), each entry summed over n in order from 0.0
    exactly as the row loop (``out[j] += A[j, n] * B[n]``) sums it, so bit for bit the same.

    The row loop leaves short rows mostly in its scalar remainder; here two output rows
    and four columns at a time accumulate in registers (eight independent add chains
    instead of one per column). An odd last row is paired with itself (computed twice)."""
    K, N = A.shape
    m = B.shape[1]
    for j in range(0, K, 2):
        j1 = j + 1 if j + 1 < K else j
        t = 0
        while t + 4 <= m:
            a0 = a1 = a2 = a3 = 0.0
            b0 = b1 = b2 = b3 = 0.0
            for n in range(N):
                x = A[j, n]
                y = A[j1, n]
                v0 = B[n, t]
                v1 = B[n, t + 1]
                v2 = B[n, t + 2]
                v3 = B[n, t + 3]
                a0 += x * v0
                a1 += x * v1
                a2 += x * v2
                a3 += x * v3
                b0 += y * v0
                b1 += y * v1
                b2 += y * v2
                b3 += y * v3
            out[j, t] = a0
            out[j, t + 1] = a1
            out[j, t + 2] = a2
            out[j, t + 3] = a3
            out[j1, t] = b0
            out[j1, t + 1] = b1
            out[j1, t + 2] = b2
            out[j1, t + 3] = b3
            t += 4
        while t + 2 <= m:
            a0 = a1 = b0 = b1 = 0.0
            for n in range(N):
                x = A[j, n]
                y = A[j1, n]
                v0 = B[n, t]
                v1 = B[n, t + 1]
                a0 += x * v0
                a1 += x * v1
                b0 += y * v0
                b1 += y * v1
            out[j, t] = a0
            out[j, t + 1] = a1
            out[j1, t] = b0
            out[j1, t + 1] = b1
            t += 2
        if t < m:
            a0 = b0 = 0.0
            for n in range(N):
                v0 = B[n, t]
                a0 += A[j, n] * v0
                b0 += A[j1, n] * v0
            out[j, t] = a0
            out[j1, t] = b0


# From this many multiply-adds (and four output columns) the vector-register blocks of
# :func:`.simd.matmul_blocked` win (``python benchmarks/bench_kernels.py``, "product" rows:
# the Gram product at K = M = d = 10, 0.43 -> 0.28 µs; at K = M = d = 20, 3.1 -> 1.3 µs, on
# par with BLAS); below it the call and the ragged blocks cost more than they save.
_BLOCKED_MACS = 1000


@njit(cache=True, inline="always", error_model="numpy")
def _product(A, B, out, big):
    """out = A @ B: BLAS when ``big``, vector-register blocks for mid sizes, register blocks
    for short output rows, else the row loop (:func:`.angles.matmul_into`); all but BLAS
    sum each entry in the same order, so they agree bit for bit."""
    m = out.shape[1]
    if big:
        np.dot(A, B, out)
    elif m >= 4 and A.shape[0] * A.shape[1] * m >= _BLOCKED_MACS:
        matmul_blocked(A, B, out)
    elif m < _SHORT_ROWS:
        _product_short_rows(A, B, out)
    else:
        matmul_into(A, B, out)


@njit(cache=True, inline="always", error_model="numpy")
def _row_norms_into(X, lo, hi, nrm):
    """nrm[i] = ‖X[i]‖ for lo <= i < hi, each summed in index order as :func:`.angles.row_norm`
    does, four rows at a time so the four add chains overlap (one chain is latency bound)."""
    d = X.shape[1]
    i = lo
    while i + 4 <= hi:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for t in range(d):
            a0 += X[i, t] * X[i, t]
            a1 += X[i + 1, t] * X[i + 1, t]
            a2 += X[i + 2, t] * X[i + 2, t]
            a3 += X[i + 3, t] * X[i + 3, t]
        nrm[i] = math.sqrt(a0)
        nrm[i + 1] = math.sqrt(a1)
        nrm[i + 2] = math.sqrt(a2)
        nrm[i + 3] = math.sqrt(a3)
        i += 4
    while i < hi:
        nrm[i] = row_norm(X, i)
        i += 1


@njit(cache=True, error_model="numpy")
def grad_workspace(W, V):
    """Per-run workspace for (:func:`grad_into`), with the teacher part filled in.

    Returns (X (N, d) rows [W; −V], XT (d, N) unit rows of [W; V] transposed,
    nrm (N,) row norms, C (K, N) cosines, S (K, N) sines, T (K, N) angles,
    Cm (K, N) coefficients π − θ), N = K + M. The student part is refreshed by
    (:func:`grad_into`) from X[:K], which holds the current iterate. The teacher rows
    are stored negated so that one product Σ_n (π − θ_jn) x_n assembles the gradient
    (π − θ times −v is −((π − θ) v), bit for bit the (θ − π) v of the formula). All seven
    are C-contiguous views of one allocation (one malloc per run, not seven).
    """
    K, d = W.shape
    M = V.shape[0]
    N = K + M
    KN = K * N
    buf = np.empty(2 * N * d + N + 4 * KN)
    X = rows(buf, 0, N, d)
    o = N * d
    XT = rows(buf, o, d, N)
    o += N * d
    nrm = buf[o:o + N]
    o += N
    C = rows(buf, o, K, N)
    S = rows(buf, o + KN, K, N)
    T = rows(buf, o + 2 * KN, K, N)
    Cm = rows(buf, o + 3 * KN, K, N)
    for n in range(K):
        for t in range(d):
            X[n, t] = W[n, t]
    _row_norms_into(V, 0, M, nrm[K:])
    for t in range(d):  # transposed copy, then a division along XT's rows (it vectorizes)
        for m in range(M):
            XT[t, K + m] = V[m, t]
        for n in range(K, N):
            XT[t, n] = XT[t, n] / nrm[n]
    for m in range(M):
        for t in range(d):
            X[K + m, t] = -V[m, t]
    return X, XT, nrm, C, S, T, Cm


@njit(cache=True, inline="always", error_model="numpy")
def _unit_students(K, X, XT, nrm, G):
    """nrm[:K] = ‖w_j‖; unit student rows row-major in G and as the columns of XT[:, :K]."""
    d = X.shape[1]
    _row_norms_into(X, 0, K, nrm)
    for j in range(K):
        a = nrm[j]
        inv = 1.0 / a if a > 0.0 else 0.0
        for t in range(d):
            G[j, t] = X[j, t] * inv
    # transposed into the columns of XT (strided reads are cheaper than strided writes)
    for t in range(d):
        for j in range(K):
            XT[t, j] = G[j, t]


@njit(cache=True, inline="always", error_model="numpy")
def _angles(G, XT, C, S, T, Cm, big):
    """The geometry of the unit student rows G (K, d): C = E_W [E_W; E_V]ᵀ (each entry
    summed over t in order), then one branch-free vectorized pass over the whole K × N
    block (contiguous, so no per-row remainder loops): clamp, sine, angle and coefficient
    π − θ. Returns the number of off-diagonal pairs with |cos θ| > 0.9."""
    pi = math.pi
    K, N = C.shape
    _product(G, XT, C, big)
    KN = K * N
    Cf = flat(C)
    Sf = flat(S)
    Tf = flat(T)
    Cmf = flat(Cm)
    n_near = 0
    for i in range(KN):
        c = Cf[i]
        c = c if c < 1.0 else 1.0
        c = c if c > -1.0 else -1.0
        Cf[i] = c
        u = 1.0 - c * c
        Sf[i] = math.sqrt(u if u > 0.0 else 0.0)
        th = acos_fast(c)
        Tf[i] = th
        Cmf[i] = pi - th
        n_near += 1 if abs(c) > _NEAR_PARALLEL else 0
    for j in range(K):
        # the diagonal pair is the row with itself: not a pair to fix
        n_near -= 1 if abs(C[j, j]) > _NEAR_PARALLEL else 0
    return n_near


@njit(cache=True, inline="always", error_model="numpy")
def _pairs_and_radial(K, G, XT, nrm, C, S, T, Cm, n_near):
    """Nearly parallel pairs recomputed (when ``n_near`` > 0), the diagonal, and the radial
    sums Σ_{k≠j} |w_k| s_jk − Σ_m |v_m| s_jm parked in S[j, j] for the assembly."""
    pi = math.pi
    N = C.shape[1]
    d = G.shape[1]
    # nearly parallel pairs (at every step near a minimum, where rows meet teacher rows):
    # recompute as the geometry does, sin θ = |e_n − c e_j| and θ = asin(sin θ) or
    # π − asin(sin θ), inline, from the unit rows in G (students, contiguous) and XT
    # (teachers); bit for bit :func:`_fix_near_parallel`. Student pairs once, mirrored.
    if n_near > 0:
        for j in range(K):
            for n in range(j + 1, N):
                c = C[j, n]
                if abs(c) > _NEAR_PARALLEL:
                    acc = 0.0
                    if n < K:
                        for t in range(d):
                            q = G[n, t] - c * G[j, t]
                            acc += q * q
                    else:
                        for t in range(d):
                            q = XT[t, n] - c * G[j, t]
                            acc += q * q
                    sn = math.sqrt(acc)
                    th = asin_small(sn)
                    th = th if c > 0.0 else pi - th
                    S[j, n] = sn
                    T[j, n] = th
                    Cm[j, n] = pi - th
                    if n < K:
                        S[n, j] = sn
                        T[n, j] = th
                        Cm[n, j] = pi - th
    # radial sums, each in n order, four rows at a time (they go through S[j, j], which
    # no coefficient reads again; the row itself adds +0)
    for j in range(K):
        S[j, j] = 0.0
        Cm[j, j] = pi  # the row itself: coefficient π, no radial term
    j0 = 0
    while j0 + 4 <= K:
        r0 = 0.0
        r1 = 0.0
        r2 = 0.0
        r3 = 0.0
        for n in range(K):
            b = nrm[n]
            r0 += b * S[j0, n]
            r1 += b * S[j0 + 1, n]
            r2 += b * S[j0 + 2, n]
            r3 += b * S[j0 + 3, n]
        for n in range(K, N):
            b = nrm[n]
            r0 -= b * S[j0, n]
            r1 -= b * S[j0 + 1, n]
            r2 -= b * S[j0 + 2, n]
            r3 -= b * S[j0 + 3, n]
        S[j0, j0] = r0
        S[j0 + 1, j0 + 1] = r1
        S[j0 + 2, j0 + 2] = r2
        S[j0 + 3, j0 + 3] = r3
        j0 += 4
    for j in range(j0, K):
        r = 0.0
        for n in range(K):
            r += nrm[n] * S[j, n]
        for n in range(K, N):
            r -= nrm[n] * S[j, n]
        S[j, j] = r


@njit(cache=True, inline="always", error_model="numpy")
def _assemble(Cm, X, G, nrm, S, big):
    """∇J into G: G_j = [Σ_{k<K} (π − θ_jk) w_k + Σ_m (π − θ_jm)(−v_m) + rad_j e_j] / 2π,
    with rad_j read from S[j, j] (then reset to 0)."""
    d = X.shape[1]
    _product(Cm, X, G, big)
    for j in range(G.shape[0]):
        rad = S[j, j]
        S[j, j] = 0.0
        a = nrm[j]
        if a > 0.0:
            inv = 1.0 / a
            for t in range(d):
                # X[j, t] * inv is XT[t, j] bit for bit, read along the row so the loop vectorizes
                G[j, t] = (G[j, t] + rad * (X[j, t] * inv)) / TWO_PI
        else:
            for t in range(d):
                G[j, t] = 0.0  # relu'(0) = 0: a dead row receives no gradient


@njit(cache=True, error_model="numpy")
def grad_into(K, X, XT, nrm, C, S, T, Cm, G):
    """Write ∇J (K, d) at the student W = X[:K] into G; X[K:] is −V (the teacher, negated).

    Workspace from :func:`grad_workspace`. On return nrm[:K] holds the row norms
    of W and C, S, T (K, N) the cos/sin/angle of each student row with [W; V]
    (S[j, j] = 0), the layout :func:`.loss.loss_from_angles` reads. A zero row
    gets zero gradient and contributes nothing to the others. Above _BLAS_FLOPS
    the Gram product and the assembly call BLAS (into the workspace, no temporaries).

    Every entry is computed by the same operations in the same order as the
    straightforward version kept in tests/_grad_reference.py (so the results are
    bit for bit those); the speed comes from the loop structure: one branch-free
    vectorized pass over the whole K × N block that also yields the coefficients
    π − θ (the teacher's sign lives in X[K:]) and counts the nearly parallel pairs
    (rows without any skip the scalar fix-up), the radial sums interleaved over rows
    (no serial add chain), both products in 4 × 8 blocks of vector registers
    (:func:`.simd.matmul_blocked`; the same ordered sums), and no allocation inside
    the step.
    """
    N, d = X.shape
    big = K * N * d >= _BLAS_FLOPS
    _unit_students(K, X, XT, nrm, G)
    n_near = _angles(G, XT, C, S, T, Cm, big)
    _pairs_and_radial(K, G, XT, nrm, C, S, T, Cm, n_near)
    _assemble(Cm, X, G, nrm, S, big)


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
    return loss_from_angles(W.shape[0], nrm, C, S, T, teacher_energy)
