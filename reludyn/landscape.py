"""Public population loss, gradient and Hessian (validated wrappers around the kernels).

This module is the one door into :mod:`reludyn.kernels`: the public functions
validate their inputs (with a jitted fast path for single C-contiguous float64
points), and ``landscape.unchecked`` serves reludyn's upper layers, which
validate once and then call in loops.

Convention: per-sample loss J(W) = ½ E_x[(Σ_j relu(w_jᵀx) − Σ_m relu(v_mᵀx))²],
x ~ N(0, I_d) (the paper's sums over N samples carry an extra factor N).
"""
from __future__ import annotations

import numpy as np

from . import _unchecked as unchecked
from . import kernels
from .validation import student_weights, teacher_matrix


class DeadRowError(ValueError):
    """Raised where J is not twice differentiable because a student row is zero."""

    def __init__(self, rows, batch_index=None):
        self.rows = list(rows)
        self.batch_index = batch_index
        where = "" if batch_index is None else f" in batch item {batch_index}"
        super().__init__(
            f"student rows {self.rows}{where} are zero (dead): J is not twice differentiable "
            "there; the Hessian is undefined (treat dead rows separately)"
        )


def dead_rows(W, tol: float = 0.0) -> list[int] | list[list[int]]:
    """Indices of student rows with norm <= tol; per item for a batch (B, K, d)."""
    arr = np.asarray(W, dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ValueError(f"W must have shape (K, d) or (B, K, d), got shape {arr.shape}")
    norms = np.linalg.norm(arr, axis=-1)
    if arr.ndim == 2:
        return np.flatnonzero(norms <= tol).tolist()
    return [np.flatnonzero(n <= tol).tolist() for n in norms]


_F64 = np.dtype(np.float64)


def _fast_single(W, V) -> bool:
    """True when W (K, d) and V (M, d) are nonempty C-contiguous float64 arrays of equal width.

    Such inputs skip the NumPy-level checks: the jitted entry scans them for
    NaN/inf and zero teacher rows, and only on a failed scan do we rerun the
    detailed validation that names the problem.
    """
    return (
        type(W) is np.ndarray and type(V) is np.ndarray
        and W.dtype == _F64 and V.dtype == _F64
        and W.ndim == 2 and V.ndim == 2
        and W.shape[1] == V.shape[1] and W.size > 0 and V.size > 0
        and W.flags.c_contiguous and V.flags.c_contiguous
    )


_UNUSED = np.empty((0, 0))  # stands in for the outputs a fast path does not write


def _fast(what: int, W, V):
    """The jitted checked entry's result for one point, or None where the inputs need
    the detailed validation (not plain C-contiguous float64, or the scan found a problem)."""
    if not _fast_single(W, V):
        return None
    out = np.empty(1)
    G = np.empty(W.shape) if what in (kernels.GRAD, kernels.LOSS_GRAD) else _UNUSED
    H = np.empty((W.size, W.size)) if what == kernels.HESSIAN else _UNUSED
    if kernels.checked_entry(what, W, V, G, H, out) != 0:
        return None
    return (float(out[0]), G, (float(out[0]), G), H)[what]


_UNCHECKED = (unchecked.loss, unchecked.grad, unchecked.loss_and_grad, unchecked.hessian)


def _evaluate(what: int, W, V, try_fast: bool = True):
    """The fast path when it applies, else validate W and V and call the unchecked door."""
    fast = _fast(what, W, V) if try_fast else None
    if fast is not None:
        return fast
    V = teacher_matrix(V)
    Ws, batch = student_weights(W, V.shape[1])
    if what == kernels.HESSIAN:
        for i, rows in enumerate(dead_rows(Ws)):
            if rows:
                raise DeadRowError(rows, i if batch else None)
    return _UNCHECKED[what](Ws if batch else Ws[0], V)


def loss(W, V) -> float | np.ndarray:
    """Population loss J. W: (K, d) -> float, or (B, K, d) -> (B,)."""
    return _evaluate(kernels.LOSS, W, V)


def _first_grad_entry(W, V, G):
    """Compile (or load from the cache) kernels.grad_entry for C-contiguous float64
    (K, d), (M, d), (K, d) only, close it to new signatures and put it in ``_grad_entry``'s
    place: any other input then raises TypeError at dispatch and takes the validated path
    instead of compiling, so the hot path needs no Python-level checks (they cost as much
    as the kernel at K = d = 10)."""
    global _grad_entry
    from numba import types

    mat = types.float64[:, ::1]
    kernels.grad_entry.compile((mat, mat, mat))
    kernels.grad_entry.disable_compile()
    _grad_entry = kernels.grad_entry
    return _grad_entry(W, V, G)


_grad_entry = _first_grad_entry


def grad(W, V) -> np.ndarray:
    """Population gradient ∇_W J, same shape as W ((K, d) or (B, K, d)).

    The gradient of a zero row is defined as 0 (relu'(0) = 0, as sampled training does).
    """
    try:
        G = np.empty(W.shape)
        if _grad_entry(W, V, G) == 0:
            return G
    except (TypeError, AttributeError, ValueError, MemoryError):
        pass  # not a C-contiguous float64 (K, d), (M, d) pair, or not usable: validate below
    return _evaluate(kernels.GRAD, W, V, try_fast=False)


def loss_and_grad(W, V) -> tuple[float | np.ndarray, np.ndarray]:
    """(J, ∇J) from one fused kernel; shapes as in :func:`loss` and :func:`grad`."""
    return _evaluate(kernels.LOSS_GRAD, W, V)


def hessian(W, V) -> np.ndarray:
    """Analytic Hessian of J with W flattened row-major: (K·d, K·d), or (B, K·d, K·d).

    Raises :class:`DeadRowError` (a ValueError) naming the zero rows, where J is
    not twice differentiable.
    """
    return _evaluate(kernels.HESSIAN, W, V)
