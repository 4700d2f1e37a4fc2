"""Input checks shared by every public function; kernels never validate.

Input domain. The closed forms scale exactly (J(sW, sV) = s² J(W, V), ∇J scales like s,
the Hessian not at all), but in float64 the kernels form squared norms and products of
norms: past a row norm of about 1e154 these overflow (J becomes NaN from inf − inf),
and below about 1e-154 they become subnormal and lose digits (at 1e-156 the relative error
of J is already 1e-12, at 1e-160 1e-4; teacher rows of norm 1e-200 give a NaN gradient).
Measured with the kernels (tests/test_validation.py sweeps s = 10^k against the scaling
laws), every nonzero teacher and student row norm must lie in
[ROW_NORM_MIN, ROW_NORM_MAX] = [1e-150, 1e150]: a margin of 1e4 on either side, so sums over
thousands of rows stay finite and J, ∇J and the Hessian keep full (≈1e-15) relative accuracy.
A student row whose squared norm underflows to 0 (e.g. 1e-200) is a zero (dead) row, as
``np.linalg.norm`` says; zero student rows are allowed (J and ∇J are defined there), zero
teacher rows are not.
"""
from __future__ import annotations

import numbers

import numpy as np

ROW_NORM_MIN = 1e-150  # smallest nonzero row norm with full accuracy (see the module docstring)
ROW_NORM_MAX = 1e150   # largest row norm with finite, accurate J, ∇J and Hessian
# the checks compare squared norms (what the kernels form), with a 1e-9 relative slack so
# a row whose norm rounds to an edge is inside; the kernels' scan uses the same two numbers
SQ_NORM_MIN = (ROW_NORM_MIN * (1 - 1e-9)) ** 2
SQ_NORM_MAX = (ROW_NORM_MAX * (1 + 1e-9)) ** 2


def as_float_array(x, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 array, or raise TypeError naming ``name``."""
    if isinstance(x, (str, bytes, dict, set)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")


def _row_norms(A: np.ndarray) -> np.ndarray:
    """Row norms without overflow or underflow (scaled by each row's largest entry)."""
    amax = np.max(np.abs(A), axis=-1, initial=0.0)
    safe = np.where(amax > 0, amax, 1.0)
    return amax * np.sqrt(np.sum((A / safe[..., None]) ** 2, axis=-1))


def check_row_scale(A: np.ndarray, name: str, allow_zero: bool) -> None:
    """Refuse rows of ``A`` (..., n, d) whose norm is outside [ROW_NORM_MIN, ROW_NORM_MAX].

    With ``allow_zero`` a row whose squared norm is 0 (a dead row) is accepted. The test is on
    the squared norm the kernels form, so it agrees with the kernels' own scan.
    """
    sq = np.einsum("...i,...i->...", A, A)
    bad = (sq > SQ_NORM_MAX) | (sq < SQ_NORM_MIN)
    if allow_zero:
        bad &= sq != 0.0
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        norm = float(_row_norms(A[idx]))
        where = idx[-1] if len(idx) == 1 else idx
        raise ValueError(
            f"{name} row {where} has norm {norm:.3g}, outside the range "
            f"[{ROW_NORM_MIN:g}, {ROW_NORM_MAX:g}] where J, its gradient and Hessian are "
            "finite and accurate in float64; rescale the problem (J(sW, sV) = s² J(W, V))")


def teacher_matrix(V, name: str = "V") -> np.ndarray:
    """Validate a teacher (M, d): finite, non-empty, row norms in [ROW_NORM_MIN, ROW_NORM_MAX]."""
    V = as_float_array(V, name)
    if V.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (M, d) of teacher rows, got shape {V.shape}")
    if V.shape[0] == 0:
        raise ValueError(f"{name} is empty: the teacher needs at least one row")
    if V.shape[1] == 0:
        raise ValueError(f"{name} has zero columns: the input dimension d must be >= 1")
    check_finite(V, name)
    zero = np.flatnonzero(~np.any(V != 0.0, axis=1))
    if zero.size:
        raise ValueError(f"{name} has zero rows {zero.tolist()}: teacher rows must be nonzero")
    check_row_scale(V, name, allow_zero=False)
    return V


def student_weights(W, d: int, name: str = "W", K: int | None = None) -> tuple[np.ndarray, bool]:
    """Validate a student (K, d) or batch (B, K, d). Returns (batch array (B, K, d), was_batch).

    A flat vector of length K·d is accepted when K is given. Nonzero rows must have norms
    in [ROW_NORM_MIN, ROW_NORM_MAX] (zero rows are allowed; see the module docstring).
    """
    W = as_float_array(W, name)
    if W.ndim == 1 and K is not None:
        if W.size != K * d:
            raise ValueError(f"{name} has {W.size} entries, expected K·d = {K}·{d} = {K * d}")
        W = W.reshape(K, d)
    if W.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (K, d) or (B, K, d), got {W.ndim}-D shape {W.shape}"
        )
    if W.shape[-1] != d:
        raise ValueError(
            f"{name} rows have length {W.shape[-1]} but the teacher has d = {d} (shape {W.shape})"
        )
    if W.shape[-2] == 0:
        raise ValueError(f"{name} has no rows: the student needs K >= 1")
    if K is not None and W.shape[-2] != K:
        raise ValueError(f"{name} has {W.shape[-2]} rows but the problem has K = {K}")
    check_finite(W, name)
    check_row_scale(W, name, allow_zero=True)
    if W.ndim == 2:
        return W[None], False
    return W, True


def positive_int(x, name: str, minimum: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def positive_float(x, name: str, allow_zero: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {x}")
    return x
