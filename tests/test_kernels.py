"""The core kernels' building blocks: the vectorizable arccos/arcsin and the two angle paths."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from _kernel_shims import acos_fast_array, asin_small_array

from reludyn import kernels


def test_acos_fast_within_one_ulp():
    x = np.concatenate([np.linspace(-1, 1, 200001), [-1.0, -0.5, 0.5, 1.0, 0.0, -0.0],
                        np.nextafter(0.5, [0, 1]), np.nextafter(-0.5, [0, -1])])
    out = np.empty_like(x)
    acos_fast_array(x, out)
    ref = np.arccos(x)
    assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 1.0


def test_asin_small_within_one_ulp():
    x = np.concatenate([np.linspace(0, 0.4999, 100001), [1e-300, 1e-10, 0.436]])
    out = np.empty_like(x)
    asin_small_array(x, out)
    ref = np.arcsin(x)
    assert np.max(np.abs(out - ref) / np.spacing(np.maximum(ref, 1e-300))) <= 1.0


@settings(max_examples=40, deadline=None)
@given(K=st.integers(1, 6), M=st.integers(1, 6), d=st.integers(1, 7), seed=st.integers(0, 10**6),
       mode=st.sampled_from(["random", "zero_row", "parallel", "coincident", "opposite"]))
def test_gradient_path_agrees_with_geometry_path(K, M, d, seed, mode):
    """grad_kernel (fdlibm arccos on one Gram of unit rows) and the Hessian/loss geometry
    (libm acos/atan2 per pair) are independent angle computations: the loss from the
    gradient workspace must equal loss_kernel, and the gradient its finite differences."""
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((M, d))
    W = rng.standard_normal((K, d))
    if mode == "zero_row":
        W[rng.integers(K)] = 0.0
    elif mode == "parallel":
        W[0] = 1.7 * V[0] + 1e-9 * rng.standard_normal(d)
    elif mode == "coincident" and K > 1:
        W[1] = W[0]
    elif mode == "opposite":
        W[0] = -2.0 * V[0]
    G = np.empty_like(W)
    te = kernels.teacher_energy_kernel(V)
    J = kernels.loss_grad_kernel(W, V, G, te)
    scale = 1.0 + np.abs(W).max() + np.abs(V).max()
    assert_allclose(J, kernels.loss_kernel(W, V), rtol=1e-13, atol=1e-13 * scale**2)
    h = 1e-6 * scale
    for j in range(K):
        if not np.any(W[j]):
            assert not np.any(G[j])
            continue
        for t in range(d):
            E = np.zeros_like(W)
            E[j, t] = h
            fd = (kernels.loss_kernel(W + E, V) - kernels.loss_kernel(W - E, V)) / (2 * h)
            assert abs(G[j, t] - fd) < 1e-6 * scale**2
