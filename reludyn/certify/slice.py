"""Gauge slices for non-isolated critical points: W = P Y Bᵀ on a fixed-point subspace.

Two symmetries of J make critical points non-isolated:
- coincident student rows (a group of g rows with equal directions): J is constant
  along splits of their summed norm, g − 1 zero modes;
- rotations of the complement of span(V) (c = d − rank V dimensions) acting on the
  students' out-of-plane components; if those span p = 1 direction u the orbit has
  dimension c − 1.

Both are handled by restricting W to the fixed-point set of a symmetry subgroup:
equal rows within each group (permutations of the group) and rows in span(V) ⊕ span(u)
(rotations of span(V)^⊥ that fix u). By the principle of symmetric criticality ∇J at a
point of a fixed-point set lies in that set, so a zero of the restricted gradient
Pᵀ ∇J(P Y Bᵀ) B is a zero of ∇J (B has full column rank on the subspace). The map is
exact in ball arithmetic: P is 0/1 and B's columns are the teacher rows themselves
(spanning span(V) exactly) plus the float vector u, so the subspace is the exact
fixed-point set of the rotations fixing u's component off span(V).
p >= 2 leaves a continuous O(p) symmetry inside the slice and is not supported.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Slice:
    """W = P @ Y @ B.T. groups: (K,) group label per row; B (d, q); Y (G, q).

    zero_modes: the number of exact zero eigenvalues of the Hessian that the symmetries
    force at any critical point of this slice (the manifold dimension); identity: no
    reduction (P = I, B = I).
    """

    groups: np.ndarray
    B: np.ndarray
    zero_modes: int
    identity: bool
    note: str

    @property
    def P(self) -> np.ndarray:
        G = int(self.groups.max()) + 1
        P = np.zeros((self.groups.size, G))
        P[np.arange(self.groups.size), self.groups] = 1.0
        return P

    @property
    def L(self) -> np.ndarray:
        """(K·d, G·q) map from vec(Y) to vec(W), both row-major."""
        return np.kron(self.P, self.B)

    def to_W(self, Y: np.ndarray) -> np.ndarray:
        return self.P @ Y @ self.B.T

    def from_W(self, W: np.ndarray) -> np.ndarray:
        """Least-squares coordinates of W (its group means, projected on span B)."""
        P = self.P
        means = np.linalg.lstsq(P, W, rcond=None)[0]
        return np.linalg.lstsq(self.B, means.T, rcond=None)[0].T

    def validate(self, V: np.ndarray) -> None:
        """Check that this slice is a fixed-point set of symmetries of J for teacher V and
        that ``zero_modes`` is what those symmetries force (used by ``verify`` on a stored
        slice, since a zero of the reduced gradient is a critical point only then)."""
        d = V.shape[1]
        K = self.groups.size
        G = int(self.groups.max()) + 1 if K else 0
        if sorted(set(self.groups.tolist())) != list(range(G)):
            raise ValueError("slice groups must label rows 0..G-1")
        splits = K - G
        if self.identity:
            if splits or self.zero_modes or not np.array_equal(self.B, np.eye(d)):
                raise ValueError("an identity slice must have one row per group, B = I, no zero modes")
            return
        if self.B.shape[1] == d and np.array_equal(self.B, np.eye(d)):
            if self.zero_modes != splits:
                raise ValueError(f"zero_modes {self.zero_modes} != {splits} split modes")
            return
        Vn = V[np.linalg.norm(V, axis=1) > 0]
        r = np.linalg.matrix_rank(Vn)
        cols = self.B.T
        if cols.shape[0] != r + 1 or not all(any(np.array_equal(c, v) for v in Vn) for c in cols[:r]):
            raise ValueError("slice basis must be rank(V) exact teacher rows plus one direction")
        if np.linalg.matrix_rank(cols[:r]) != r or np.linalg.matrix_rank(cols) != r + 1:
            raise ValueError("slice basis columns are not independent")
        c = d - r
        if c < 2 or self.zero_modes != (c - 1) + splits:
            raise ValueError(f"zero_modes {self.zero_modes} != orbit {c - 1} + {splits} split modes")

    def to_dict(self) -> dict:
        return {"groups": self.groups.tolist(), "B": self.B.tolist(),
                "zero_modes": self.zero_modes, "identity": self.identity, "note": self.note}

    @classmethod
    def from_dict(cls, d: dict) -> "Slice":
        return cls(np.asarray(d["groups"], dtype=np.int64), np.asarray(d["B"], dtype=np.float64),
                   int(d["zero_modes"]), bool(d["identity"]), str(d["note"]))


def _groups(W: np.ndarray, tol: float) -> np.ndarray:
    """Label rows with (numerically) equal directions alike."""
    K = W.shape[0]
    E = W / np.linalg.norm(W, axis=1, keepdims=True)
    lab = -np.ones(K, dtype=np.int64)
    g = 0
    for j in range(K):
        if lab[j] >= 0:
            continue
        lab[j] = g
        for k in range(j + 1, K):
            if lab[k] < 0 and np.linalg.norm(E[j] - E[k]) < tol:
                lab[k] = g
        g += 1
    return lab


def make_slice(W: np.ndarray, V: np.ndarray, *, coincident_tol: float = 5e-9,
               plane_tol: float = 1e-8) -> Slice:
    """The gauge slice through a float critical point W (K, d) of teacher V (M, d).

    Raises ValueError when the out-of-plane components span p >= 2 directions of a
    complement of dimension > p (an O(p) symmetry would remain inside the slice).
    """
    K, d = W.shape
    groups = _groups(W, coincident_tol)
    n_groups = int(groups.max()) + 1
    split_modes = K - n_groups
    # span(V): an independent subset of teacher rows (pivoted by size of their residual)
    Vn = V[np.linalg.norm(V, axis=1) > 0]
    _, sv, Vt = np.linalg.svd(Vn, full_matrices=False) if Vn.size else (None, np.zeros(0), None)
    r = int(np.sum(sv > 1e-12 * (sv[0] if sv.size else 1.0)))
    c = d - r
    if r:
        Z = W - (W @ Vt[:r].T) @ Vt[:r]
    else:
        Z = W.copy()
    zs = np.linalg.svd(Z, compute_uv=False)
    p = int(np.sum(zs > plane_tol * max(1.0, float(np.abs(W).max()))))
    if c >= 2 and p >= 1:
        if p >= 2:
            raise ValueError(f"out-of-plane components span {p} >= 2 directions of a {c}-dimensional "
                             "complement of span(V): an O(p) symmetry remains, not supported")
        if p == 1:
            # rows of V that span span(V): greedy independent subset (exact floats)
            basis = []
            for v in Vn:
                cand = np.array(basis + [v])
                if np.linalg.matrix_rank(cand, tol=1e-12 * np.abs(Vn).max()) == len(cand):
                    basis.append(v)
            u = np.linalg.svd(Z)[2][0]
            B = np.column_stack(basis + [u]) if basis else u[:, None]
            orbit = c - 1
            note = (f"slice: rows in span(V) + 1 out-of-plane direction; rotations of the "
                    f"{c}-dim complement give a {orbit}-dim orbit")
            return Slice(groups, B, orbit + split_modes, False,
                         note + (f"; {split_modes} split modes of coincident rows" if split_modes else ""))
    if split_modes:
        return Slice(groups, np.eye(d), split_modes, False,
                     f"slice: coincident rows share coordinates; {split_modes} split modes")
    return Slice(np.arange(K), np.eye(d), 0, True, "isolated: full coordinates")
