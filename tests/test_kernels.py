"""The core kernels' building blocks: the vectorizable arccos/arcsin and the two angle paths."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from _kernel_shims import acos_fast_array, asin_small_array

from reludyn import kernels, validation


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


# --- the tuned gradient against the kernel it replaced (tests/_grad_reference.py) ---------
def _configs(rng, K, M, d, mode, scale):
    V = rng.standard_normal((M, d))
    W = rng.standard_normal((K, d)) * scale
    if mode == "coincident" and K > 1:
        W[1] = W[0]
    elif mode == "opposite":
        W[0] = -2.0 * V[0] * scale
    elif mode == "parallel":
        W[-1] = 1.7 * V[-1] * scale
    elif mode == "zero":
        W[rng.integers(K)] = 0.0
    elif mode == "near" and K > 1:
        W[1] = W[0] * (1 + 1e-9) + 1e-12 * scale * rng.standard_normal(d)
    elif mode == "near_opposite" and K > 1:
        W[1] = -W[0] * 0.5 + 1e-10 * scale * rng.standard_normal(d)
    return W, V


def test_tuned_gradient_equals_reference_bit_for_bit():
    """Sizes across the short-row product (d < 12), K not a multiple of 4, and the BLAS
    path (K·N·d >= 40000); rows coincident, opposite, (nearly) parallel, zero; scales
    1e-8..1e8. The tuned kernel does the same operations in the same order, so the
    tolerance is zero: bit for bit (and loss_grad_kernel's loss is that of the angles)."""
    from _grad_reference import grad_kernel as ref_grad

    rng = np.random.default_rng(7)
    n = 0
    for K, M, d in ((1, 1, 1), (2, 3, 2), (3, 1, 5), (5, 4, 7), (6, 6, 6), (7, 2, 11), (9, 5, 12),
                    (10, 10, 10), (13, 4, 17), (20, 20, 20), (21, 30, 50), (50, 50, 100)):
        for mode in ("random", "coincident", "opposite", "parallel", "zero", "near", "near_opposite"):
            for scale in (1e-8, 1.0, 1e8):
                W, V = _configs(rng, K, M, d, mode, scale)
                G = np.empty_like(W)
                kernels.grad_kernel(W, V, G)
                R = np.empty_like(W)
                ref_grad(W, V, R)
                np.testing.assert_array_equal(G, R, err_msg=f"K={K} M={M} d={d} {mode} {scale}")
                G2 = np.empty_like(W)
                kernels.loss_grad_kernel(W, V, G2, kernels.teacher_energy_kernel(V))
                np.testing.assert_array_equal(G2, R)
                n += 1
    assert n == 12 * 7 * 3


def test_one_pass_hessian_equals_reference_to_rounding_and_is_exactly_symmetric():
    """The one-pass Hessian (every entry written once, mixed blocks mirrored) against the
    block-by-block kernel it replaced (tests/_hessian_reference.py): same formula, sums
    in another order, so equal to rounding (relative to the largest entry); and exactly
    symmetric, which the native solver relies on (it reads one triangle).  Rows coincident,
    opposite, (nearly) parallel; scales 1e-8..1e8 (the Hessian is scale-free)."""
    from _hessian_reference import hessian_reference

    rng = np.random.default_rng(11)
    n = 0
    for K, M, d in ((1, 1, 1), (2, 3, 2), (3, 1, 5), (5, 4, 7), (6, 6, 6), (10, 10, 10),
                    (4, 9, 3), (20, 20, 20)):
        for mode in ("random", "coincident", "opposite", "parallel", "near", "near_opposite"):
            for scale in (1e-8, 1.0, 1e8):
                W, V = _configs(rng, K, M, d, mode, scale)
                H = np.empty((K * d, K * d))
                kernels.hessian_kernel(W, V, H)
                R = np.empty_like(H)
                hessian_reference(W, V, R)
                np.testing.assert_array_equal(H, H.T, err_msg=f"K={K} M={M} d={d} {mode}")
                np.testing.assert_allclose(H, R, rtol=0, atol=1e-13 * max(1.0, np.abs(R).max()),
                                           err_msg=f"K={K} M={M} d={d} {mode} {scale}")
                n += 1
    assert n == 8 * 6 * 3


def test_workspace_reused_across_iterates_equals_fresh_calls():
    """grad_into on one workspace (as gradient descent uses it) equals fresh grad_kernel calls."""
    rng = np.random.default_rng(3)
    for K, M, d in ((4, 3, 5), (10, 10, 10), (50, 50, 100)):
        V = rng.standard_normal((M, d))
        W = rng.standard_normal((K, d))
        X, XT, nrm, C, S, T, Cm = kernels.grad_workspace(W, V)
        G = np.empty((K, d))
        for _ in range(3):
            W = rng.standard_normal((K, d))
            W[0] = W[1] if K > 1 else W[0]
            X[:K] = W
            kernels.grad_into(K, X, XT, nrm, C, S, T, Cm, G)
            R = np.empty_like(W)
            kernels.grad_kernel(W, V, R)
            np.testing.assert_array_equal(G, R)
            np.testing.assert_allclose(nrm[:K], np.linalg.norm(W, axis=1), rtol=1e-15)


def test_scan_inputs_flags_every_nonfinite_value():
    """The bit-pattern scan flags NaN (quiet, signalling, negative) and ±inf anywhere in W
    (code 1), and no finite entry as such (largest, subnormal, -0.0): finite rows are judged
    only by their norm against the input domain of reludyn.validation (code 5 outside)."""
    V = np.eye(3)
    specials = [np.nan, -np.nan, np.inf, -np.inf,
                np.frombuffer(np.uint64(0x7FF0000000000001).tobytes(), np.float64)[0]]
    for k in range(9):
        for x in specials:
            W = np.ones((3, 3))
            W.flat[k] = x
            assert kernels.scan_inputs(W.reshape(-1), V) == 1
    W = np.array([[1.0, -0.0, 5e-324], [1e-310, -1.0, 1e-310], [1, 2, 3]])
    assert kernels.scan_inputs(W.reshape(-1), V) == 0
    big = np.finfo(float).max
    for row in ([big, -0.0, 5e-324], [1.0, -big, 1e-310], [1e-160, 0.0, 0.0]):
        W = np.array([row, [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        assert kernels.scan_inputs(W.reshape(-1), V) == 5  # finite, but outside the domain
        with pytest.raises(ValueError, match="norm"):  # the Python-level check agrees
            validation.check_row_scale(W, "W", allow_zero=True)
    # a row whose squares all underflow is a dead row for both (squared norm exactly 0)
    W = np.array([[5e-324, 0.0, -1e-200], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    assert kernels.scan_inputs(W.reshape(-1), V) == 0
    validation.check_row_scale(W, "W", allow_zero=True)


def test_batch_on_shared_workspaces_equals_single_points():
    """grad_batch_kernel reuses one workspace per chunk of items: bit for bit grad_kernel
    per item, across chunk boundaries, with zero and coincident rows, small and BLAS sizes."""
    rng = np.random.default_rng(5)
    for B, K, M, d in ((1, 3, 2, 4), (17, 10, 10, 10), (33, 5, 7, 3), (20, 50, 50, 100)):
        Ws = rng.standard_normal((B, K, d))
        V = rng.standard_normal((M, d))
        Ws[0, 0] = 0.0
        Ws[-1, 1 % K] = Ws[-1, 0]
        out = np.empty_like(Ws)
        kernels.grad_batch_kernel(Ws, V, out)
        for i in range(B):
            G = np.empty((K, d))
            kernels.grad_kernel(Ws[i], V, G)
            np.testing.assert_array_equal(out[i], G)


_ODD = [np.nan, np.inf, -np.inf, 0.0, 5e-324, 1e-160, 1e160, np.finfo(float).max]


@settings(max_examples=200, deadline=None)
@given(K=st.integers(1, 6), M=st.integers(1, 6), d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       n_odd=st.integers(0, 3), zero_rows=st.booleans())
def test_grad_entry_check_rides_on_the_kernel(K, M, d, seed, n_odd, zero_rows):
    """The single-point door reads its input check from the row norms the kernel computes
    and asks scan_inputs only when one is not clearly inside the domain: its code is
    scan_inputs' code for every input (NaN, inf, zero, subnormal, huge entries, zero rows),
    and where it is 0 the gradient is grad_kernel's, bit for bit."""
    rng = np.random.default_rng(seed)
    W, V = rng.standard_normal((K, d)), rng.standard_normal((M, d))
    for _ in range(n_odd):
        X = W if rng.random() < 0.5 else V
        X.flat[rng.integers(X.size)] = rng.choice(_ODD)
    if zero_rows:
        (W if rng.random() < 0.5 else V)[0] = 0.0
    G = np.empty((K, d))
    with np.errstate(all="ignore"):
        code = kernels.grad_entry(W, V, G)
    assert code == kernels.scan_inputs(W.reshape(-1), V)
    if code == 0:
        R = np.empty((K, d))
        kernels.grad_kernel(W, V, R)
        np.testing.assert_array_equal(G, R)
