"""The BLAS/LAPACK bindings of the native solver (reludyn.critical._lapack) against NumPy."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reludyn.critical._lapack import cholesky_solve, square_lower


@pytest.mark.parametrize("n", [1, 2, 7, 50, 121])
def test_square_lower_is_the_lower_triangle_of_the_square(n):
    rng = np.random.default_rng(n)
    H = rng.normal(size=(n, n))
    H = H + H.T
    out = np.full((n, n), 7.0)
    square_lower(H, out)
    ref = H @ H
    assert_allclose(np.tril(out), np.tril(ref), rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_array_equal(np.triu(out, 1), np.triu(np.full((n, n), 7.0), 1))  # untouched


@pytest.mark.parametrize("n", [1, 3, 40, 100])
def test_cholesky_solve_solves_the_factored_system(n):
    rng = np.random.default_rng(10 + n)
    B = rng.normal(size=(n, n))
    A = B @ B.T + 0.1 * np.eye(n)
    L = np.linalg.cholesky(A)  # lower factor, as the solver's _cholesky leaves it
    L[np.triu_indices(n, 1)] = np.nan  # the upper triangle must not be read
    b = rng.normal(size=n)
    b0 = b.copy()
    x = np.empty(n)
    assert cholesky_solve(L, b, x) == 0
    assert_allclose(A @ x, b, rtol=0, atol=1e-10 * np.abs(b).max() * np.linalg.cond(A))
    assert_allclose(x, np.linalg.solve(A, b), rtol=1e-8)
    assert_array_equal(b, b0)
