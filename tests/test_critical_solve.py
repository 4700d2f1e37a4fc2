"""Root finding: each SciPy method, acceptance threshold, dead rows."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn as rd
from reludyn.critical.solve import check_methods, solve_point


@pytest.mark.parametrize("method", ["hybr", "lm", "lsq"])
def test_each_method_reaches_the_teacher_from_nearby(method):
    P = rd.Problem.gaussian(3, 4, seed=2)
    rng = np.random.default_rng(0)
    W0 = P.V + 0.05 * rng.standard_normal(P.V.shape)
    r = solve_point(W0, P.V, methods=(method,), tol=1e-10)
    assert r.success and r.method == method
    assert np.linalg.norm(rd.grad(r.W, P.V)) <= 1e-10  # independent recomputation
    assert_allclose(r.W, P.V, atol=1e-8)
    assert r.dead_rows == []
    assert r.timings["kernel"] > 0


def test_symmetric_saddle_is_a_root_found_from_the_diagonal():
    K = 3
    P = rd.Problem.orthonormal(K)
    xs = rd.symmetric_saddle_x(K)
    W0 = np.full((K, K), 0.9 * xs)
    r = solve_point(W0, P.V)
    assert r.success
    assert_allclose(r.W.sum(0), np.full(K, K * xs), atol=1e-8)  # all rows along (1,...,1)


def test_unreached_tolerance_is_reported_not_accepted():
    P = rd.Problem.orthonormal(2)
    W0 = np.array([[1.0, 0.1], [0.2, 0.9]])
    r = solve_point(W0, P.V, methods=("hybr",), tol=1e-300, max_nfev=5)
    assert not r.success
    assert r.grad_norm == pytest.approx(np.linalg.norm(rd.grad(r.W, P.V)))


def test_dead_row_is_kept_and_the_live_rows_solved():
    P = rd.Problem.orthonormal(2)
    W0 = np.array([[0.0, 0.0], [0.8, 0.3]])
    r = solve_point(W0, P.V)
    assert r.dead_rows == [0]
    assert np.all(r.W[0] == 0)
    assert r.success
    # the live row is a critical point of the K = 1 student with the same teacher
    g1 = rd.grad(r.W[1:], P.V)
    assert np.linalg.norm(g1) <= 1e-10
    with pytest.raises(rd.DeadRowError):
        rd.hessian(r.W, P.V)


def test_all_rows_dead():
    P = rd.Problem.orthonormal(2)
    r = solve_point(np.zeros((2, 2)), P.V)
    assert r.dead_rows == [0, 1] and r.success and r.grad_norm == 0


def test_check_methods():
    assert check_methods("lm") == ("lm",)
    with pytest.raises(ValueError, match="unknown solver"):
        check_methods(["newton"])
    with pytest.raises(ValueError, match="empty"):
        check_methods([])
