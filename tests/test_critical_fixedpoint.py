"""Fixed-point subspaces: reduced loss/grad/Hessian against the full kernels and finite differences."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn.critical.fixedpoint import (BlockStructure, find_reduced_critical_points,
                                         parse_blocks, solve_reduced)
from reludyn.landscape import grad, hessian, loss

STRUCTS = [(1,), (2,), (5,), (4, 1), (5, 1), (2, 2), (3, 2, 1), (6, 1, 1), (12, 3), (27, 2, 1)]


def _theta(st, rng):
    th = rng.normal(0.0, 0.4, st.dim)
    for a in range(st.r):
        th[st.alpha(a)] += 0.8 * rng.choice([-1.0, 1.0])
    return th


@pytest.mark.parametrize("blocks", STRUCTS)
def test_reduced_matches_full_kernels(blocks):
    st = BlockStructure(blocks)
    rng = np.random.default_rng(sum(blocks))
    for _ in range(3):
        th = _theta(st, rng)
        W = st.embed(th)
        V = np.eye(st.K)
        B = st.embedding_matrix()
        assert_allclose(st.reduced_loss(th), loss(W, V), rtol=1e-12, atol=1e-13)
        g = grad(W, V)
        assert_allclose(st.reduced_grad(th), B.T @ g.ravel(), atol=1e-11)
        # the full gradient lies in Fix(H): it equals its projection B(BᵀB)⁻¹Bᵀ∇J
        P = B @ np.linalg.solve(B.T @ B, B.T @ g.ravel())
        assert_allclose(P, g.ravel(), atol=1e-12)
        assert_allclose(st.full_grad(th), g, atol=1e-12)
        if st.K <= 16:
            assert_allclose(st.reduced_hessian(th), B.T @ hessian(W, V) @ B, atol=1e-10)


@pytest.mark.parametrize("blocks", [(3,), (5, 1), (3, 2, 1), (40, 1)])
def test_reduced_derivatives_finite_differences(blocks):
    st = BlockStructure(blocks)
    th = _theta(st, np.random.default_rng(7))
    h = 1e-5
    E = np.eye(st.dim)
    fd_g = np.array([(st.reduced_loss(th + h * e) - st.reduced_loss(th - h * e)) / (2 * h) for e in E])
    assert_allclose(st.reduced_grad(th), fd_g, rtol=1e-6, atol=1e-8)
    fd_H = np.array([(st.reduced_grad(th + h * e) - st.reduced_grad(th - h * e)) / (2 * h) for e in E])
    assert_allclose(st.reduced_hessian(th), fd_H, rtol=1e-5, atol=1e-6)


def test_dimensions_and_embedding():
    assert BlockStructure((9, 1)).dim == 5
    assert BlockStructure((10,)).dim == 2
    assert BlockStructure((3, 2, 1)).dim == 3 + 9 - 1
    st = BlockStructure((3, 2))
    th = np.arange(1.0, st.dim + 1)
    W = st.embed(th)
    assert_allclose(st.restrict(W), th)
    assert len(np.unique(W)) == st.dim
    # invariant under a permutation of block 1 applied to rows and columns together
    p = np.array([1, 2, 0, 4, 3])
    assert_allclose(W[np.ix_(p, p)], W)


def test_parse_blocks():
    assert parse_blocks("K-1,1", 6) == (5, 1)
    assert parse_blocks("K", 4) == (4,)
    assert parse_blocks("3,2,1") == (3, 2, 1)
    assert parse_blocks("Δ(S_5×S_1)", 6) == (5, 1)
    for bad in ["", "K-1,,1", "K-x", "K*2", "abc", "K-1;1"]:
        with pytest.raises(ValueError, match="isotropy"):
            parse_blocks(bad, 6)
    with pytest.raises(ValueError, match="add up"):
        parse_blocks("K-1,2", 6)
    with pytest.raises(ValueError, match="< 1"):
        parse_blocks("K-6,6", 6)
    with pytest.raises(TypeError):
        parse_blocks(5, 6)


# Safran & Shamir (2018), LITERATURE.md: the lowest spurious minimum ("type A")
TYPE_A = {6: 0.0250805810, 10: 0.0187021946, 20: 0.0112755819}


@pytest.mark.parametrize("K", sorted(TYPE_A))
def test_type_a_losses_match_published(K):
    st = BlockStructure((K - 1, 1))
    found = find_reduced_critical_points(st, n_starts=40, seed=0)
    losses = np.array([r.loss for r in found])
    assert np.min(np.abs(losses - TYPE_A[K])) < 1e-9
    # it is the lowest non-global critical point of this isotropy
    assert_allclose(losses[losses > 1e-10][0], TYPE_A[K], atol=1e-9)


def test_solve_reduced_reaches_full_space_critical_point():
    from reludyn.newton import newton_polish
    st = BlockStructure((9, 1))
    res = solve_reduced(st, [1.0, -0.7, -0.02, 0.18, 0.13])
    assert res.success
    W = st.embed(res.theta)
    assert np.max(np.abs(grad(W, np.eye(10)))) < 1e-12
    pol = newton_polish(W + 1e-6 * np.random.default_rng(0).normal(size=W.shape), np.eye(10), tol=1e-12)
    assert_allclose(pol.W, W, atol=1e-8)


def test_bad_theta_shape():
    with pytest.raises(ValueError, match="theta"):
        BlockStructure((5, 1)).reduced_loss(np.zeros(3))
