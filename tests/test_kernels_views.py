"""The reshape-free views of reludyn/kernels/views.py against NumPy's reshape."""
import gc

import numpy as np
from numba import njit
from numpy.testing import assert_array_equal

from reludyn.kernels.views import flat, rows


@njit
def _flat_sum_and_write(a):
    f = flat(a)
    s = 0.0
    for i in range(f.size):
        s += f[i] * (i + 1)
    f[0] = -1.0  # a view: writes reach a
    return s, f.shape[0], f.strides[0]


@njit
def _rows_of(buf, start, n, m):
    return rows(buf, start, n, m)


@njit
def _fresh_rows(n, m):
    """A view of a buffer allocated here: the view must keep it alive after return."""
    buf = np.arange(n * m + 3, dtype=np.float64)
    return rows(buf, 3, n, m)


def test_flat_is_reshape_to_one_dimension():
    rng = np.random.default_rng(0)
    for shape in ((1,), (7,), (3, 4), (1, 9), (2, 3, 5)):
        a = rng.standard_normal(shape)
        ref = a.reshape(-1).copy()
        s, n, stride = _flat_sum_and_write(a)
        assert n == a.size and stride == 8
        assert s == sum(ref[i] * (i + 1) for i in range(a.size))
        assert a.reshape(-1)[0] == -1.0 and np.array_equal(a.reshape(-1)[1:], ref[1:])


def test_rows_is_slice_then_reshape():
    buf = np.arange(60.0)
    for start, n, m in ((0, 3, 4), (5, 2, 7), (0, 1, 60), (59, 1, 1), (10, 5, 10)):
        v = _rows_of(buf, start, n, m)
        assert v.shape == (n, m) and v.flags.c_contiguous
        assert_array_equal(v, buf[start:start + n * m].reshape(n, m))
        v[0, 0] = -7.0  # shares the buffer
        assert buf[start] == -7.0
        buf[start] = start


def test_views_keep_their_buffer_alive():
    vs = [_fresh_rows(4, 5) for _ in range(50)]
    gc.collect()
    junk = [np.full(23, 1e300) for _ in range(200)]  # reuse of freed memory would show
    for v in vs:
        assert_array_equal(v, np.arange(3, 23, dtype=np.float64).reshape(4, 5))
    del junk
