"""Batched kernels (parallel over B, one preallocated output slot per item) and checked entries.

The entries scan their inputs inside the jitted call so that the public
wrappers in :mod:`reludyn.landscape` can skip NumPy-level validation on the
fast path; on a nonzero code the wrapper reruns the detailed Python checks,
which name the problem.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..validation import SQ_NORM_MAX, SQ_NORM_MIN
from .gradient import grad_into, grad_kernel, grad_workspace, loss_grad_kernel
from .hessian import hessian_kernel
from .loss import loss_kernel, loss_with_energy, teacher_energy_kernel


@njit(cache=True, parallel=True)
def loss_batch_kernel(Ws, V, out):
    te = teacher_energy_kernel(V)
    for i in prange(Ws.shape[0]):
        out[i] = loss_with_energy(Ws[i], V, te)


_BATCH_CHUNK = 16  # items per parallel work item, sharing one workspace


@njit(cache=True, parallel=True)
def grad_batch_kernel(Ws, V, out):
    """∇J of every Ws[i] (B, K, d) into out[i]: chunks of items run in parallel, each chunk
    on one workspace (one allocation, the teacher's norms and unit rows prepared once),
    so per item only the student part is computed; bit for bit grad_kernel per item."""
    B, K, d = Ws.shape
    for c in prange((B + _BATCH_CHUNK - 1) // _BATCH_CHUNK):
        lo = c * _BATCH_CHUNK
        hi = min(B, lo + _BATCH_CHUNK)
        X, XT, nrm, C, S, T, Cm = grad_workspace(Ws[lo], V)
        for i in range(lo, hi):
            for j in range(K):
                for t in range(d):
                    X[j, t] = Ws[i, j, t]
            grad_into(K, X, XT, nrm, C, S, T, Cm, out[i])


@njit(cache=True, parallel=True)
def loss_grad_batch_kernel(Ws, V, G, L):
    te = teacher_energy_kernel(V)
    for i in prange(Ws.shape[0]):
        L[i] = loss_grad_kernel(Ws[i], V, G[i], te)


@njit(cache=True, parallel=True)
def hessian_batch_kernel(Ws, V, out):
    for i in prange(Ws.shape[0]):
        hessian_kernel(Ws[i], V, out[i])


_EXP_MASK = np.uint64(0x7FF0000000000000)
_SQ_MIN, _SQ_MAX = SQ_NORM_MIN, SQ_NORM_MAX  # squared row norms of the input domain


@njit(cache=True)
def scan_inputs(Wflat, V):
    """0 if all inputs are usable, else 1: W not finite, 2: V not finite, 3: V has a zero row,
    5: a nonzero W row, 6: a V row, has a norm outside the input domain (reludyn.validation)."""
    # a NaN or inf has all exponent bits set; counting them over the bit patterns
    # is an integer reduction, which vectorizes (an early-exit loop does not)
    bits = Wflat.view(np.uint64)
    bad = 0
    for i in range(bits.shape[0]):
        bad += 1 if (bits[i] & _EXP_MASK) == _EXP_MASK else 0
    if bad:
        return 1
    M, d = V.shape
    for m in range(M):
        nz = False
        sq = 0.0
        for t in range(d):
            x = V[m, t]
            if not math.isfinite(x):
                return 2
            if x != 0.0:
                nz = True
            sq += x * x
        if not nz:
            return 3
        if sq < _SQ_MIN or sq > _SQ_MAX:
            return 6
    for r in range(Wflat.shape[0] // d):
        sq = 0.0
        for t in range(d):
            x = Wflat[r * d + t]
            sq += x * x
        if sq != 0.0 and (sq < _SQ_MIN or sq > _SQ_MAX):
            return 5
    return 0


@njit(cache=True)
def _has_zero_row(W):
    """True if a row of W has norm 0 (every square underflows), as np.linalg.norm(W, axis=1) == 0."""
    for j in range(W.shape[0]):
        nz = False
        for t in range(W.shape[1]):
            if W[j, t] * W[j, t] != 0.0:
                nz = True
        if not nz:
            return True
    return False


# Row norms certainly inside the input domain (a relative 1e-6 inside the squared-norm
# bounds, far beyond the rounding of a norm): the fast path's own test; anything else
# (NaN, inf, zero teacher rows, borderline norms) is decided by scan_inputs.
_NORM_LO = math.sqrt(SQ_NORM_MIN) * (1 + 1e-6)
_NORM_HI = math.sqrt(SQ_NORM_MAX) * (1 - 1e-6)


@njit(cache=True, error_model="numpy")
def grad_entry(W, V, G):
    """Checked gradient of one point, the public fast path: ∇J into G (K, d); returns
    scan_inputs' code, or 5 where shapes disagree or are empty. G holds ∇J only where the
    code is 0 (otherwise whatever the computation left).

    The input check rides on the kernel: a NaN or inf entry makes its row norm NaN or
    inf, so when every row norm the kernel computed is inside the domain (or 0, for a
    student row) all inputs are usable, and only otherwise does scan_inputs look at
    the entries (one pass over W and V saved on the hot path)."""
    if W.shape[1] != V.shape[1] or W.size == 0 or V.size == 0:
        return 5
    K = W.shape[0]
    X, XT, nrm, C, S, T, Cm = grad_workspace(W, V)
    grad_into(K, X, XT, nrm, C, S, T, Cm, G)
    for n in range(nrm.shape[0]):
        a = nrm[n]
        if not (_NORM_LO <= a <= _NORM_HI) and not (n < K and a == 0.0):
            return scan_inputs(W.reshape(-1), V)
    return 0


# what checked_entry computes
LOSS, GRAD, LOSS_GRAD, HESSIAN = 0, 1, 2, 3


@njit(cache=True)
def checked_entry(what, W, V, G, H, out):
    """Checked single point: J into out[0] (LOSS, LOSS_GRAD), ∇J into G (GRAD, LOSS_GRAD),
    the Hessian into H (HESSIAN). Returns scan_inputs' code, or 4 for a zero student row
    when the Hessian is asked for; outputs are untouched unless the code is 0."""
    code = scan_inputs(W.reshape(-1), V)
    if code == 0 and what == HESSIAN and _has_zero_row(W):
        code = 4
    if code != 0:
        return code
    if what == LOSS:
        out[0] = loss_kernel(W, V)
    elif what == GRAD:
        grad_kernel(W, V, G)
    elif what == LOSS_GRAD:
        out[0] = loss_grad_kernel(W, V, G, teacher_energy_kernel(V))
    else:
        hessian_kernel(W, V, H)
    return 0
