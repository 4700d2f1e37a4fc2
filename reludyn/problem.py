"""The teacher-student problem: teacher rows V (M, d) and student width K."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import landscape
from .validation import as_float_array, check_finite, positive_int, teacher_matrix

MAX_ENTRIES = 10**7  # entries of V (M·d) and of one student W (K·d): 80 MB each in float64


def _check_size(rows: int, d: int, what: str) -> None:
    if rows * d > MAX_ENTRIES:
        raise ValueError(f"{what} would have {rows} x {d} = {rows * d:,} entries, more than "
                         f"the {MAX_ENTRIES:,} reludyn allows (a population-loss problem this "
                         "large is out of reach of its O(K·M·d) kernels anyway)")


@dataclass(frozen=True)
class Problem:
    """A teacher V (M, d) and a student width K, validated on construction.

    ``kind`` and ``params`` record how the teacher was made (for provenance);
    ``to_dict``/``from_dict`` round-trip through JSON exactly (V is stored).
    """

    V: np.ndarray
    K: int
    kind: str = "custom"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        # a private copy, so later changes to the caller's array cannot alter the problem;
        # left writable because Numba compiles separate kernels for read-only arrays
        V = teacher_matrix(self.V, "V").copy()
        object.__setattr__(self, "V", V)
        object.__setattr__(self, "K", positive_int(self.K, "K"))
        _check_size(self.K, V.shape[1], "the student W (K x d)")
        if not isinstance(self.kind, str):
            raise TypeError(f"kind must be a string, got {type(self.kind).__name__}")

    # --- sizes -----------------------------------------------------------
    @property
    def M(self) -> int:
        return self.V.shape[0]

    @property
    def d(self) -> int:
        return self.V.shape[1]

    @property
    def n_params(self) -> int:
        return self.K * self.d

    def __repr__(self) -> str:
        return f"Problem(kind={self.kind!r}, K={self.K}, M={self.M}, d={self.d})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Problem)
            and self.K == other.K
            and self.V.shape == other.V.shape
            and bool(np.array_equal(self.V, other.V))
        )

    def __hash__(self):
        return hash((self.K, self.V.shape, self.V.tobytes()))

    # --- constructors ----------------------------------------------------
    @classmethod
    def orthonormal(cls, M: int, d: int | None = None, K: int | None = None) -> "Problem":
        """Teacher = first M rows of I_d (d defaults to M, K to M)."""
        M = positive_int(M, "M")
        d = M if d is None else positive_int(d, "d")
        if d < M:
            raise ValueError(f"an orthonormal teacher needs d >= M, got M = {M}, d = {d}")
        _check_size(M, d, "the teacher V (M x d)")
        K = M if K is None else K
        _check_size(positive_int(K, "K"), d, "the student W (K x d)")
        return cls(np.eye(d)[:M].copy(), K, "orthonormal", {"M": M, "d": d})

    @classmethod
    def gaussian(cls, M: int, d: int, K: int | None = None, seed: int = 0) -> "Problem":
        """Teacher entries i.i.d. N(0, 1) from ``numpy.random.default_rng(seed)``."""
        M = positive_int(M, "M")
        d = positive_int(d, "d")
        seed = positive_int(seed, "seed", minimum=0)
        _check_size(M, d, "the teacher V (M x d)")
        V = np.random.default_rng(seed).standard_normal((M, d))
        return cls(V, M if K is None else K, "gaussian", {"M": M, "d": d, "seed": seed})

    @classmethod
    def planar(cls, angles, K: int | None = None, norms=None) -> "Problem":
        """d = 2 teacher rows norms_m (cos φ_m, sin φ_m); angles in radians."""
        ang = as_float_array(angles, "angles").ravel()
        if ang.size == 0:
            raise ValueError("angles is empty: the teacher needs at least one row")
        check_finite(ang, "angles")
        r = np.ones_like(ang) if norms is None else as_float_array(norms, "norms").ravel()
        if r.shape != ang.shape:
            raise ValueError(f"norms has {r.size} entries but angles has {ang.size}")
        check_finite(r, "norms")
        if np.any(r <= 0):
            raise ValueError("norms must be positive")
        V = np.stack([r * np.cos(ang), r * np.sin(ang)], axis=1)
        return cls(V, ang.size if K is None else K, "planar",
                   {"angles": ang.tolist(), "norms": r.tolist()})

    @classmethod
    def from_file(cls, path, K: int | None = None) -> "Problem":
        """Teacher from .npy (no pickle), .csv (rows, no header) or .json (list of rows, or {"V": rows[, "K": K]})."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"teacher file {str(path)!r} does not exist")
        suffix = path.suffix.lower()
        try:
            if suffix == ".npy":
                V = np.load(path, allow_pickle=False)
            elif suffix == ".csv":
                with open(path, newline="") as fh:
                    rows = [r for r in csv.reader(fh) if r and any(x.strip() for x in r)]
                V = [[float(x) for x in r] for r in rows]
            elif suffix == ".json":
                data = json.loads(path.read_text())
                if isinstance(data, dict):
                    if "V" not in data:
                        raise ValueError("JSON object has no 'V' key")
                    if K is None and "K" in data:
                        K = data["K"]
                    data = data["V"]
                V = data
            else:
                raise ValueError(f"unsupported extension {suffix!r} (use .npy, .csv or .json)")
            V = as_float_array(V, "V")
        except (ValueError, TypeError, OSError, EOFError, csv.Error) as exc:
            # EOFError: an empty .npy; csv.Error: NUL bytes and the like in a .csv
            raise ValueError(f"cannot read a teacher from {str(path)!r}: "
                             f"{exc or type(exc).__name__}") from None
        if V.ndim == 1:
            V = V[None]
        V = teacher_matrix(V, f"teacher in {path.name}")
        return cls(V, V.shape[0] if K is None else K, "file", {"path": str(path)})

    # --- serialization ---------------------------------------------------
    def to_dict(self) -> dict:
        return {"K": self.K, "M": self.M, "d": self.d, "kind": self.kind,
                "params": self.params, "V": self.V.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "Problem":
        if not isinstance(data, dict) or "V" not in data or "K" not in data:
            raise ValueError("a problem record needs keys 'V' and 'K'")
        return cls(np.asarray(data["V"], dtype=float), int(data["K"]),
                   data.get("kind", "custom"), dict(data.get("params", {})))

    # --- landscape shortcuts ---------------------------------------------
    def loss(self, W):
        return landscape.loss(W, self.V)

    def grad(self, W):
        return landscape.grad(W, self.V)

    def hessian(self, W):
        return landscape.hessian(W, self.V)

    def loss_and_grad(self, W):
        return landscape.loss_and_grad(W, self.V)

    @property
    def is_orthonormal(self) -> bool:
        return bool(np.allclose(self.V @ self.V.T, np.eye(self.M), atol=1e-12))

    def teacher_padded(self) -> np.ndarray:
        """The teacher as a (K, d) student when K >= M (extra rows zero): the global minimum for K = M."""
        if self.K < self.M:
            raise ValueError(f"K = {self.K} < M = {self.M}: the teacher is not a student point")
        W = np.zeros((self.K, self.d))
        W[: self.M] = self.V
        return W


def symmetric_saddle_x(K: int) -> float:
    """The diagonal fixed point x_s = (√(K−1) − arccos(1/√K) + π)/(πK) (orthonormal teacher)."""
    K = positive_int(K, "K")
    return (math.sqrt(K - 1) - math.acos(1 / math.sqrt(K)) + math.pi) / (math.pi * K)
