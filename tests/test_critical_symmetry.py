"""Symmetry matching, orbit sizes and zero-mode counts against brute force and closed forms."""
import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn as rd
from reludyn.critical.symmetry import (SymmetryContext, cluster_labels, coincident_groups,
                                       equalize_coincident, match, orbit_size,
                                       symmetry_summary, symmetry_zero_modes)


def _rotation_fixing(V, rng):
    """A random orthogonal Q (d, d) with V Q = V: identity on span(V), random on the complement."""
    d = V.shape[1]
    U, s, _ = np.linalg.svd(V.T, full_matrices=True)
    r = int(np.sum(s > 1e-10))
    S, C = U[:, :r], U[:, r:]
    R, _ = np.linalg.qr(rng.standard_normal((d - r, d - r))) if d > r else (np.zeros((0, 0)), 0)
    return S @ S.T + C @ R @ C.T


def _brute_orbit(W, V, with_reflection=False):
    """Distinct points P W Q over row perms P and teacher perms Π realized by orthogonal maps."""
    K, d = W.shape
    M = V.shape[0]
    G = V @ V.T
    pts = set()
    U, s, _ = np.linalg.svd(V.T, full_matrices=True)
    r = int(np.sum(s > 1e-10))
    for pi in itertools.permutations(range(M)):
        pi = list(pi)
        if not np.allclose(G[np.ix_(pi, pi)], G):
            continue
        # orthogonal Q with V Q = Π V on span(V): least squares on the span (exact here)
        Qs = np.linalg.lstsq(V, V[pi], rcond=None)[0]
        Q0 = Qs + (U[:, r:] @ U[:, r:].T)
        refl = [1, -1] if with_reflection else [1]
        for sgn in refl:
            Q = Q0 - (1 - sgn) * (U[:, r:] @ U[:, r:].T)
            X = W @ Q
            for p in itertools.permutations(range(K)):
                pts.add(tuple(np.round(X[list(p)], 8).ravel() + 0.0))
    return len(pts)


def test_loss_is_invariant_under_the_group():
    rng = np.random.default_rng(0)
    P = rd.Problem.orthonormal(3, 5)
    W = rng.standard_normal((3, 5))
    Q = _rotation_fixing(P.V, rng)
    pi = [2, 0, 1]
    Cperm = np.eye(5)
    Cperm[:3, :3] = np.eye(3)[pi]
    for X in (W[[1, 2, 0]], W @ Q, W @ Cperm):
        assert_allclose(P.loss(X), P.loss(W), rtol=1e-12)


@pytest.mark.parametrize("M,d", [(2, 2), (3, 3), (3, 5), (4, 6)])
def test_match_finds_symmetric_copies(M, d):
    rng = np.random.default_rng(M * 10 + d)
    V = rd.Problem.orthonormal(M, d).V
    ctx = SymmetryContext(V, 1e-8)
    for _ in range(5):
        W = rng.standard_normal((M, d))
        Q = _rotation_fixing(V, rng)
        pi = rng.permutation(M)
        Cp = np.eye(d)
        Cp[:M, :M] = np.eye(M)[pi]
        W2 = (W @ Q @ Cp)[rng.permutation(M)]
        res = match(W, W2, ctx)
        assert res is not None
        p, col = res
        C1, G1 = ctx.invariants(W)
        C2, G2 = ctx.invariants(W2)
        C1p = np.empty_like(C1)
        C1p[:, col] = C1
        assert_allclose(C1p[p], C2, atol=1e-10)
        assert_allclose(G1[np.ix_(p, p)], G2, atol=1e-10)
        # a genuinely different point is not matched
        assert match(W, W2 + 1e-3 * rng.standard_normal(W2.shape), ctx) is None


def test_gaussian_teacher_allows_no_column_permutation():
    P = rd.Problem.gaussian(3, 3, seed=1)
    ctx = SymmetryContext(P.V, 1e-8)
    assert ctx.teacher_group_order() == 1
    W = P.V.copy()
    W2 = W @ np.eye(3)[[1, 0, 2]]  # permuting coordinates is not a symmetry here
    assert not np.isclose(P.loss(W2), P.loss(W))
    assert match(W, W2, ctx) is None
    assert match(W, W[[2, 0, 1]], ctx) is not None


def test_teacher_group_orders():
    assert SymmetryContext(np.eye(4)).teacher_group_order() == 24
    # two equal rows and one longer row: only the swap of the equal ones
    V = np.diag([1.0, 1.0, 2.0])
    assert SymmetryContext(V).teacher_group_order() == 2
    # three rows at 120 degrees in the plane (M > d): all 6 permutations
    ang = np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
    V = np.stack([np.cos(ang), np.sin(ang)], 1)
    assert SymmetryContext(V).teacher_group_order() == 6


@pytest.mark.parametrize("case", range(6))
def test_orbit_size_matches_brute_force(case):
    rng = np.random.default_rng(case)
    V = [np.eye(3), np.eye(3), np.diag([1.0, 1.0, 2.0]), np.eye(3)[:2], np.eye(3),
         np.eye(4)[:3]][case]
    M, d = V.shape
    K = 3
    a, b = rng.uniform(0.2, 1.0, 2)
    Ws = [rng.standard_normal((K, M)) @ V,                      # generic in-plane
          (a * np.eye(3) + b * (1 - np.eye(3)))[:K, :M] @ V,   # symmetric family
          np.vstack([V[0], V[0], V[1]])[:K] * 1.0,              # repeated rows
          np.full((K, M), 0.4) @ V]                             # all rows equal
    ctx = SymmetryContext(V, 1e-7)
    for W in Ws:
        assert orbit_size(W, ctx) == _brute_orbit(W, V)


def test_orbit_size_out_of_plane():
    ctx = SymmetryContext(np.eye(3)[:2], 1e-7)  # d - r = 1: reflection of the third axis
    rng = np.random.default_rng(3)
    for W in (rng.standard_normal((2, 3)), np.array([[0.5, 0.5, 0.3], [0.5, 0.5, -0.3]])):
        assert orbit_size(W, ctx) == _brute_orbit(W, np.eye(3)[:2], with_reflection=True)
    ctx4 = SymmetryContext(np.eye(4)[:2], 1e-7)  # continuous orbit
    assert orbit_size(rng.standard_normal((2, 4)), ctx4) is None
    assert orbit_size(np.eye(4)[:2], ctx4) == 2


@pytest.mark.parametrize("d,k", [(4, 1), (4, 2), (6, 1), (6, 2), (7, 3), (3, 1)])
def test_zero_modes_equal_orbit_dimension(d, k):
    """Rotations of the c-dim complement acting on k independent out-of-plane parts:
    the orbit is a Stiefel-like manifold of dimension k·c − k(k+1)/2 (c >= 2)."""
    rng = np.random.default_rng(d + k)
    M = 2
    V = np.eye(d)[:M]
    c = d - M
    W = np.zeros((3, d))
    W[:, :M] = rng.standard_normal((3, M))
    basis = rng.standard_normal((k, c))
    W[:, M:] = rng.standard_normal((3, k)) @ basis
    expect = k * c - k * (k + 1) // 2 if c >= 2 else 0
    assert symmetry_zero_modes(W, SymmetryContext(V)) == expect
    # independent check: finite-difference tangent vectors of random one-parameter rotations
    from scipy.linalg import expm
    U = np.eye(d)[:, M:]
    T = []
    for a in range(c):
        for b in range(a + 1, c):
            S = np.zeros((c, c))
            S[a, b], S[b, a] = 1, -1
            h = 1e-6
            T.append(((W @ expm(h * U @ S @ U.T)) - W).ravel() / h)
    rank = np.linalg.matrix_rank(np.array(T), tol=1e-4) if T else 0
    assert rank == expect


def test_cluster_labels_and_summary():
    lab = cluster_labels(np.array([0.0, 1e-9, 1.0, 1.0 + 2e-9, 0.5]), 1e-8)
    assert lab.tolist() == [0, 0, 2, 2, 1]
    ctx = SymmetryContext(np.eye(3), 1e-8)
    W = 0.7 * np.eye(3) + 0.1 * (1 - np.eye(3))
    s = symmetry_summary(W[[2, 0, 1]], ctx)
    assert_allclose(s["values"], [0.1, 0.7])
    assert s["pattern"] == [[0, 0, 1], [0, 1, 0], [1, 0, 0]] or \
        sorted(map(sorted, s["pattern"])) == [[0, 0, 1]] * 3
    assert s["row_classes"] == 3 and s["column_classes"] == 3


def test_equalize_coincident_keeps_network_and_loss():
    V = np.eye(3)
    W = np.array([[0.3, 0.6, 0.0], [0.1, 0.2, 0.0], [0.0, 0.0, 1.0]])
    assert coincident_groups(W) == [[0, 1]]
    We = equalize_coincident(W)
    assert_allclose(We[0], We[1])
    assert_allclose(We[0] + We[1], W[0] + W[1])
    assert_allclose(rd.loss(We, V), rd.loss(W, V), rtol=1e-13)


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), K=st.integers(1, 4), d=st.integers(3, 5))
def test_property_group_images_match_and_share_orbit_size(seed, K, d):
    rng = np.random.default_rng(seed)
    M = 3
    V = np.eye(d)[:M]
    ctx = SymmetryContext(V, 1e-8)
    W = np.round(rng.standard_normal((K, d)), 1)  # rounding creates ties and repeated rows
    if d > M + 1:
        W[:, M + 1:] = 0.0  # keep finite orbits in play as well
    Q = _rotation_fixing(V, rng) if d == M + 1 else np.eye(d)
    Cp = np.eye(d)
    Cp[:M, :M] = np.eye(M)[rng.permutation(M)]
    W2 = (W @ Q @ Cp)[rng.permutation(K)]
    assert_allclose(rd.loss(W2, V), rd.loss(W, V), rtol=1e-10, atol=1e-12)
    assert match(W, W2, ctx) is not None
    assert orbit_size(W, ctx) == orbit_size(W2, ctx)


# --- the one row matcher -----------------------------------------------------------------
@pytest.mark.parametrize("squared", [True, False])
@pytest.mark.parametrize("n, m, seed", [(1, 2, 0), (3, 2, 1), (4, 3, 2), (5, 5, 3)])
def test_match_rows_is_the_best_permutation(n, m, seed, squared):
    from reludyn.critical.symmetry import match_rows

    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, m)), rng.standard_normal((n, m))
    extra = rng.random((n, n))

    def cost(p):  # brute force over every permutation: the oracle
        d = np.linalg.norm(A[list(p)] - B, axis=1)
        return float(np.sum(d ** 2 if squared else d) + sum(extra[p[j], j] for j in range(n)))

    best = min(itertools.permutations(range(n)), key=cost)
    p = match_rows(A, B, squared=squared, extra=extra)
    assert sorted(p.tolist()) == list(range(n))
    assert_allclose(cost(tuple(p)), cost(best), rtol=1e-12)
    # a row-permuted copy is recovered exactly
    q = rng.permutation(n)
    assert_allclose(A[match_rows(A, A[q])], A[q])
    with pytest.raises(ValueError):
        match_rows(A, B[:, :1] if m > 1 else B[:0])


def _brute_automorphisms(L, TL):
    M = TL.shape[0]
    rows = sorted(map(tuple, L.tolist()))
    return sum(np.array_equal(TL[np.ix_(pi, pi)], TL) and
               sorted(map(tuple, L[:, list(pi)].tolist())) == rows
               for pi in itertools.permutations(range(M)))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**32 - 1),
       st.booleans())
def test_column_automorphisms_and_isomorphism_search_match_brute_force(K, M, nl, seed, gram):
    """The colour-refined, interned search counts exactly the automorphisms that brute force
    over all M! column permutations finds (with a uniform or a structured teacher Gram), and
    decides isomorphism of L with a row/column-shuffled copy (always) and with an edit."""
    from reludyn.critical.symmetry import _column_search, _count_column_automorphisms

    rng = np.random.default_rng(seed)
    base = rng.integers(0, nl, (K, max(1, M // 2)))
    L = base[:, rng.integers(0, base.shape[1], M)]  # repeated columns: real symmetry
    TL = np.eye(M, dtype=np.int64)
    if gram:
        T = rng.integers(0, 2, (M, M))
        TL = np.triu(T) + np.triu(T, 1).T
        np.fill_diagonal(TL, 5)
    assert _count_column_automorphisms(L, TL) == _brute_automorphisms(L, TL)
    rp, cp = rng.permutation(K), rng.permutation(M)
    L2, TL2 = L[rp][:, cp], TL[np.ix_(cp, cp)]
    allow = [list(range(M)) for _ in range(M)]
    if np.array_equal(TL2, TL):
        assert _column_search(L, L2, TL, allow, lambda perm: True, 10**6)[0] is True
    L3 = L2.copy()
    L3[rng.integers(K), rng.integers(M)] += 1
    # π maps column a of L to column π(a) of L3: L[:, a] ~ L3[:, π(a)]
    brute = any(np.array_equal(TL[np.ix_(pi, pi)], TL) and
                sorted(map(tuple, L3[:, list(pi)].tolist())) == sorted(map(tuple, L.tolist()))
                for pi in itertools.permutations(range(M)))
    assert _column_search(L, L3, TL, allow, lambda perm: True, 10**6)[0] is brute


def test_column_automorphism_count_matches_brute_force_on_planted_symmetries():
    """Label matrices with repeated and permuted columns (groups up to S_3 × S_2 and
    wreath-like products), teacher labels TL symmetric or not: the orbit-closure count
    equals the number of column permutations found by trying all M! of them."""
    from reludyn.critical.symmetry import _count_column_automorphisms

    rng = np.random.default_rng(5)
    for trial in range(60):
        M = int(rng.integers(2, 7))
        K = int(rng.integers(1, 5))
        base = rng.integers(0, 3, size=(K, int(rng.integers(1, M + 1))))
        L = base[:, rng.integers(0, base.shape[1], size=M)]  # repeated columns
        if trial % 3 == 0:  # and a row-permuted copy of some columns
            L = L[rng.permutation(K)]
        TL = np.zeros((M, M), dtype=np.int64)
        if trial % 2:
            t = rng.integers(0, 2, size=M)
            TL = np.add.outer(t, t)
        rows = sorted(map(tuple, L.tolist()))
        brute = sum(
            1 for pi in itertools.permutations(range(M))
            if all(TL[a, b] == TL[pi[a], pi[b]] for a in range(M) for b in range(M))
            and sorted(map(tuple, L[:, np.argsort(pi)].tolist())) == rows)
        assert _count_column_automorphisms(L, TL) == brute, (L, TL)
