"""The symmetries of J and matching of critical points modulo them.

J(W) is unchanged by
  * permuting student rows (W -> P W),
  * any orthogonal Q with V Q = V (rotations/reflections of the orthogonal
    complement of span(V)), W -> W Q, and
  * an orthogonal Q with V Q = Π V for a permutation Π of the teacher rows; such a
    Q exists exactly when Π preserves the teacher Gram matrix VVᵀ (for an
    orthonormal teacher every Π: permuting coordinates with the teacher rows).

Two points W1, W2 are related by these maps iff there are a row permutation P
and a teacher automorphism Π with  P C1 Πᵀ = C2  and  P G1 Pᵀ = G2,  where
C = W Vᵀ (K, M) and G = W Wᵀ (K, K): equal Gram matrices of the stacked rows
[W; V] give the orthogonal map.  Matching therefore works on these invariants,
never on raw coordinates.

Teacher automorphisms: when VVᵀ = αI + β(11ᵀ − I) every Π qualifies; otherwise
the group is searched column by column (exact, with a node budget).
"""
from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

_NODE_BUDGET = 200_000


def cluster_labels(values: np.ndarray, tol: float) -> np.ndarray:
    """Integer labels of real numbers, equal when they chain within ``tol`` (single linkage)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return np.zeros(np.shape(values), dtype=np.int64)
    order = np.argsort(flat, kind="stable")
    gaps = np.diff(flat[order]) > tol
    lab_sorted = np.concatenate([[0], np.cumsum(gaps)])
    lab = np.empty(flat.size, dtype=np.int64)
    lab[order] = lab_sorted
    return lab.reshape(np.shape(values))


class SymmetryContext:
    """Everything about the teacher that matching needs: V (M, d), its Gram, the automorphisms.

    ``tol`` is an absolute tolerance on entries of C and G (callers scale it).
    """

    def __init__(self, V: np.ndarray, tol: float = 1e-6):
        self.V = np.asarray(V, dtype=np.float64)
        self.M, self.d = self.V.shape
        self.tol = float(tol)
        self.TG = self.V @ self.V.T
        M = self.M
        off = self.TG[~np.eye(M, dtype=bool)]
        diag = np.diag(self.TG)
        scale = max(1.0, float(np.max(np.abs(self.TG))))
        self.full_teacher_symmetry = bool(
            np.ptp(diag) <= 1e-12 * scale and (off.size == 0 or np.ptp(off) <= 1e-12 * scale))
        self.TG_labels = cluster_labels(self.TG, 1e-9 * scale)
        # orthonormal basis of span(V) and of its complement
        U, s, _ = np.linalg.svd(self.V.T, full_matrices=True)
        r = int(np.sum(s > 1e-10 * s[0]))
        self.rank = r
        self.span = U[:, :r]          # (d, r)
        self.complement = U[:, r:]    # (d, d - r)
        self._group_order = None

    # --- teacher automorphism group ------------------------------------
    @property
    def trivial_teacher_group(self) -> bool:
        return self.M == 1 or self.teacher_group_order() == 1

    def teacher_group_order(self) -> int | None:
        """|{Π : Π VVᵀ Πᵀ = VVᵀ}|; M! for a fully symmetric teacher; None if the search ran out."""
        if self._group_order is None:
            if self.full_teacher_symmetry:
                self._group_order = math.factorial(self.M)
            else:
                empty = np.zeros((0, self.M), dtype=np.int64)
                self._group_order = _count_column_automorphisms(empty, self.TG_labels)
        return self._group_order

    def invariants(self, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C = W Vᵀ (K, M), G = W Wᵀ (K, K))."""
        return W @ self.V.T, W @ W.T

    def plane_parts(self, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(in-plane coordinates W·span (K, r), out-of-plane coordinates W·complement (K, d−r))."""
        return W @ self.span, W @ self.complement


def _column_search(L1, L2, TL, allow, on_leaf, budget):
    """Backtracking over teacher-row (column) permutations π with L1[:, a] ~ L2[:, π(a)].

    Partial assignments must keep the multisets of row tuples equal and preserve
    the teacher Gram labels TL.  ``allow[a]`` lists the candidate images of a.
    ``on_leaf(perm)`` returns True to stop.  Returns (stopped, nodes_used) or
    (None, nodes) when the budget ran out.

    Pruning, exact: the columns fixed by ``allow`` (a single candidate) are individualized
    and both sides are colour-refined together (:func:`_refine_pair`); differing colour
    histograms end the search at once, and a column is only tried against columns of its
    colour.  Row prefixes are interned as integers, so the multiset test at a node costs
    O(K log K), not O(K·depth).
    """
    M = TL.shape[0]
    K = L1.shape[0]
    c1, c2 = [0] * M, [0] * M
    for a in range(M):
        if len(allow[a]) == 1:
            c1[a] = c2[allow[a][0]] = a + 1
    r1, k1, r2, k2 = _refine_pair(np.asarray(L1), np.asarray(L2), TL, c1, c2)
    if sorted(r1) != sorted(r2) or sorted(k1) != sorted(k2):
        return False, 0
    allow = [[b for b in allow[a] if k2[b] == k1[a]] for a in range(M)]
    A1, A2 = np.asarray(L1).tolist(), np.asarray(L2).tolist()
    intern: dict = {}
    # prefix ids of L1's rows over columns 0..a do not depend on π: one list per depth
    ids1 = [[0] * K]
    for a in range(M):
        ids1.append([intern.setdefault((ids1[a][r], A1[r][a]), len(intern)) for r in range(K)])
    sorted1 = [sorted(x) for x in ids1]
    ids2 = [[0] * K] + [None] * M
    perm = [-1] * M
    used = [False] * M
    nodes = [0]

    def rec(a):
        if a == M:
            return on_leaf(list(perm))
        prev = ids2[a]
        for b in allow[a]:
            if used[b]:
                continue
            ok = TL[a, a] == TL[b, b]
            for a2 in range(a):
                if not ok:
                    break
                ok = TL[a2, a] == TL[perm[a2], b]
            if not ok:
                continue
            nodes[0] += 1
            if nodes[0] > budget:
                raise _Budget
            nxt = [intern.get((prev[r], A2[r][b]), -1) for r in range(K)]
            if sorted(nxt) != sorted1[a + 1]:
                continue
            perm[a], used[b] = b, True
            ids2[a + 1] = nxt
            if rec(a + 1):
                return True
            perm[a], used[b] = -1, False
        return False

    try:
        return rec(0), nodes[0]
    except _Budget:
        return None, nodes[0]


class _Budget(Exception):
    pass


def _refine_pair(L1, L2, TL, c1, c2):
    """Joint colour refinement of two label matrices (K, n) with shared teacher labels TL.

    Colour refinement (1-dimensional Weisfeiler–Leman) on the disjoint union: rows by the
    multisets of (entry label, column colour), columns by (entry label, row colour) and
    by their teacher labels (TL row, column colour), from initial column colours c1, c2.
    Colours are comparable across the two sides, and every map the searches look for
    (a TL-preserving column bijection with its row bijection taking L1 to L2, respecting
    the initial colours) sends each row and column to one of its own colour.
    Returns (row colours 1, column colours 1, row colours 2, column colours 2).
    """
    K, n = L1.shape
    r1 = [0] * K
    r2 = [0] * K
    d = np.diag(TL).tolist()
    init = {s: i for i, s in enumerate(sorted(set(zip(d, c1)) | set(zip(d, c2))))}
    k1 = [init[s] for s in zip(d, c1)]
    k2 = [init[s] for s in zip(d, c2)]
    A1, A2 = L1.tolist(), L2.tolist()
    B1, B2 = L1.T.tolist(), L2.T.tolist()
    T = TL.tolist()
    classes = (1, len(init))
    for _ in range(2 * (K + n) + 2):
        rs1 = [(r1[i], tuple(sorted(zip(A1[i], k1)))) for i in range(K)]
        rs2 = [(r2[i], tuple(sorted(zip(A2[i], k2)))) for i in range(K)]
        cs1 = [(k1[c], tuple(sorted(zip(B1[c], r1))), tuple(sorted(zip(T[c], k1))))
               for c in range(n)]
        cs2 = [(k2[c], tuple(sorted(zip(B2[c], r2))), tuple(sorted(zip(T[c], k2))))
               for c in range(n)]
        rmap = {s: i for i, s in enumerate(sorted(set(rs1) | set(rs2)))}
        cmap = {s: i for i, s in enumerate(sorted(set(cs1) | set(cs2)))}
        r1, r2 = [rmap[s] for s in rs1], [rmap[s] for s in rs2]
        k1, k2 = [cmap[s] for s in cs1], [cmap[s] for s in cs2]
        if (len(rmap), len(cmap)) == classes:
            break
        classes = (len(rmap), len(cmap))
    return r1, k1, r2, k2


def _refine(L: np.ndarray, TL: np.ndarray):
    """Stable colour classes (rows (K,), columns (n,)) of one label matrix L (K, n):
    :func:`_refine_pair` of L with itself; automorphisms preserve them.  The latest 256
    results are remembered (a new catalogue entry needs them for its orbit size and
    again for its isotropy)."""
    L, TL = np.ascontiguousarray(L), np.ascontiguousarray(TL)

    def compute():
        zero = [0] * L.shape[1]
        r, c, _, _ = _refine_pair(L, L, TL, zero, zero)
        return np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)

    key = (L.dtype.str, L.shape, L.tobytes(), TL.dtype.str, TL.shape, TL.tobytes())
    r, c = _remember(_REFINED, key, compute)
    return r.copy(), c.copy()


def _remember(store: dict, key, compute):
    """store[key], computed by ``compute()`` if absent; the 256 latest keys are kept
    (oldest dropped first)."""
    if key not in store:
        if len(store) >= 256:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


_REFINED: dict = {}  # recent results of _refine


def _count_column_automorphisms(L, TL, budget=_NODE_BUDGET) -> int | None:
    """|{Π preserving TL with rows(L Πᵀ) = rows(L) as multisets}| by the orbit-stabilizer chain.

    |A| = Π_i |orbit of column i under the stabilizer of columns 0..i−1|.  The columns
    are taken from last to first, so every automorphism found so far (at a later column
    i', fixing columns 0..i'−1) lies in the stabilizer at i: each orbit is first closed
    under those, and an existence search is run only for columns not reached that way
    (a symmetric group on m columns costs about m searches, not m²/2).  Columns are only
    tried against columns of their own refined colour (:func:`_refine`), which is exact
    and makes points without symmetry (all colours distinct) free.
    """
    M = TL.shape[0]
    L = np.asarray(L, dtype=np.int64).reshape(-1, M)
    _, cc = _refine(L, TL)
    cls = [[b for b in range(M) if cc[b] == cc[a]] for a in range(M)]
    order = 1
    used_nodes = 0
    gens: list[list[int]] = []

    def close(orbit: set) -> None:
        todo = list(orbit)
        while todo:
            x = todo.pop()
            for g in gens:
                if g[x] not in orbit:
                    orbit.add(g[x])
                    todo.append(g[x])

    for i in range(M - 1, -1, -1):
        if len(cls[i]) == 1:
            continue  # a column of its own colour is fixed by every automorphism
        orbit = {i}
        close(orbit)
        for b in range(i + 1, M):
            if cc[b] != cc[i] or b in orbit:
                continue
            allow = [[a] for a in range(i)] + [[b]] + [cls[a] for a in range(i + 1, M)]
            hit: list = []
            found, n = _column_search(L, L, TL, allow, lambda perm: hit.append(perm) or True,
                                      budget - used_nodes)
            used_nodes += n
            if found is None:
                return None
            if found:
                gens.append(hit[0])
                close(orbit)
        order *= len(orbit)
    return order


def match_rows(A: np.ndarray, B: np.ndarray, *, squared: bool = True, extra=None) -> np.ndarray:
    """The row permutation p pairing A[p[j]] with B[j] at least total cost (Hungarian algorithm).

    A, B: (n, m). Cost of a pair: squared Euclidean distance of the rows (``squared``)
    or the distance, plus ``extra[i, j]`` (n, n) when given. The one row matcher of
    reludyn: catalogue matching, the analyses' teacher distances and figure alignment.
    """
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 2 or A.shape != B.shape:
        raise ValueError(f"A and B must be (n, m) arrays of one shape, got {A.shape} and {B.shape}")
    if squared:
        cost = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
    else:
        cost = np.linalg.norm(A[:, None, :] - B[None, :, :], axis=2)
    if extra is not None:
        cost = cost + extra
    r, c = linear_sum_assignment(cost)
    p = np.empty(len(c), dtype=np.int64)
    p[c] = r
    return p


def _row_assignment(C1, C2, n1, n2):
    """Row permutation p (C1[p[j]] ~ C2[j]) minimizing squared mismatch of C rows and norms."""
    return match_rows(C1, C2, extra=(n1[:, None] - n2[None, :]) ** 2)


def _tie_groups(C, n, tol):
    """Groups of rows with equal C rows and norms (within tol): candidates for reshuffling."""
    K = C.shape[0]
    groups, seen = [], set()
    for i in range(K):
        if i in seen:
            continue
        g = [j for j in range(K) if j not in seen
             and np.max(np.abs(C[i] - C[j]), initial=0.0) <= tol and abs(n[i] - n[j]) <= tol]
        seen.update(g)
        if len(g) > 1:
            groups.append(g)
    return groups


def _verify_rows(G1, G2, p, tol) -> bool:
    return bool(np.max(np.abs(G1[np.ix_(p, p)] - G2), initial=0.0) <= tol)


def _match_rows(C1, G1, C2, G2, tol, max_tries=5040):
    """Row permutation p with C1[p] ≈ C2 and G1[p][:, p] ≈ G2, or None."""
    n1, n2 = np.sqrt(np.maximum(np.diag(G1), 0)), np.sqrt(np.maximum(np.diag(G2), 0))
    p = _row_assignment(C1, C2, n1, n2)
    if (np.max(np.abs(C1[p] - C2), initial=0.0) > tol
            or np.max(np.abs(n1[p] - n2), initial=0.0) > tol):
        return None
    if _verify_rows(G1, G2, p, tol):
        return p
    # rows with equal teacher projections and norms differ only out of the plane;
    # try reassigning them within their groups (bounded)
    groups = _tie_groups(C2, n2, tol)
    sizes = [math.factorial(len(g)) for g in groups]
    if not groups or math.prod(sizes) > max_tries:
        return None
    for choice in itertools.product(*[itertools.permutations(g) for g in groups]):
        q = p.copy()
        for g, perm in zip(groups, choice):
            q[list(g)] = p[list(perm)]
        if _verify_rows(G1, G2, q, tol):
            return q
    return None


def match(W1: np.ndarray, W2: np.ndarray, ctx: SymmetryContext, tol: float | None = None):
    """Find (p, π) with W2 ≈ (row-permuted W1) under a symmetry of J, or None.

    p: row permutation (W2 row j corresponds to W1 row p[j]); π: teacher-row
    permutation (column a of C1 goes to column π[a] of C2; identity when the teacher
    has no automorphisms). ``tol``: absolute tolerance on entries of C and G.
    """
    tol = ctx.tol if tol is None else tol
    C1, G1 = ctx.invariants(W1)
    C2, G2 = ctx.invariants(W2)
    if C1.shape != C2.shape:
        return None
    ident = np.arange(ctx.M)
    p = _match_rows(C1, G1, C2, G2, tol)
    if p is not None:
        return p, ident
    if ctx.trivial_teacher_group:
        return None
    # quick screen: the multisets of entries of C must agree
    if np.max(np.abs(np.sort(C1, axis=None) - np.sort(C2, axis=None)), initial=0.0) > tol:
        return None
    labels = cluster_labels(np.concatenate([C1.ravel(), C2.ravel()]), tol)
    K, M = C1.shape
    L1 = labels[: K * M].reshape(K, M)
    L2 = labels[K * M:].reshape(K, M)
    # norms as an extra, unpermuted column of labels
    nl = cluster_labels(np.concatenate([np.diag(G1), np.diag(G2)]), tol)
    col1 = [sorted(L1[:, a].tolist()) for a in range(M)]
    col2 = [sorted(L2[:, b].tolist()) for b in range(M)]
    allow = [[b for b in range(M) if col1[a] == col2[b]] for a in range(M)]
    found = {}

    def leaf(perm):
        pi = np.asarray(perm)
        C1p = np.empty_like(C1)
        C1p[:, pi] = C1  # column a of C1 goes to column π(a)
        q = _match_rows(C1p, G1, C2, G2, tol)
        if q is not None:
            found["r"] = (q, pi)
            return True
        return False

    L1n = np.concatenate([L1, nl[:K, None]], axis=1)
    L2n = np.concatenate([L2, nl[K:, None]], axis=1)
    TLn = np.zeros((M + 1, M + 1), dtype=np.int64)
    TLn[:M, :M] = ctx.TG_labels
    TLn[M, M] = -1
    allow_n = allow + [[M]]
    _column_search(L1n, L2n, TLn, allow_n,
                   lambda perm: leaf(perm[:M]), _NODE_BUDGET)
    return found.get("r")


def _extended_TL(ctx: SymmetryContext, extra: int) -> np.ndarray:
    """Teacher Gram labels plus ``extra`` columns that can only map to themselves."""
    M = ctx.M
    TL = np.zeros((M + extra, M + extra), dtype=np.int64)
    TL[:M, :M] = ctx.TG_labels + 1
    for e in range(extra):
        TL[M + e, M + e] = -1 - e
    return TL


def _exists_column_map(X1, X2, TL, tol) -> bool | None:
    """Whether some Π (preserving TL) and row permutation give X1 Πᵀ ≈ X2 (labels within tol)."""
    lab = cluster_labels(np.concatenate([X1.ravel(), X2.ravel()]), tol)
    L1 = lab[: X1.size].reshape(X1.shape)
    L2 = lab[X1.size:].reshape(X2.shape)
    n = X1.shape[1]
    col1 = [sorted(L1[:, a].tolist()) for a in range(n)]
    col2 = [sorted(L2[:, b].tolist()) for b in range(n)]
    allow = [[b for b in range(n) if col1[a] == col2[b]] for a in range(n)]
    found, _ = _column_search(L1, L2, TL, allow, lambda perm: True, _NODE_BUDGET)
    return found


class Stabilizer(NamedTuple):
    """The discrete stabilizer of W, shared by :func:`orbit_size` and the isotropy.

    C (K, M), out (K, d − rank V): in-plane invariants and out-of-plane coordinates; X: the
    labelled matrix (C, or [C, out] for an out-of-plane point), L its labels, TL the column
    labels; oop: out of span V; continuous: out of span V with a complement of dimension
    >= 2 (rotations fix W: no finite order); refl: the reflection s -> −s of a single extra
    coordinate is in the group; order: |Stab| (None: continuous, or a search ran out)."""

    C: np.ndarray
    out: np.ndarray
    X: np.ndarray
    L: np.ndarray
    TL: np.ndarray
    oop: bool
    continuous: bool
    refl: bool
    order: int | None


def stabilizer(W: np.ndarray, ctx: SymmetryContext, tol: float | None = None) -> Stabilizer:
    """|Stab(W)| = |{Π ∈ T : rows(X Πᵀ) = rows(X)}| · Π_i m_i! (· 2 with the reflection), m_i
    the multiplicities of equal rows of X.  The latest 256 results are remembered: a new
    catalogue entry needs it twice (its orbit size and its isotropy)."""
    tol = ctx.tol if tol is None else float(tol)
    W = np.ascontiguousarray(W, dtype=np.float64)
    key = (W.shape, W.tobytes(), ctx.V.tobytes(), tol)
    return _remember(_STABILIZERS, key, lambda: _stabilizer(W, ctx, tol))


_STABILIZERS: dict = {}  # recent results of stabilizer


def _stabilizer(W, ctx, tol) -> Stabilizer:
    _, out = ctx.plane_parts(W)
    oop = out.size > 0 and float(np.max(np.abs(out))) > tol
    C, _ = ctx.invariants(W)
    X = np.concatenate([C, out], axis=1) if oop else C
    TL = _extended_TL(ctx, 1 if oop else 0)
    L = cluster_labels(X, tol)
    if oop and out.shape[1] >= 2:
        return Stabilizer(C, out, X, L, TL, True, True, False, None)
    mult: dict = {}
    for row in map(tuple, L.tolist()):
        mult[row] = mult.get(row, 0) + 1
    A = _count_column_automorphisms(L, TL)
    order = None if A is None else A * math.prod(math.factorial(m) for m in mult.values())
    refl = False
    if oop and order is not None:
        found = _exists_column_map(X, np.concatenate([C, -out], axis=1), TL, tol)
        refl = bool(found)
        order = None if found is None else order * (2 if refl else 1)
    return Stabilizer(C, out, X, L, TL, bool(oop), False, refl, order)


def group_order(ctx: SymmetryContext, K: int, out_of_plane: bool = False) -> int | None:
    """|S_K × T| (T: teacher automorphisms), ×2 for an out-of-plane point with a 1-dim complement
    (the reflection of the extra coordinate): the discrete group whose orbits ``orbit_size`` counts."""
    T = ctx.teacher_group_order()
    if T is None:
        return None
    return math.factorial(K) * T * (2 if out_of_plane and ctx.d - ctx.rank == 1 else 1)


def orbit_size(W: np.ndarray, ctx: SymmetryContext, tol: float | None = None) -> int | None:
    """Number of distinct points in the orbit of W under the symmetries of J, or None if infinite.

    |G| / |Stab(W)| (:func:`group_order`, :func:`stabilizer`): G = S_K × T with T the
    teacher automorphisms, doubled for an out-of-plane point with one extra coordinate (its
    reflection s -> −s).  Out-of-plane points have a continuous orbit (rotations of the
    complement) when d − rank(V) >= 2.  Returns None too when the group search exceeds
    its node budget.
    """
    st = stabilizer(W, ctx, tol)
    G = group_order(ctx, W.shape[0], st.oop)
    if st.order is None or G is None:
        return None
    return G // st.order


def symmetry_summary(W: np.ndarray, ctx: SymmetryContext, tol: float | None = None) -> dict:
    """Distinct entry values of C = W Vᵀ and its block pattern up to row/column permutation.

    ``values``: the distinct entries (cluster means, ascending); ``pattern``: C's
    entries replaced by the index of their value, rows and columns sorted into a
    canonical-ish order (lexicographic, alternated until stable); ``row_classes`` /
    ``column_classes``: the number of distinct rows / columns.
    """
    tol = ctx.tol if tol is None else tol
    C, _ = ctx.invariants(W)
    lab = cluster_labels(C, tol)
    uniq, inv = np.unique(lab, return_inverse=True)
    values = (np.bincount(inv.ravel(), weights=C.ravel())
              / np.bincount(inv.ravel())).tolist()  # cluster means, one pass
    # relabel by ascending value (labels already ascend with value)
    P = lab.copy()
    if not ctx.trivial_teacher_group:
        for _ in range(2 * (C.shape[0] + C.shape[1])):
            Q = P[np.lexsort(P.T[::-1])]
            Q = Q[:, np.lexsort(Q[::-1])]
            if np.array_equal(Q, P):
                break
            P = Q
    else:
        P = P[np.lexsort(P.T[::-1])]
    return {
        "values": values,
        "pattern": P.tolist(),
        "row_classes": int(len({tuple(r) for r in lab.tolist()})),
        "column_classes": int(len({tuple(c) for c in lab.T.tolist()})),
    }


def symmetry_zero_modes(W: np.ndarray, ctx: SymmetryContext, tol: float = 1e-9) -> int:
    """Dimension of the orbit of W under rotations of the complement of span(V).

    The tangent vectors are W Aᵀ for skew A = U S Uᵀ (U: orthonormal basis of the
    complement, S skew); the count is the rank of these vectors (relative ``tol``).
    """
    U = ctx.complement
    c = U.shape[1]
    if c < 2:
        return 0
    Z = W @ U  # (K, c) out-of-plane coordinates
    vecs = []
    for a in range(c):
        for b in range(a + 1, c):
            S = np.zeros((c, c))
            S[a, b], S[b, a] = 1.0, -1.0
            vecs.append((Z @ S.T @ U.T).ravel())
    T = np.asarray(vecs)
    s = np.linalg.svd(T, compute_uv=False)
    scale = max(float(np.max(np.abs(W))), 1.0)
    return int(np.sum(s > tol * scale))


def coincident_groups(W: np.ndarray, tol: float = 1e-4) -> list[list[int]]:
    """Groups (size >= 2) of nonzero rows with the same direction: ‖e_j − e_k‖ <= tol."""
    n = np.linalg.norm(W, axis=1)
    live = np.flatnonzero(n > 0)
    E = W[live] / n[live, None]
    close = np.linalg.norm(E[:, None, :] - E[None, :, :], axis=2) <= tol
    if np.count_nonzero(close) == len(live):  # only the diagonal: no group
        return []
    groups, seen = [], set()
    for a in range(len(live)):
        if a in seen:
            continue
        g = [b for b in range(a, len(live)) if b not in seen and close[a, b]]
        seen.update(g)
        if len(g) > 1:
            groups.append([int(live[b]) for b in g])
    return groups


def equalize_coincident(W: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Canonical representative of coincident rows: equal shares of their summed norm.

    Rows w_j = a_j e with one direction e enter the network only through
    Σ_j relu(a_j eᵀx) = (Σ_j a_j) relu(eᵀx), so J is constant along the splits of
    the total norm: critical points come in such lines.  The equal split is the
    representative kept in a catalogue (the symmetric saddle x_s(1, …, 1) for an
    orthonormal teacher is one).
    """
    W = np.array(W, dtype=np.float64)
    for g in coincident_groups(W, tol):
        rows = W[g]
        total = float(np.sum(np.linalg.norm(rows, axis=1)))
        s = rows.sum(axis=0)
        e = s / np.linalg.norm(s)
        W[g] = (total / len(g)) * e
    return W
