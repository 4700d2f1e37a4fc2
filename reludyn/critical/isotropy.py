"""Isotropy of a point: the subgroup of (student-row permutations) × (teacher automorphisms) fixing W.

The discrete symmetry group of J acts on C = W Vᵀ (K, M) by C ↦ P C Πᵀ
(:mod:`reludyn.critical.symmetry`); for V = I_K, d = K this is
W ↦ P_π W P_ρᵀ on S_K × S_K.  The isotropy of W is computed on the label matrix
L of C (entries equal within ``tol`` share a label):

1. *Colour refinement* of rows and columns by the multisets of (entry label,
   colour of the partner) until stable: the orbits of the isotropy refine these
   classes (they are unions of orbits).
2. *Block structure*: each row class R is paired with a column class C of the
   same size on which L[R, C] is a permutation pattern (one label once per row
   and column, one other label elsewhere); σ: row ↦ its distinguished column.
   Classes of identical rows (columns) without a partner give row-only
   (column-only) factors.  The candidate group
   G₀ = Δ(S_{p1}×…×S_{pr}) × Π S_q(rows) × Π S_q(columns)
   is verified exactly: a transposition and a p-cycle of every factor (which
   generate it) fix L and preserve the teacher Gram labels, so G₀ ⊆ Stab.
3. *Exact order* by the orbit–stabilizer chain over column images
   (``_count_column_automorphisms``, an exact backtracking search with pruning)
   times the row multiplicities: if it equals |G₀|, Stab = G₀ and the notation
   Δ(S_{p1}×…×S_{pr}) is reported; otherwise the order and the orbits (found by
   exact existence searches) are reported.

Counting never enumerates the group, so large isotropy (S_{K−1} at K = 20) is cheap.
A point with rows outside span(V) has a continuous isotropy part: for in-plane
W with d > rank V the rotations O(d − rank V) of the complement fix W (reported
in ``continuous``); out-of-plane points with a complement of dimension ≥ 2 are
reported as continuous with order None.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .fixedpoint import blocks_label
from .symmetry import (_NODE_BUDGET, SymmetryContext, _column_search, _refine,
                       group_order, stabilizer)

__all__ = ["Isotropy", "isotropy", "group_order", "block_form"]


@dataclass
class Isotropy:
    """The isotropy group of a point.

    ``label``: "Δ(S_4×S_1)", "Δ(S_3×S_1×S_1) × S_2(rows)", "trivial", "order 12", …
    ``order``: |discrete part| (None: not computed / search budget exceeded);
    ``blocks``: diagonal block sizes (descending) when the group is Δ(S_{p1}×…);
    ``row_orbits``, ``column_orbits``: orbits on student rows and teacher columns;
    ``continuous``: e.g. "O(2)" for the rotations of the complement of span(V);
    ``pairing``: for each diagonal block, (rows, columns) in corresponding order.
    """

    label: str
    order: int | None
    blocks: tuple | None = None
    row_orbits: list = field(default_factory=list)
    column_orbits: list = field(default_factory=list)
    continuous: str | None = None
    pairing: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["blocks"] = list(self.blocks) if self.blocks is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Isotropy":
        d = dict(d)
        if d.get("blocks") is not None:
            d["blocks"] = tuple(d["blocks"])
        return cls(**d)

    def __str__(self) -> str:
        return self.label


def _classes(colours) -> list[list[int]]:
    out: dict = {}
    for i, c in enumerate(np.asarray(colours).tolist()):
        out.setdefault(c, []).append(i)
    return sorted(out.values(), key=lambda g: (-len(g), g))


def _fixes(L, TL, rperm, cperm) -> bool:
    """Whether the map row i → rperm[i], column c → cperm[c] fixes L and TL."""
    Lp = np.empty_like(L)
    Lp[np.ix_(rperm, cperm)] = L
    if not np.array_equal(Lp, L):
        return False
    Tp = np.empty_like(TL)
    Tp[np.ix_(cperm, cperm)] = TL
    return bool(np.array_equal(Tp, TL))


def _cycle_maps(n_total, items):
    """Permutations of range(n_total): the transposition of items[0], items[1] and the cycle of items."""
    t = np.arange(n_total)
    t[items[0]], t[items[1]] = items[1], items[0]
    cyc = np.arange(n_total)
    cyc[items] = np.roll(items, -1)
    return t, cyc


def _diagonal_pairing(L, rclasses, cclasses):
    """Pair row classes with column classes carrying a permutation pattern; σ per pair."""
    used = set()
    pairs, row_only = [], []
    for R in rclasses:
        p = len(R)
        done = False
        for ci, Cc in enumerate(cclasses):
            if ci in used or len(Cc) != p:
                continue
            if p == 1:
                pairs.append((list(R), list(Cc)))
                used.add(ci)
                done = True
                break
            sub = L[np.ix_(R, Cc)]
            vals, counts = np.unique(sub, return_counts=True)
            if len(vals) != 2:
                continue
            lam = vals[np.argmin(counts)] if counts.min() == p else None
            if lam is None:
                continue
            mask = sub == lam
            if not (np.all(mask.sum(0) == 1) and np.all(mask.sum(1) == 1)):
                continue
            cols = [Cc[int(np.flatnonzero(mask[k])[0])] for k in range(p)]
            pairs.append((list(R), cols))
            used.add(ci)
            done = True
            break
        if not done:
            row_only.append(list(R))
    col_only = [list(Cc) for ci, Cc in enumerate(cclasses) if ci not in used]
    return pairs, row_only, col_only


def _orbits(classes, related) -> list[list[int]]:
    """The orbits inside each colour class: j joins i's orbit iff ``related(i, j)`` (an exact
    existence search for a group element mapping i to j), tried against one member each."""
    orbits = []
    for R in classes:
        rest = list(R)
        while rest:
            i = rest.pop(0)
            orb = [i] + [j for j in rest if related(i, j)]
            rest = [j for j in rest if j not in orb]
            orbits.append(sorted(orb))
    return sorted(orbits, key=lambda g: (-len(g), g))


def _row_orbits(L, TL, rclasses) -> list[list[int]]:
    """Exact orbits on rows: i ~ i' iff some group element maps i to i'."""
    K, n = L.shape
    # the marked row as an extra column of its own teacher label, fixed by every map
    TLx = np.zeros((n + 1, n + 1), dtype=np.int64)
    TLx[:n, :n] = TL
    TLx[n, n] = int(TL.min()) - 7

    def marked(i):
        Lm = np.concatenate([L, np.zeros((K, 1), dtype=L.dtype)], axis=1)
        Lm[i, n] = 1
        return Lm

    allow = [list(range(n))] * n + [[n]]
    return _orbits(rclasses, lambda i, i2: bool(
        _column_search(marked(i), marked(i2), TLx, allow, lambda perm: True, _NODE_BUDGET)[0]))


def _column_orbits(L, TL, cclasses) -> list[list[int]]:
    """Exact orbits on columns: c ~ c' iff some group element maps c to c'."""
    n = L.shape[1]

    def related(c, c2):
        allow = [list(range(n))] * n
        allow[c] = [c2]
        return bool(_column_search(L, L, TL, allow, lambda perm: True, _NODE_BUDGET)[0])

    return _orbits(cclasses, related)


def isotropy(W: np.ndarray, ctx: SymmetryContext, tol: float | None = None) -> Isotropy:
    """The isotropy group of W (K, d) under row permutations × teacher automorphisms.

    ``tol``: absolute tolerance on entries of W Vᵀ (default ``ctx.tol``).
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != ctx.d:
        raise ValueError(f"W must have shape (K, {ctx.d}), got {W.shape}")
    K = W.shape[0]
    st = stabilizer(W, ctx, tol)
    c_dim = ctx.d - ctx.rank
    if st.continuous:
        return Isotropy(label="continuous (out of span V)", order=None,
                        continuous=f"rotations of the {c_dim}-dim complement")
    L, TL, oop, refl, order = st.L, st.TL, st.oop, st.refl, st.order
    rc, cc = _refine(L, TL)
    rclasses, cclasses = _classes(rc), _classes(cc)
    pairs, row_only, col_only = _diagonal_pairing(L, rclasses, cclasses)
    n = L.shape[1]
    ok = True
    g0 = 1
    for R, Cc in pairs:
        if len(R) >= 2:
            for rp, cp in zip(_cycle_maps(K, R), _cycle_maps(n, Cc)):
                ok = ok and _fixes(L, TL, rp, cp)
        g0 *= math.factorial(len(R))
    for R in row_only:
        if len(R) >= 2:
            for rp in _cycle_maps(K, R):
                ok = ok and _fixes(L, TL, rp, np.arange(n))
        g0 *= math.factorial(len(R))
    for Cc in col_only:
        if len(Cc) >= 2:
            for cp in _cycle_maps(n, Cc):
                ok = ok and _fixes(L, TL, np.arange(K), cp)
        g0 *= math.factorial(len(Cc))
    cont = f"O({c_dim})" if (c_dim >= 1 and not oop) else None
    suffix = (f" × {cont}" if cont else "") + \
        (" (incl. the reflection s → −s of the extra coordinate)" if refl else "")
    if ok and not refl and order == g0:
        blocks = tuple(sorted((len(R) for R, _ in pairs), reverse=True))
        parts = []
        if pairs and any(len(R) >= 2 for R, _ in pairs):
            parts.append(blocks_label(blocks))
        parts += [f"S_{len(R)}(rows)" for R in row_only if len(R) >= 2]
        parts += [f"S_{len(Cc)}(columns)" for Cc in col_only if len(Cc) >= 2]
        label = (" × ".join(parts) if parts else "trivial") + suffix
        pairing = sorted([[list(map(int, R)), list(map(int, Cc))] for R, Cc in pairs],
                         key=lambda rc_: (-len(rc_[0]), rc_[0]))
        return Isotropy(label=label, order=order,
                        blocks=blocks if not row_only and not col_only else None,
                        row_orbits=sorted([sorted(R) for R, _ in pairing]
                                          + [sorted(map(int, R)) for R in row_only],
                                          key=lambda g: (-len(g), g)),
                        column_orbits=sorted([sorted(Cc) for _, Cc in pairing]
                                             + [sorted(map(int, Cc)) for Cc in col_only],
                                             key=lambda g: (-len(g), g)),
                        continuous=cont, pairing=pairing)
    row_orbits = _row_orbits(L, TL, rclasses)
    col_orbits = _column_orbits(L, TL, cclasses)
    label = ("trivial" if order == 1 else (f"order {order}" if order is not None else "unknown")) + suffix
    return Isotropy(label=label, order=order, row_orbits=[list(map(int, o)) for o in row_orbits],
                    column_orbits=[list(map(int, o)) for o in col_orbits], continuous=cont)


def block_form(W: np.ndarray, iso: Isotropy) -> tuple[np.ndarray, tuple]:
    """W with rows and columns reordered block by block (σ-paired), and the block sizes.

    Only for V = I_K, d = K and an isotropy of the form Δ(S_{p1}×…×S_{pr});
    the result lies in Fix(H) of :class:`~reludyn.critical.fixedpoint.BlockStructure`.
    """
    if iso.blocks is None or not iso.pairing:
        raise ValueError(f"isotropy {iso.label} is not of the form Δ(S_p1×…×S_pr)")
    rows = [i for R, _ in iso.pairing for i in R]
    cols = [c for _, Cc in iso.pairing for c in Cc]
    W = np.asarray(W, dtype=np.float64)
    if W.shape != (len(rows), len(cols)):
        raise ValueError("block_form needs V = I_K and d = K")
    return W[np.ix_(rows, cols)], tuple(len(R) for R, _ in iso.pairing)
