"""The Hessian kernel as it was before the one-pass rewrite (issue 9), kept as a test oracle.

A verbatim copy of ``_add_diag_block``/``hessian_kernel`` from reludyn/kernels/hessian.py
at main b0ad67c (rank-one updates added block by block into a zeroed matrix; the two
mixed blocks of a pair computed separately): the one-pass kernel must agree with it to
rounding (tests/test_kernels.py).
"""
import math

from numba import njit

from reludyn.kernels.angles import TWO_PI, geometry


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
def hessian_reference(W, V, H):
    """Write the Hessian of J (K·d, K·d), rows of W flattened row-major, into H.

    The caller guarantees no student row is zero (J is not twice
    differentiable there).
    """
    K, d = W.shape
    M = V.shape[0]
    nrm, E, C, S, T = geometry(W, V)
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
            c = C[j, k]
            s = S[j, k]
            _add_diag_block(H, j, E, E[k], nrm[k], nrm[j], c, s, 1.0)
            # mixed block ∂²κ(w_j, w_k)/∂w_j∂w_k
            ok = k * d
            base = (math.pi - T[j, k]) / TWO_PI
            for p in range(d):
                H[o + p, ok + p] += base
                for r in range(d):
                    H[o + p, ok + r] += s * E[j, p] * E[k, r] / TWO_PI
            if s > 0.0:
                g = 1.0 / (TWO_PI * s)
                for p in range(d):
                    qp = E[k, p] - c * E[j, p]
                    for r in range(d):
                        H[o + p, ok + r] += g * qp * (E[j, r] - c * E[k, r])
        for m in range(M):
            if nrm[K + m] == 0.0:
                continue
            _add_diag_block(H, j, E, E[K + m], nrm[K + m], nrm[j], C[j, K + m], S[j, K + m], -1.0)
