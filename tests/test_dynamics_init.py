import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reludyn import Problem
from reludyn.dynamics.init import (INITS, ball_init, gaussian_init, make_init, near_teacher_init,
                                   symmetric_init, symmetric_point, xavier_init)


@pytest.fixture
def prob():
    return Problem.orthonormal(3, d=4, K=3)


@pytest.mark.parametrize("name", INITS)
def test_shapes_dtype_and_determinism(prob, name):
    a = make_init(name, prob, 7, seed=3)
    b = make_init(name, prob, 7, seed=3)
    assert a.shape == (7, 3, 4) and a.dtype == np.float64
    assert_array_equal(a, b)
    if name not in ("symmetric",):
        assert not np.array_equal(a, make_init(name, prob, 7, seed=4))


def test_gaussian_and_xavier_scale():
    p = Problem.orthonormal(4, d=25)
    g = gaussian_init(p, 400, seed=0, std=0.3)
    assert abs(g.std() - 0.3) < 0.01
    x = xavier_init(p, 400, seed=0)
    assert abs(x.var() - 1 / 25) < 0.002
    assert abs(x.mean()) < 0.003


def test_ball_is_uniform_in_ball():
    p = Problem.orthonormal(2, d=2, K=1)  # D = 2: radius² of a uniform disc point is U(0, r²)
    W = ball_init(p, 4000, seed=1, radius=2.0)
    r = np.linalg.norm(W.reshape(4000, -1), axis=1)
    assert r.max() <= 2.0
    assert abs(np.mean(r ** 2 / 4.0) - 0.5) < 0.02


def test_near_teacher_noise_norm(prob):
    W = near_teacher_init(prob, 5, seed=2, rel_noise=0.25)
    noise = (W - prob.V[None]).reshape(5, -1)
    assert_allclose(np.linalg.norm(noise, axis=1), 0.25 * np.linalg.norm(prob.V), rtol=1e-12)
    assert_array_equal(near_teacher_init(prob, 2, rel_noise=0.0), np.stack([prob.V] * 2))


def test_symmetric_family():
    W = symmetric_point(3, 0.7, -0.2)
    assert_array_equal(W, [[0.7, -0.2, -0.2], [-0.2, 0.7, -0.2], [-0.2, -0.2, 0.7]])
    p = Problem.orthonormal(3)
    S = symmetric_init(p, 4, seed=0, x=0.7, y=-0.2)
    assert_array_equal(S, np.stack([W] * 4))
    P = symmetric_init(p, 4, seed=0, x=0.7, y=-0.2, delta=1e-3)
    assert 0 < np.abs(P - W).max() < 1e-2


def test_bad_arguments(prob):
    with pytest.raises(ValueError, match="unknown initializer"):
        make_init("he", prob, 3)
    with pytest.raises(TypeError, match="unexpected"):
        make_init("xavier", prob, 3, std=1.0)
    with pytest.raises(ValueError, match="std"):
        gaussian_init(prob, 3, std=-1.0)
    with pytest.raises(ValueError, match="n must be"):
        xavier_init(prob, 0)
    with pytest.raises(TypeError, match="seed"):
        xavier_init(prob, 2, seed=1.5)
    with pytest.raises(TypeError, match="problem"):
        xavier_init(np.eye(3), 2)
    with pytest.raises(ValueError, match="orthonormal"):
        symmetric_init(Problem.gaussian(3, 3), 2)
    with pytest.raises(ValueError, match="K >= M|teacher is not"):
        near_teacher_init(Problem.orthonormal(3, K=2), 2)
