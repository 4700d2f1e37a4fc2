"""The unchecked door to the kernels, for reludyn's own upper layers (``landscape.unchecked``).

Like scikit-learn's ``check_input=False``: the caller has validated its inputs
once (through :mod:`reludyn.validation`, a :class:`reludyn.Problem`, or by
construction) and calls these in a loop. W is a C-contiguous float64 (K, d)
student or (B, K, d) batch; V the teacher from :func:`teacher`. Nothing here
checks shapes, finiteness or dead rows: bad input gives garbage, not an error.
Results are bit for bit those of the public :mod:`reludyn.landscape` functions.
"""
from __future__ import annotations

import numpy as np

from . import kernels

_F64 = np.dtype(np.float64)


def teacher(V) -> np.ndarray:
    """V (M, d) as the kernels want it: C-contiguous, writable float64 (a copy only if needed).

    Writable matters: Numba compiles a separate signature for read-only arrays.
    """
    if (type(V) is np.ndarray and V.dtype == _F64 and V.flags.c_contiguous
            and V.flags.writeable):
        return V
    return np.array(V, dtype=np.float64, order="C")


def teacher_energy(V) -> float:
    """½ Σ_{m,n} κ(v_m, v_n), the loss's constant term (J at W = 0)."""
    return float(kernels.teacher_energy_kernel(V))


def loss(W, V) -> float | np.ndarray:
    """J: (K, d) -> float, (B, K, d) -> (B,)."""
    if W.ndim == 2:
        return float(kernels.loss_kernel(W, V))
    out = np.empty(W.shape[0])
    kernels.loss_batch_kernel(W, V, out)
    return out


def grad(W, V, out=None) -> np.ndarray:
    """∇J, shape of W, into ``out`` when given (a zero row gets gradient 0)."""
    G = np.empty(W.shape) if out is None else out
    if W.ndim == 2:
        kernels.grad_kernel(W, V, G)
    else:
        kernels.grad_batch_kernel(W, V, G)
    return G


def loss_and_grad(W, V, out=None) -> tuple[float | np.ndarray, np.ndarray]:
    """(J, ∇J) from the fused kernel; ∇J into ``out`` when given."""
    G = np.empty(W.shape) if out is None else out
    if W.ndim == 2:
        return float(kernels.loss_grad_kernel(W, V, G, kernels.teacher_energy_kernel(V))), G
    L = np.empty(W.shape[0])
    kernels.loss_grad_batch_kernel(W, V, G, L)
    return L, G


def hessian(W, V, out=None) -> np.ndarray:
    """Hessian (K·d, K·d), or (B, K·d, K·d), into ``out`` when given; no student row may be zero."""
    n = W.shape[-2] * W.shape[-1]
    if W.ndim == 2:
        H = np.empty((n, n)) if out is None else out
        kernels.hessian_kernel(W, V, H)
    else:
        H = np.empty((W.shape[0], n, n)) if out is None else out
        kernels.hessian_batch_kernel(W, V, H)
    return H


def geometry(W, V) -> tuple[np.ndarray, ...]:
    """(nrm (N,), E (N, d), C, S, T (K, N)): norms and unit rows of [W; V], and the
    cos/sin/angle of each student row with each row of [W; V] (1, 0, 0 at zero rows)."""
    return kernels.geometry(W, V)
