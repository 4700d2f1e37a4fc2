import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reludyn import Problem, symmetric_saddle_x


def test_orthonormal_and_defaults():
    p = Problem.orthonormal(3, 5)
    assert (p.K, p.M, p.d) == (3, 3, 5)
    assert_array_equal(p.V, np.eye(5)[:3])
    assert p.is_orthonormal
    assert Problem.orthonormal(4).d == 4
    with pytest.raises(ValueError, match="d >= M"):
        Problem.orthonormal(4, 2)


def test_gaussian_is_seeded():
    a = Problem.gaussian(3, 4, K=2, seed=7)
    b = Problem.gaussian(3, 4, K=2, seed=7)
    c = Problem.gaussian(3, 4, K=2, seed=8)
    assert a == b and a != c
    assert_array_equal(a.V, np.random.default_rng(7).standard_normal((3, 4)))


def test_planar():
    p = Problem.planar([0.0, math.pi / 2], norms=[2.0, 1.0], K=3)
    assert_allclose(p.V, [[2.0, 0.0], [0.0, 1.0]], atol=1e-15)
    assert p.K == 3
    with pytest.raises(ValueError, match="norms"):
        Problem.planar([0.0, 1.0], norms=[1.0])
    with pytest.raises(ValueError, match="positive"):
        Problem.planar([0.0], norms=[-1.0])


@pytest.mark.parametrize("ext", [".npy", ".csv", ".json"])
def test_from_file_round_trip(tmp_path, ext):
    V = np.random.default_rng(0).standard_normal((3, 4))
    path = tmp_path / f"teacher{ext}"
    if ext == ".npy":
        np.save(path, V)
    elif ext == ".csv":
        np.savetxt(path, V, delimiter=",", fmt="%.17g")
    else:
        path.write_text(json.dumps({"V": V.tolist(), "K": 5}))
    p = Problem.from_file(path)
    assert_allclose(p.V, V, rtol=0, atol=0)
    assert p.K == (5 if ext == ".json" else 3)


@pytest.mark.parametrize("content,ext,msg", [
    ("not json", ".json", "cannot read"),
    ('{"W": []}', ".json", "no 'V'"),
    ("1,2\n3,x\n", ".csv", "cannot read"),
    ("1,2\n0,0\n", ".csv", "zero rows"),
    ("1,2,3\n4,5\n", ".csv", "cannot read"),
    ("[]", ".txt", "unsupported extension"),
])
def test_from_file_bad_files(tmp_path, content, ext, msg):
    path = tmp_path / f"t{ext}"
    path.write_text(content)
    with pytest.raises(ValueError, match=msg):
        Problem.from_file(path)


def test_from_file_missing_and_pickled(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Problem.from_file(tmp_path / "nope.npy")
    obj = np.array([{"a": 1}], dtype=object)
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    with pytest.raises(ValueError, match="cannot read"):
        Problem.from_file(tmp_path / "obj.npy")


def test_validation_on_construction():
    with pytest.raises(ValueError, match="K must be >= 1"):
        Problem(np.eye(2), 0)
    with pytest.raises(TypeError, match="K must be an integer"):
        Problem(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="NaN"):
        Problem(np.array([[np.nan, 1.0]]), 1)
    V = np.eye(2)
    p = Problem(V, 2)
    V[0, 0] = 5.0  # the problem holds its own copy
    assert p.V[0, 0] == 1.0


def test_dict_round_trip_and_shortcuts():
    p = Problem.gaussian(2, 3, K=4, seed=1)
    q = Problem.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q == p and q.kind == "gaussian"
    W = np.random.default_rng(2).standard_normal((4, 3))
    J, G = p.loss_and_grad(W)
    assert_allclose(J, p.loss(W))
    assert_allclose(G, p.grad(W))
    assert p.hessian(W).shape == (12, 12)
    with pytest.raises(ValueError, match="needs keys"):
        Problem.from_dict({"V": [[1.0]]})


def test_teacher_padded():
    p = Problem.orthonormal(2, 3, K=3)
    W = p.teacher_padded()
    assert_array_equal(W[:2], p.V)
    assert_array_equal(W[2], 0)
    with pytest.raises(ValueError, match="K = 1 < M = 2"):
        Problem.orthonormal(2, K=1).teacher_padded()


@pytest.mark.parametrize("K", [1, 2, 3, 5, 10, 20])
def test_symmetric_saddle_is_critical(K):
    # the closed form x_s against the gradient of the full model, all rows x_s·1
    p = Problem.orthonormal(K)
    xs = symmetric_saddle_x(K)
    assert_allclose(p.grad(np.full((K, K), xs)), 0.0, atol=1e-14)
    # and the gradient changes sign across it along the diagonal
    if K > 1:
        g_lo = p.grad(np.full((K, K), 0.9 * xs)).sum()
        g_hi = p.grad(np.full((K, K), 1.1 * xs)).sum()
        assert g_lo < 0 < g_hi
