import numpy as np
from numpy.testing import assert_allclose

from reludyn import Problem, grad, newton_polish, symmetric_saddle_x


def test_polish_reaches_teacher_and_saddle():
    p = Problem.orthonormal(3)
    rng = np.random.default_rng(0)
    r = newton_polish(p.V + 1e-3 * rng.standard_normal((3, 3)), p.V)
    assert r.success and r.grad_norm <= 1e-12
    assert_allclose(r.W, p.V, atol=1e-9)
    xs = symmetric_saddle_x(3)
    r = newton_polish(np.full((3, 3), xs) + 1e-6, p.V)
    assert r.success
    assert np.linalg.norm(grad(r.W, p.V)) <= 1e-12


def test_polish_reports_dead_rows():
    V = np.eye(2)
    W = np.array([[0.0, 0.0], [2.0, 1.0]])
    r = newton_polish(W, V)
    assert not r.success and "dead rows [0]" in r.message


def test_polish_budget_message():
    p = Problem.orthonormal(4)
    W = np.random.default_rng(1).standard_normal((4, 4))
    r = newton_polish(W, p.V, max_iter=0)
    assert not r.success and "budget" in r.message
