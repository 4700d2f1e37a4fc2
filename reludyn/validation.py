"""Input checks shared by every public function; kernels never validate."""
from __future__ import annotations

import numbers

import numpy as np


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


def teacher_matrix(V, name: str = "V") -> np.ndarray:
    """Validate a teacher (M, d): finite, non-empty, no zero rows."""
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
    return V


def student_weights(W, d: int, name: str = "W", K: int | None = None) -> tuple[np.ndarray, bool]:
    """Validate a student (K, d) or batch (B, K, d). Returns (batch array (B, K, d), was_batch).

    A flat vector of length K·d is accepted when K is given.
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
