import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from reludyn import Problem, grad, kernels, loss
from reludyn.dynamics import _gdkernel as gk
from reludyn.dynamics.gd import gradient_descent, log_schedule
from reludyn.dynamics.init import near_teacher_init, xavier_init


def numpy_gd(W, V, eta, n):
    """Independent oracle: n plain steps with the validated public gradient."""
    W = np.array(W, dtype=float)
    for _ in range(n):
        W = W - eta * grad(W, V)
    return W


# --- one run against the oracle, stop rules -------------------------------
def test_budget_run_equals_numpy_loop():
    p = Problem.gaussian(3, 4, K=4, seed=1)
    W0 = xavier_init(p, 1, seed=2)[0]
    r = gradient_descent(p, W0, 0.05, max_steps=40, tol=0.0)
    assert r.reason.tolist() == ["budget"] and r.steps.tolist() == [40]
    assert_allclose(r.W[0], numpy_gd(W0, p.V, 0.05, 40), rtol=0, atol=1e-13)
    assert_allclose(r.loss[0], loss(r.W[0], p.V), rtol=1e-13)
    g = grad(r.W[0], p.V)
    assert_allclose(r.grad_norm[0], np.linalg.norm(g, axis=1).max(), rtol=1e-12)
    rf = gradient_descent(p, W0, 0.05, max_steps=40, tol=0.0, norm="fro")
    assert_allclose(rf.grad_norm[0], np.linalg.norm(g), rtol=1e-12)


def test_converges_to_teacher_from_near_teacher():
    p = Problem.orthonormal(4, d=6)
    W0 = near_teacher_init(p, 6, seed=0, rel_noise=0.2)
    r = gradient_descent(p, W0, 0.2, tol=1e-10)
    assert (r.reason == "converged").all()
    assert np.all(np.linalg.norm(grad(r.W, p.V), axis=2).max(axis=1) < 1e-10)
    assert_allclose(r.W, np.stack([p.V] * 6), atol=1e-8)
    assert np.all(np.abs(r.loss) < 1e-14)


def test_max_row_vs_fro_rule():
    p = Problem.orthonormal(3)
    W0 = near_teacher_init(p, 1, seed=3, rel_noise=0.3)
    a = gradient_descent(p, W0, 0.1, tol=1e-6, norm="max_row")
    b = gradient_descent(p, W0, 0.1, tol=1e-6, norm="fro")
    assert b.steps[0] >= a.steps[0]
    assert np.linalg.norm(grad(a.W[0], p.V), axis=1).max() < 1e-6
    assert np.linalg.norm(grad(b.W[0], p.V)) < 1e-6


def test_diverged_with_large_step():
    p = Problem.orthonormal(3)
    r = gradient_descent(p, xavier_init(p, 3, seed=0), 20.0, max_steps=10_000)
    assert (r.reason == "diverged").all()
    assert np.all(r.steps < 200)
    # the iterate that stopped it is above the bound
    assert np.all(np.linalg.norm(r.W.reshape(3, -1), axis=1) > 1e8)


def test_dead_row_one_relu_opposite_ray():
    # K = 1 with w = −c w*: ∇J = w/2 exactly, so ‖w_t‖ = c (1 − η/2)^t until <= dead_tol
    p = Problem.orthonormal(1, d=3)
    W0 = -0.8 * p.V
    r = gradient_descent(p, W0, 0.1, dead_tol=1e-3)
    expected = math.ceil(math.log(1e-3 / 0.8) / math.log(0.95))
    assert r.reason[0] == "dead_row"
    assert abs(int(r.steps[0]) - expected) <= 1
    assert np.linalg.norm(r.W[0]) <= 1e-3
    assert_allclose(r.W[0], W0 * 0.95 ** r.steps[0], rtol=1e-10)


def test_dead_row_at_start():
    p = Problem.orthonormal(2)
    W0 = np.array([[0.5, 0.1], [0.0, 0.0]])
    r = gradient_descent(p, W0, 0.1)
    assert r.reason[0] == "dead_row" and r.steps[0] == 0
    assert_array_equal(r.W[0], W0)


def test_converged_at_start_and_zero_budget():
    p = Problem.orthonormal(2)
    r = gradient_descent(p, p.V, 0.1)
    assert r.reason[0] == "converged" and r.steps[0] == 0
    r = gradient_descent(p, xavier_init(p, 1)[0], 0.1, max_steps=0)
    assert r.reason[0] == "budget" and r.steps[0] == 0


# --- ensembles -------------------------------------------------------------
def test_ensemble_equals_sequential_bit_for_bit():
    p = Problem.orthonormal(3, d=5)
    W0 = xavier_init(p, 9, seed=1)
    W0[3, 1] = 0.0  # a dead row: stops at step 0
    kw = dict(tol=1e-9, max_steps=1050, dead_tol=1e-12, record=True, n_record=30)
    ens = gradient_descent(p, W0, 0.2, **kw)
    assert len(set(ens.steps.tolist())) > 3  # runs stop at different steps
    assert set(ens.reason.tolist()) == {"converged", "budget", "dead_row"}
    for i in range(W0.shape[0]):
        one = gradient_descent(p, W0[i], 0.2, **kw)
        for name, arr in ens.arrays().items():
            assert_array_equal(arr[i], getattr(one, name)[0], err_msg=name)
    again = gradient_descent(p, W0, 0.2, **kw)
    for name, arr in ens.arrays().items():
        assert_array_equal(arr, again.arrays()[name])
    assert_array_equal(W0[3, 1], 0.0)  # input untouched
    assert ens.reason[3] == "dead_row" and ens.steps[3] == 0


def test_recorded_trajectory():
    p = Problem.orthonormal(3)
    W0 = xavier_init(p, 2, seed=5)
    r = gradient_descent(p, W0, 0.1, max_steps=500, tol=0.0, record=True, n_record=12)
    assert r.traj_W.shape == (2, 12, 3, 3)
    for i in range(2):
        s, Wt, gn, lt = r.trajectory(i)
        assert s[0] == 0 and s[-1] == 500 and np.all(np.diff(s) > 0)
        assert set(s[:-1]) <= set(log_schedule(500, 11).tolist())
        assert_array_equal(Wt[0], W0[i])
        for k in (3, len(s) // 2):
            # independent check: a separate budget run stopped at that step
            assert_allclose(Wt[k], numpy_gd(W0[i], p.V, 0.1, int(s[k])), atol=1e-12)
            assert_allclose(lt[k], loss(Wt[k], p.V), rtol=1e-12)
            assert_allclose(gn[k], np.linalg.norm(grad(Wt[k], p.V), axis=1).max(), rtol=1e-12)
        pad = r.traj_steps[i] < 0
        assert np.all(np.isnan(r.traj_loss[i][pad]))


def test_log_schedule():
    s = log_schedule(10**6, 50)
    assert s[0] == 0 and s[-1] == 10**6 and s.size <= 50
    assert np.all(np.diff(s) > 0)
    assert_array_equal(log_schedule(3, 100), [0, 1, 2, 3])


def test_bad_arguments():
    p = Problem.orthonormal(2)
    W0 = np.zeros((2, 2)) + 0.3
    with pytest.raises(TypeError, match="problem"):
        gradient_descent(p.V, W0, 0.1)
    with pytest.raises(ValueError, match="eta"):
        gradient_descent(p, W0, -0.1)
    with pytest.raises(ValueError, match="norm"):
        gradient_descent(p, W0, 0.1, norm="l1")
    with pytest.raises(ValueError, match="W0"):
        gradient_descent(p, np.ones((3, 2)), 0.1)
    with pytest.raises(ValueError, match="NaN"):
        gradient_descent(p, np.full((2, 2), np.nan), 0.1)
    with pytest.raises(TypeError, match="max_steps"):
        gradient_descent(p, W0, 0.1, max_steps=1.5)
    with pytest.raises(ValueError, match="tol"):
        gradient_descent(p, W0, 0.1, tol=-1)
    with pytest.raises(ValueError, match="n_record"):
        gradient_descent(p, W0, 0.1, record=True, n_record=1)




# --- the tuned gradient step against the kernel it replaced -----------------------------
@pytest.mark.parametrize("K,eta,norm,tol", [(6, 0.1, "max_row", 1e-10), (10, 0.1, "max_row", 1e-10),
                                            (10, 0.5, "fro", 1e-12)])
def test_ensemble_ends_where_the_reference_kernel_ends(K, eta, norm, tol):
    """Seeded starts end at the same points as plain GD on the pre-tuning gradient
    (tests/_grad_reference.py): same stop reasons and step counts, W within 1e-10."""
    from _grad_reference import gd_reference

    p = Problem.orthonormal(K)
    W0 = xavier_init(p, 6, seed=K)
    r = gradient_descent(p, W0, eta, tol=tol, norm=norm, max_steps=60_000)
    for i in range(W0.shape[0]):
        W, steps, code = gd_reference(W0[i], p.V, eta, tol, norm == "fro", 60_000)
        assert (r.reason[i], r.steps[i]) == (gk.REASONS[code], steps)
        assert_allclose(r.W[i], W, rtol=0, atol=1e-10)
