import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn import Problem, grad, loss, symmetric_saddle_x
from reludyn.dynamics.gd import gradient_descent
from reludyn.dynamics.init import symmetric_init, symmetric_point
from reludyn.dynamics.reduced import (one_relu_field, one_relu_point, one_relu_polar,
                                      symmetric_basis, symmetric_field, symmetric_fixed_points,
                                      symmetric_gd, symmetric_gradient, symmetric_jacobian,
                                      symmetric_loss)


def _points(rng, n):
    pts = list(rng.uniform(-2, 2, (n, 2)))
    pts += [(0.7, 0.7), (-0.3, -0.3), (0.5, 0.0), (0.0, 0.4), (1.0, 0.0), (1e-9, 1e-9 + 1e-17)]
    return pts


@pytest.mark.parametrize("K", range(2, 21))
def test_symmetric_field_equals_restricted_full_gradient(K):
    rng = np.random.default_rng(K)
    A, B = symmetric_basis(K)
    V = np.eye(K)
    for x, y in _points(rng, 12):
        W = x * A + y * B
        assert_allclose(W, symmetric_point(K, x, y))
        G = grad(W, V)
        gx, gy = symmetric_gradient(x, y, K)
        # ∇J stays in the family, with coordinates (g_x, g_y)
        assert_allclose(G, gx * A + gy * B, rtol=0, atol=1e-12)
        fx, fy = symmetric_field(x, y, K)
        assert fx == -gx and fy == -gy
        assert_allclose(symmetric_loss(x, y, K), loss(W, V), rtol=1e-12, atol=1e-12)


def test_field_is_vectorized():
    x = np.linspace(-1, 1, 7)[:, None]
    y = np.linspace(-1, 1, 5)[None, :]
    fx, fy = symmetric_field(x, y, 4)
    assert fx.shape == (7, 5)
    assert_allclose(fx[2, 3], symmetric_field(x[2, 0], y[0, 3], 4)[0], rtol=1e-15)
    assert symmetric_field(0.0, 0.0, 3) == (0.0, 0.0)


@pytest.mark.parametrize("K", [2, 3, 5, 10])
def test_jacobian_matches_finite_differences(K):
    for x, y in [(0.4, -0.1), (1.0, 0.0), (symmetric_saddle_x(K),) * 2, (0.3, 0.3)]:
        Jf = symmetric_jacobian(x, y, K)
        h = 1e-7
        num = np.empty((2, 2))
        for c, (dx, dy) in enumerate([(h, 0), (0, h)]):
            fp = np.array(symmetric_field(x + dx, y + dy, K))
            fm = np.array(symmetric_field(x - dx, y - dy, K))
            num[:, c] = (fp - fm) / (2 * h)
        # across the diagonal (coincident rows) J is C² but not C³: FD error O(h) there
        assert_allclose(Jf, num, atol=2e-6 if x == y else 1e-7)


@pytest.mark.parametrize("K", [2, 3, 5, 12])
def test_fixed_points_include_global_min_and_symmetric_saddle(K):
    fps = symmetric_fixed_points(K)
    xs = symmetric_saddle_x(K)
    for f in fps:
        assert max(abs(v) for v in symmetric_gradient(f.x, f.y, K)) < 1e-12
    gm = [f for f in fps if f.label == "global_min"]
    assert len(gm) == 1 and gm[0].kind == "sink" and abs(gm[0].loss) < 1e-12
    sad = [f for f in fps if f.label == "symmetric_saddle"]
    assert len(sad) == 1 and sad[0].x == xs == sad[0].y
    # x_s: attracting along the diagonal, repelling across it
    s = sad[0]
    assert s.kind == "saddle"
    lam, vec = np.linalg.eig(s.jacobian)
    diag = np.argmax(np.abs(vec[0] + vec[1]))
    assert lam[diag] < 0 and lam[1 - diag] > 0
    assert_allclose(abs(vec[0, diag]), abs(vec[1, diag]), rtol=1e-9)
    # and a saddle of the full landscape too: the Hessian has a negative eigenvalue
    H = Problem.orthonormal(K).hessian(symmetric_point(K, xs, xs))
    assert np.linalg.eigvalsh(H)[0] < -1e-3


def test_closed_form_x_s_on_diagonal():
    for K in range(2, 12):
        xs = symmetric_saddle_x(K)
        gx, gy = symmetric_gradient(xs, xs, K)
        assert abs(gx) < 1e-14 and abs(gy) < 1e-14


@pytest.mark.parametrize("K", [2, 5, 10])
def test_full_gd_stays_in_family_and_matches_reduced(K):
    p = Problem.orthonormal(K)
    x0, y0, eta, n = 0.001, 0.0, 0.01, 1000  # the paper's symmetric experiment
    red = symmetric_gd(x0, y0, K, eta, n)
    r = gradient_descent(p, symmetric_point(K, x0, y0), eta, tol=0.0, max_steps=n,
                         record=True, n_record=40)
    steps, Ws, _, _ = r.trajectory(0)
    for s, W in zip(steps, Ws):
        assert_allclose(W, symmetric_point(K, *red[s]), rtol=0, atol=1e-12)


def test_symmetry_breaking():
    K = 4
    p = Problem.orthonormal(K)
    xs = symmetric_saddle_x(K)
    # on the diagonal: the flow stays there and stops at the symmetric saddle
    r = gradient_descent(p, symmetric_point(K, 0.01, 0.01), 0.1, tol=1e-10, max_steps=20000)
    assert r.reason[0] == "converged"
    assert_allclose(r.W[0], symmetric_point(K, xs, xs), atol=1e-9)
    # a small perturbation breaks the symmetry: the global minimum (up to permutation)
    W0 = symmetric_init(p, 4, seed=0, x=0.01, y=0.01, delta=1e-3)
    r = gradient_descent(p, W0, 0.1, tol=1e-10, max_steps=200000)
    assert (r.reason == "converged").all()
    assert np.all(np.abs(r.loss) < 1e-12)
    for W in r.W:
        assert_allclose(np.sort(np.abs(W), axis=None)[-K:], 1.0, atol=1e-8)


def test_one_relu_field_matches_full_gradient():
    rng = np.random.default_rng(0)
    for d in (2, 3, 6):
        w_star = rng.standard_normal(d)
        V = w_star[None]
        for r, th in [(0.3, 0.2), (1.5, 2.9), (1.0, math.pi / 2), (0.7, 1e-3)]:
            w = one_relu_point(r, th, w_star)
            g = grad(w[None], V)[0]
            dr, dth = one_relu_field(r, th, np.linalg.norm(w_star))
            assert_allclose(dr, -(g @ w) / r, rtol=1e-12, atol=1e-15)
            # dθ/dt by central differences along the flow direction −∇J
            h = 1e-6
            tp = one_relu_polar(w - h * g, w_star)[1]
            tm = one_relu_polar(w + h * g, w_star)[1]
            assert_allclose(dth, (tp - tm) / (2 * h), rtol=1e-6, atol=1e-10)


def test_one_relu_gd_converges_except_opposite_ray():
    p = Problem.gaussian(1, 5, seed=3)
    W0 = np.random.default_rng(1).standard_normal((20, 1, 5))
    r = gradient_descent(p, W0, 0.5, tol=1e-12, max_steps=100_000)
    assert (r.reason == "converged").all()
    assert_allclose(r.W[:, 0], np.repeat(p.V, 20, axis=0), atol=1e-10)
    r = gradient_descent(p, -0.3 * p.V, 0.5, tol=1e-12, max_steps=100_000)
    assert np.linalg.norm(r.W) < 1e-11  # shrinks to 0 along the ray, never turns


def test_bad_arguments():
    with pytest.raises(ValueError, match="K >= 2"):
        symmetric_field(0.1, 0.2, 1)
    with pytest.raises(ValueError, match="NaN"):
        symmetric_field(np.nan, 0.2, 3)
    with pytest.raises(ValueError, match="broadcast"):
        symmetric_field(np.ones(3), np.ones(4), 3)
    with pytest.raises(ValueError, match="r must be > 0"):
        one_relu_field(0.0, 1.0)
    with pytest.raises(ValueError, match="theta"):
        one_relu_field(1.0, 4.0)
    with pytest.raises(TypeError):
        symmetric_field("a", 0.2, 3)
