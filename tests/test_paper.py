import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn
from reludyn import (
    L_function,
    angle_matrices,
    gating_expectation,
    mc_gating,
    normal_equation,
    normal_equation_residual,
)


def test_gating_expectation_against_monte_carlo():
    rng = np.random.default_rng(4)
    for d in (2, 5):
        e, w = rng.standard_normal(d), rng.standard_normal(d)
        est = mc_gating(e, w, n=300_000, seed=d)
        assert np.abs(est.z(gating_expectation(e, w))).max() < 5


def test_gating_special_cases():
    e = np.array([1.0, 0.0])
    # w = e: E[x 1(x1>0) x1] = e/2 ; w = −e: gates disjoint, expectation 0
    assert_allclose(gating_expectation(e, e), [0.5, 0.0], atol=1e-15)
    assert_allclose(gating_expectation(e, -e), [0.0, 0.0], atol=1e-15)
    # orthogonal: (π/2 · w + |w| e)/(2π)
    assert_allclose(gating_expectation(e, [0.0, 2.0]), [1 / math.pi, 0.5], atol=1e-15)
    with pytest.raises(ValueError, match="zero vector"):
        gating_expectation([0.0, 0.0], [1.0, 0.0])


def test_angle_matrices():
    W = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    V = np.array([[-1.0, 0.0]])
    tww, twv = angle_matrices(W, V)
    assert_allclose(tww[0, 1], math.pi / 4)
    assert_allclose(twv[:2, 0], [math.pi, 3 * math.pi / 4])
    assert np.isnan(tww[2]).all() and np.isnan(twv[2]).all()


@pytest.mark.parametrize("K,M,d", [(1, 1, 2), (2, 2, 2), (3, 2, 4), (4, 5, 6)])
def test_residual_is_projected_gradient(K, M, d):
    rng = np.random.default_rng(K + M + d)
    W, V = rng.standard_normal((K, d)), rng.standard_normal((M, d))
    E = W / np.linalg.norm(W, axis=1, keepdims=True)
    G = reludyn.grad(W, V)
    proj = np.array([2 * math.pi * E[jp] @ G[j] for j in range(K) for jp in range(K)])
    assert_allclose(normal_equation_residual(W, V), proj, atol=1e-12)


@pytest.mark.parametrize("K", [2, 3, 4])
def test_normal_equation_holds_at_critical_points(K):
    p = reludyn.Problem.orthonormal(K)
    points = [p.V.copy(), np.full((K, K), reludyn.symmetric_saddle_x(K))]
    rng = np.random.default_rng(K)
    pol = reludyn.newton_polish(p.V + 0.3 * rng.standard_normal((K, K)), p.V)
    if pol.success:
        points.append(pol.W)
    for W in points:
        assert_allclose(normal_equation_residual(W, p.V), 0.0, atol=1e-10)
    # at a critical point with distinct directions L annihilates the teacher norms
    ne = normal_equation(pol.W if pol.success else p.V, p.V)
    if np.all(np.isfinite(ne.L)):
        assert_allclose(ne.L @ np.linalg.norm(p.V, axis=1), 0.0, atol=1e-8)


def test_normal_equation_shapes_and_singular_Mr():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    V = np.ones((4, 2))
    ne = normal_equation(W, V)
    assert ne.M.shape == (9, 3) and ne.Mstar.shape == (9, 4)
    assert ne.L.shape == (6, 4) and len(ne.pairs) == 6
    # M_r has π on its diagonal (θ_jj = 0)
    assert_allclose(np.diag(ne.M_r), math.pi)
    # two coincident student directions make M_r singular: L is NaN
    ne2 = normal_equation(np.array([[1.0, 0.0], [2.0, 0.0]]), V)
    assert np.isnan(ne2.L).all()


def test_L_function_k2_closed_form():
    # For K = 2 at angle θ, teacher direction u: compare with the hand-written 2x2 algebra.
    th = 3 * math.pi / 8
    E = np.array([[1.0, 0.0], [math.cos(th), math.sin(th)]])
    phis = np.linspace(0.1, 2 * math.pi - 0.1, 13)
    U = np.stack([np.cos(phis), np.sin(phis)], 1)
    Ls = L_function(E, U)
    f = (math.pi - th) * math.cos(th) + math.sin(th)
    M_r = np.array([[math.pi, f], [f, math.pi]])
    M_off = np.array([[math.pi * math.cos(th), math.pi - th + math.sin(th) * math.cos(th)],
                      [math.pi - th + math.sin(th) * math.cos(th), math.pi * math.cos(th)]])
    for i, phi in enumerate(phis):
        ang = lambda a, b: math.acos(np.clip(a @ b, -1, 1))
        t1, t2 = ang(E[0], U[i]), ang(E[1], U[i])
        ms = lambda tj, tjp, cjj: (math.pi - tj) * math.cos(tjp) + math.sin(tj) * cjj
        Ms_r = np.array([ms(t1, t1, 1.0), ms(t2, t2, 1.0)])
        Ms_off = np.array([ms(t1, t2, math.cos(th)), ms(t2, t1, math.cos(th))])
        L = Ms_off - M_off @ np.linalg.solve(M_r, Ms_r)
        assert_allclose([Ls[(0, 1)][i], Ls[(1, 0)][i]], L, atol=1e-12)
    # the teacher along a student direction is a critical configuration: L vanishes there
    assert_allclose(L_function(E, E[:1])[(0, 1)], 0.0, atol=1e-12)
