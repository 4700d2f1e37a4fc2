"""Array wrappers around the kernels' inline scalar functions, jitted for the tests only."""
from numba import njit

from reludyn.kernels import acos_fast, asin_small


@njit(cache=True, error_model="numpy")
def acos_fast_array(x, out):
    """out[i] = acos_fast(x[i]) for 1-D arrays."""
    for i in range(x.shape[0]):
        out[i] = acos_fast(x[i])


@njit(cache=True, error_model="numpy")
def asin_small_array(x, out):
    """out[i] = asin_small(x[i]) for 1-D arrays (0 <= x < 1/2)."""
    for i in range(x.shape[0]):
        out[i] = asin_small(x[i])
