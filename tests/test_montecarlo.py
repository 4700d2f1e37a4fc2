import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn import grad, loss, mc_grad, mc_loss


@pytest.mark.parametrize("K,M,d", [(1, 1, 1), (2, 3, 4), (4, 2, 6)])
def test_closed_forms_within_five_standard_errors(K, M, d):
    rng = np.random.default_rng(10 * K + d)
    W, V = rng.standard_normal((K, d)), rng.standard_normal((M, d))
    el = mc_loss(W, V, n=200_000, seed=1)
    eg = mc_grad(W, V, n=200_000, seed=2)
    assert abs(el.z(loss(W, V))) < 5
    assert np.abs(eg.z(grad(W, V))).max() < 5
    assert eg.mean.shape == (K, d) and eg.se.shape == (K, d)


def test_estimator_detects_a_wrong_answer():
    # the oracle has power: a 2 % error in the loss is many standard errors away
    rng = np.random.default_rng(0)
    W, V = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    el = mc_loss(W, V, n=400_000, seed=3)
    assert abs(el.z(1.02 * loss(W, V))) > 5


def test_seeded_and_chunk_independent_of_memory():
    rng = np.random.default_rng(1)
    W, V = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    a = mc_grad(W, V, n=10_000, seed=5, chunk=1000)
    b = mc_grad(W, V, n=10_000, seed=5, chunk=1000)
    assert_array_equal(a.mean, b.mean)
    # chunked moments equal the one-shot moments of the same stream
    c = mc_loss(W, V, n=5000, seed=9, chunk=700)
    X = np.random.default_rng(9).standard_normal((5000, 3))
    r = np.maximum(X @ W.T, 0).sum(1) - np.maximum(X @ V.T, 0).sum(1)
    s = 0.5 * r**2
    np.testing.assert_allclose(c.mean, s.mean(), rtol=1e-12)
    np.testing.assert_allclose(c.se, s.std(ddof=1) / np.sqrt(5000), rtol=1e-10)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be >= 2"):
        mc_loss(np.ones((1, 2)), np.ones((1, 2)), n=1)
    with pytest.raises(ValueError, match="single W"):
        mc_grad(np.ones((2, 1, 2)), np.ones((1, 2)))
