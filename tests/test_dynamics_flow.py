import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp

from reludyn import Problem, grad
from reludyn.dynamics.flow import METHODS, gradient_flow
from reludyn.dynamics.init import near_teacher_init
from reludyn.dynamics.reduced import one_relu_field, one_relu_point, one_relu_polar


@pytest.mark.parametrize("method", METHODS)
def test_each_method_reaches_teacher(method):
    p = Problem.orthonormal(3)
    W0 = near_teacher_init(p, 1, seed=4, rel_noise=0.3)[0]
    r = gradient_flow(p, W0, method=method, tol=1e-8, rtol=1e-9, atol=1e-11)
    assert r.reason == "converged", r.message
    assert np.linalg.norm(grad(r.W, p.V)) < 2e-8
    assert_allclose(r.W, p.V, atol=1e-6)
    assert r.ts[0] == 0 and r.ts[-1] == r.t and np.all(np.diff(r.ts) >= 0)
    assert r.Ws.shape == (r.ts.size, 3, 3)
    assert_allclose(r.Ws[0], W0)


def test_polish_reaches_1e12():
    p = Problem.gaussian(3, 4, seed=2)
    W0 = near_teacher_init(p, 1, seed=0, rel_noise=0.2)[0]
    r = gradient_flow(p, W0, method="LSODA", tol=1e-6, polish=True)
    assert r.polish is not None and r.polish.success, r.polish.message
    assert np.linalg.norm(grad(r.W, p.V)) <= 1e-12
    assert r.grad_norm <= 1e-12
    assert np.linalg.norm(grad(r.extra["W_flow"], p.V)) > 1e-12


def test_t_max_and_already_converged():
    p = Problem.orthonormal(2)
    r = gradient_flow(p, np.array([[0.3, 0.1], [0.2, 0.5]]), t_max=0.5, max_points=5)
    assert r.reason == "t_max" and r.t == 0.5 and r.ts.size <= 5
    r = gradient_flow(p, p.V)
    assert r.reason == "converged" and r.t == 0.0


def test_one_relu_flow_matches_reduced_polar_flow():
    # full flow for K = 1, d = 4 against the (r, θ) system integrated separately
    w_star = np.array([0.5, -1.0, 0.3, 0.2])
    p = Problem(w_star[None], 1)
    r0, th0 = 0.4, 2.5
    w0 = one_relu_point(r0, th0, w_star)
    assert_allclose(one_relu_polar(w0, w_star), (r0, th0), rtol=1e-14)
    T = 6.0
    full = gradient_flow(p, w0[None], method="DOP853", t_max=T, tol=0.0, rtol=1e-12, atol=1e-14)
    red = solve_ivp(lambda t, z: np.array(one_relu_field(z[0], z[1], np.linalg.norm(w_star))),
                    (0, T), [r0, th0], method="DOP853", rtol=1e-12, atol=1e-14)
    assert_allclose(one_relu_polar(full.W[0], w_star), red.y[:, -1], rtol=1e-8)


def test_bad_arguments():
    p = Problem.orthonormal(2)
    W0 = np.full((2, 2), 0.3)
    with pytest.raises(ValueError, match="method"):
        gradient_flow(p, W0, method="Euler")
    with pytest.raises(ValueError, match="one W0"):
        gradient_flow(p, np.stack([W0, W0]))
    with pytest.raises(ValueError, match="t_max"):
        gradient_flow(p, W0, t_max=-1.0)
    with pytest.raises(ValueError, match="max_points"):
        gradient_flow(p, W0, max_points=1)
    with pytest.raises(TypeError, match="problem"):
        gradient_flow(p.V, W0)
