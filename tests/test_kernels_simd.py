"""The vector-register product (reludyn/kernels/simd.py) against the ordered loop and NumPy."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from reludyn.kernels.angles import matmul_into
from reludyn.kernels.simd import matmul_blocked

# values that expose a change of summation order or a fused multiply-add: wide magnitudes,
# signed zeros, subnormals, and sums that cancel
_SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1e300, 1.0 + 2.0 ** -52, 3.0, -3.0, 0.1]


def _matrix(rng, shape, special):
    A = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)
    if special:
        mask = rng.random(shape) < 0.3
        A[mask] = rng.choice(_SPECIAL, size=int(mask.sum()))
    return A


@settings(max_examples=150, deadline=None)
@given(K=st.integers(1, 13), N=st.integers(1, 30), m=st.integers(4, 27),
       seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_blocked_product_is_the_ordered_loop_bit_for_bit(K, N, m, seed, special):
    """Every shape with m >= 4, ragged rows (K not a multiple of 4) and ragged columns
    (m not a multiple of 4 or 8): each entry is the ordered sum of the row loop, bit for
    bit (no reordering, no fused multiply-add), and NumPy's product to rounding."""
    rng = np.random.default_rng(seed)
    A, B = _matrix(rng, (K, N), special), _matrix(rng, (N, m), special)
    out, ref = np.empty((K, m)), np.empty((K, m))
    with np.errstate(all="ignore"):
        matmul_blocked(A, B, out)
        matmul_into(A, B, ref)
        assert_array_equal(out, ref)
        scale = np.abs(A) @ np.abs(B)
        fin = np.isfinite(scale)
        assert np.all(np.abs(out - A @ B)[fin] <= 1e-13 * scale[fin] + 1e-300)


def test_blocked_product_writes_only_its_output():
    """The loads and stores are unchecked: an output inside a larger buffer keeps the
    guard cells around it untouched, for every ragged row and column tail."""
    rng = np.random.default_rng(3)
    for K in range(1, 10):
        for m in range(4, 14):
            N = 1 + (K + m) % 7
            buf = np.full(K * m + 16, 12345.0)
            out = buf[8:8 + K * m].reshape(K, m)
            A, B = rng.standard_normal((K, N)), rng.standard_normal((N, m))
            matmul_blocked(A, B, out)
            assert_array_equal(buf[:8], 12345.0)
            assert_array_equal(buf[8 + K * m:], 12345.0)
            assert_allclose(out, A @ B, rtol=1e-13, atol=1e-13)
