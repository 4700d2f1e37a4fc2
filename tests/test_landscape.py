"""Loss, gradient and Hessian against independent oracles: finite differences, special cases,
invariances; plus batching and input validation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reludyn
from reludyn import DeadRowError, dead_rows, grad, hessian, loss, loss_and_grad
from reludyn.check import finite_difference_grad, finite_difference_hessian


def fd_check(W, V, h=None, gtol=1e-6, htol=1e-5):
    """Compare grad and Hessian with central differences, tolerances relative to the scale."""
    scale = max(np.abs(W).max(), np.abs(V).max())
    h = 1e-6 * scale if h is None else h
    G = grad(W, V)
    H = hessian(W, V)
    assert np.all(np.isfinite(G)) and np.all(np.isfinite(H))
    assert_allclose(G, finite_difference_grad(W, V, h), atol=gtol * scale, rtol=0)
    assert_allclose(H, finite_difference_hessian(W, V, h), atol=htol, rtol=0)
    assert_allclose(H, H.T, atol=1e-13, rtol=0)


SIZES = [(K, M, d) for K in range(1, 7) for M in range(1, 7) for d in (1, 2, 3, 5, 8)
         if (K + M + d) % 2 == 0 or d in (1, 8)]


@pytest.mark.parametrize("K,M,d", SIZES)
def test_grad_and_hessian_match_finite_differences(K, M, d):
    rng = np.random.default_rng(1000 * K + 100 * M + d)
    W = rng.standard_normal((K, d))
    V = rng.standard_normal((M, d))
    if d == 1:
        # in 1-D all angles are 0 or π: exactly the coincident/opposite limits
        W[np.abs(W) < 0.05] = 0.5
    fd_check(W, V)


def special_configs():
    v = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.4]])
    yield "coincident rows", np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [1.4, 0.4, 0.2]]), v
    yield "opposite rows", np.array([[0.7, 0.2, 0.1], [-0.7, -0.2, -0.1], [0.3, 0.9, 0.0]]), v
    yield "parallel to teacher", np.array([2.0 * v[0], 0.5 * v[1]]), v
    yield "opposite to teacher", np.array([-2.0 * v[0], -0.5 * v[1]]), v
    yield "student equals teacher", v.copy(), v
    yield "nearly coincident", np.array([[1.0, 0.0, 0.0], [1.0, 1e-9, 0.0]]), v
    yield "nearly opposite", np.array([[1.0, 0.0, 0.0], [-1.0, 1e-9, 0.0]]), v
    yield "symmetric saddle", np.full((3, 3), reludyn.symmetric_saddle_x(3)), np.eye(3)


@pytest.mark.parametrize("name,W,V", list(special_configs()), ids=[c[0] for c in special_configs()])
@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_special_configurations_are_finite_and_match_fd(name, W, V, scale):
    fd_check(scale * W, scale * V, htol=1e-4)
    # degree-2 homogeneity of J: grad scales by c, Hessian is scale free
    assert_allclose(grad(scale * W, scale * V), scale * grad(W, V), rtol=1e-12, atol=1e-14 * scale)
    assert_allclose(hessian(scale * W, scale * V), hessian(W, V), rtol=1e-11, atol=1e-13)


def test_mixed_scales_tiny_student_huge_teacher():
    rng = np.random.default_rng(5)
    V = 1e8 * rng.standard_normal((2, 4))
    W = 1e-8 * rng.standard_normal((3, 4))
    for f in (loss(W, V), grad(W, V), hessian(W, V)):
        assert np.all(np.isfinite(f))
    # far from the teacher the student rows barely matter: J ≈ J(0) = teacher energy
    assert_allclose(loss(W, V), loss(np.zeros((3, 4)), V), rtol=1e-12)


def test_hessian_is_continuous_at_coincident_and_opposite_rows():
    V = np.array([[1.0, 0.3, -0.2]])
    base = np.array([[0.8, -0.1, 0.5], [0.8, -0.1, 0.5]])
    for sign in (1.0, -1.0):
        W0 = base.copy()
        W0[1] *= sign
        H0 = hessian(W0, V)
        for eps in (1e-4, 1e-7, 1e-10):
            W = W0.copy()
            W[1, 2] += eps
            assert_allclose(hessian(W, V), H0, atol=20 * eps)


def test_one_relu_matches_paper_formula():
    rng = np.random.default_rng(3)
    for d in (1, 2, 5, 10):
        for _ in range(5):
            w = rng.standard_normal(d)
            ws = rng.standard_normal(d)
            th = math.atan2(np.linalg.norm(np.outer(w, ws) - np.outer(ws, w)) / math.sqrt(2),
                            w @ ws)
            nw, nws = np.linalg.norm(w), np.linalg.norm(ws)
            expected = 0.5 * (w - ws) + (th * ws - nws * math.sin(th) * w / nw) / (2 * math.pi)
            assert_allclose(grad(w[None], ws[None])[0], expected, atol=1e-13)
            # κ closed form with the same θ
            kappa = lambda a, b, t: a * b * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)
            J = 0.5 * kappa(nw, nw, 0) - kappa(nw, nws, th) + 0.5 * kappa(nws, nws, 0)
            assert_allclose(loss(w[None], ws[None]), J, rtol=1e-12, atol=1e-15)


def test_orthogonal_rows_closed_form():
    # θ = π/2 everywhere: κ = |u||v|/(2π), J(0) = ½ Σ κ(v_m, v_n)
    V = np.eye(4)[:3]
    expected = 0.5 * (3 * 0.5 + 6 / (2 * math.pi))
    assert_allclose(loss(np.zeros((2, 4)), V), expected, rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(K=st.integers(1, 5), M=st.integers(1, 5), d=st.integers(1, 6), seed=st.integers(0, 2**31),
       c=st.floats(1e-3, 1e3))
def test_invariances(K, M, d, seed, c):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, d))
    V = rng.standard_normal((M, d))
    V[np.linalg.norm(V, axis=1) == 0] = 1.0
    J = loss(W, V)
    G = grad(W, V)
    assert_allclose(loss(c * W, c * V), c * c * J, rtol=1e-11, atol=1e-300)
    R, _ = np.linalg.qr(rng.standard_normal((d, d)))
    assert_allclose(loss(W @ R, V @ R), J, rtol=1e-10, atol=1e-12)
    assert_allclose(grad(W @ R, V @ R), G @ R, atol=1e-10 * (1 + np.abs(G).max()))
    ps, pt = rng.permutation(K), rng.permutation(M)
    assert_allclose(loss(W[ps], V[pt]), J, rtol=1e-12, atol=1e-13)
    assert_allclose(grad(W[ps], V[pt]), G[ps], atol=1e-12)
    H = hessian(W, V)
    assert_allclose(H, H.T, atol=1e-13)


@pytest.mark.parametrize("K,d", [(1, 1), (3, 2), (5, 7)])
def test_teacher_is_a_global_minimum(K, d):
    V = np.random.default_rng(K * d).standard_normal((K, d))
    assert abs(loss(V, V)) < 1e-12 * (1 + np.abs(V).max() ** 2)
    assert_allclose(grad(V, V), 0.0, atol=1e-13)
    assert np.linalg.eigvalsh(hessian(V, V)).min() > -1e-12


def test_batched_equals_looped():
    rng = np.random.default_rng(11)
    V = rng.standard_normal((3, 4))
    Ws = rng.standard_normal((17, 2, 4))
    Ws[3, 1] = Ws[3, 0]  # a coincident pair inside the batch
    L, G = loss_and_grad(Ws, V)
    assert L.shape == (17,) and G.shape == (17, 2, 4)
    H = hessian(Ws, V)
    assert H.shape == (17, 8, 8)
    for i in range(17):
        assert_array_equal(loss(Ws[i], V), loss(Ws, V)[i])
        assert_array_equal(grad(Ws[i], V), grad(Ws, V)[i])
        assert_array_equal(G[i], grad(Ws[i], V))
        assert_allclose(L[i], loss(Ws[i], V), rtol=1e-15)
        assert_array_equal(H[i], hessian(Ws[i], V))
    Ls, Gs = loss_and_grad(Ws[0], V)
    assert isinstance(Ls, float) and Gs.shape == (2, 4)


def test_dead_rows_gradient_zero_and_hessian_error():
    V = np.array([[1.0, 0.0], [0.0, 1.0]])
    W = np.array([[0.0, 0.0], [0.5, 0.5], [0.0, 0.0]])
    assert dead_rows(W) == [0, 2]
    assert dead_rows(np.stack([W, np.ones((3, 2))])) == [[0, 2], []]
    G = grad(W, V)
    assert_array_equal(G[[0, 2]], 0.0)
    # a dead row contributes nothing to the others: same as removing it
    assert_allclose(G[1], grad(W[[1]], V)[0], atol=1e-15)
    assert_allclose(loss(W, V), loss(W[[1]], V), rtol=1e-15)
    with pytest.raises(DeadRowError, match=r"rows \[0, 2\]"):
        hessian(W, V)
    with pytest.raises(ValueError, match="batch item 1"):
        hessian(np.stack([np.ones((3, 2)), W]), V)


BAD = [
    (lambda: loss(np.ones((2, 3)), np.ones((2, 4))), ValueError, "d = 4"),
    (lambda: loss(np.ones(3), np.ones((2, 3))), ValueError, "shape"),
    (lambda: loss(np.ones((1, 2, 3, 3)), np.ones((2, 3))), ValueError, "W must have shape"),
    (lambda: grad(np.ones((2, 3)), np.ones(3)), ValueError, "V must be a 2-D"),
    (lambda: grad(np.ones((2, 3)), np.zeros((0, 3))), ValueError, "V is empty"),
    (lambda: grad(np.full((2, 3), np.nan), np.ones((2, 3))), ValueError, "W contains NaN"),
    (lambda: grad(np.ones((2, 3)), [[1, np.inf, 0]]), ValueError, "V contains NaN or inf"),
    (lambda: hessian("abc", np.ones((2, 3))), TypeError, "W must be an array"),
    (lambda: hessian(np.ones((2, 3)), None), TypeError, "V must be an array"),
    (lambda: loss([[1, 2], [3]], np.ones((2, 2))), TypeError, "W must be an array"),
    (lambda: loss(np.ones((2, 2)), np.zeros((2, 2))), ValueError, "zero rows"),
    (lambda: loss(np.ones((2, 2)) * 1j, np.ones((2, 2))), TypeError, "complex"),
    (lambda: loss(np.ones((0, 2)), np.ones((2, 2))), ValueError, "no rows"),
]


@pytest.mark.parametrize("call,exc,msg", BAD)
def test_bad_inputs_raise_clear_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_large_sizes_use_blas_path_and_match_fd():
    # K·(K+M)·d above the BLAS threshold: the Gram and assembly go through np.dot
    from reludyn import kernels

    rng = np.random.default_rng(21)
    K, M, d = 40, 30, 30
    assert K * (K + M) * d >= kernels._BLAS_FLOPS
    W, V = rng.standard_normal((K, d)), rng.standard_normal((M, d))
    W[5] = W[3]  # a coincident pair on the BLAS path
    J, G = loss_and_grad(W, V)
    assert_array_equal(G, grad(W, V))
    h = 1e-6
    for _ in range(12):
        i, t = rng.integers(K), rng.integers(d)
        E = np.zeros_like(W)
        E[i, t] = h
        fd = (loss(W + E, V) - loss(W - E, V)) / (2 * h)
        assert_allclose(G[i, t], fd, atol=2e-6 * max(1.0, abs(J)) ** 0.5)
    Ws = np.stack([W, W[::-1].copy()])
    assert_array_equal(grad(Ws, V)[1], grad(W[::-1].copy(), V))


def test_grad_fast_path_and_validated_path_agree_on_every_layout():
    """reludyn.grad's fast path (the closed jitted entry) serves C-contiguous float64 pairs;
    every other layout or dtype falls through to validation and gives the same numbers,
    and no new kernel signature is compiled for it."""
    from reludyn import kernels

    rng = np.random.default_rng(11)
    W = rng.standard_normal((5, 4))
    V = rng.standard_normal((3, 4))
    G = grad(W, V)
    ref = np.empty_like(W)
    kernels.grad_kernel(W, V, ref)
    np.testing.assert_array_equal(G, ref)
    ro = W.copy()
    ro.setflags(write=False)
    for w, v in ((np.asfortranarray(W), V), (ro, V), (W.astype(np.float32), V.astype(np.float32)),
                 (W, V.astype(">f8")), (np.repeat(W, 2, axis=0)[::2], V), (W.tolist(), V.tolist())):
        Gw = grad(w, v)
        np.testing.assert_allclose(Gw, grad(np.asarray(w, float), np.asarray(v, float)), rtol=0, atol=0)
    assert len(kernels.grad_entry.signatures) == 1
    for w, v, msg in ((W, V[:, :3], "length 4"), (W[:0], V, "no rows"), (W, V[:0], "empty"),
                      (np.full_like(W, np.inf), V, "NaN or inf"), (W, 0 * V, "zero rows")):
        with pytest.raises(ValueError, match=msg):
            grad(w, v)
