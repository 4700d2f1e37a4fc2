"""BLAS/LAPACK routines the native solver needs beyond Numba's own bindings.

Numba binds gemm/gemv/gesv/potrf (behind np.dot, np.linalg.solve, np.linalg.cholesky)
but not the symmetric rank-k update (syrk: H² in half the flops of a product) or the
Cholesky solve (potrs: BLAS triangular solves instead of scalar loops).  Both come here
from SciPy's Cython BLAS/LAPACK (the same library Numba's bindings reach), called with
Fortran conventions: every argument by pointer, 32-bit integers, column-major arrays.
All matrices passed here are symmetric (or a triangle of one), so a C-contiguous
array is its own column-major view; "U" (Fortran upper) is the C array's lower triangle.
"""
from __future__ import annotations

import llvmlite.binding as ll
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address


def _external(module: str, name: str, nargs: int):
    """The routine as a named external symbol: calls to it are cacheable (a ctypes
    pointer would be a dynamic global, and no kernel calling it could be cached)."""
    symbol = f"reludyn_{name}"
    ll.add_symbol(symbol, get_cython_function_address(f"scipy.linalg.{module}", name))
    return types.ExternalFunction(symbol, types.void(*([types.voidptr] * nargs)))


_dsyrk = _external("cython_blas", "dsyrk", 10)
_dpotrs = _external("cython_lapack", "dpotrs", 8)


@njit(cache=True)
def square_lower(H, out):
    """out's lower triangle (C order) = that of H @ H for symmetric H (n, n); BLAS syrk.

    The upper triangle of ``out`` is left as it was (callers read the lower one)."""
    n = H.shape[0]
    ints = np.empty(3, dtype=np.int32)
    ints[0] = n
    ints[1] = n
    ints[2] = n
    chars = np.empty(2, dtype=np.uint8)
    chars[0] = 85  # "U": Fortran upper = C lower
    chars[1] = 78  # "N": out = H Hᵀ (= H² for symmetric H)
    scal = np.empty(2)
    scal[0] = 1.0
    scal[1] = 0.0
    _dsyrk(chars[0:1].ctypes, chars[1:2].ctypes, ints[0:1].ctypes, ints[1:2].ctypes,
           scal[0:1].ctypes, H.ctypes, ints[2:3].ctypes, scal[1:2].ctypes, out.ctypes,
           ints[2:3].ctypes)


@njit(cache=True)
def cholesky_solve(L, b, x):
    """x = (L Lᵀ)⁻¹ b with L the lower Cholesky factor in the C lower triangle (LAPACK
    potrs, upper in Fortran terms); b is left unchanged.  Returns LAPACK's info."""
    n = L.shape[0]
    for i in range(n):
        x[i] = b[i]
    ints = np.empty(4, dtype=np.int32)
    ints[0] = n
    ints[1] = 1
    ints[2] = 0
    chars = np.empty(1, dtype=np.uint8)
    chars[0] = 85
    _dpotrs(chars.ctypes, ints[0:1].ctypes, ints[1:2].ctypes, L.ctypes, ints[0:1].ctypes,
            x.ctypes, ints[0:1].ctypes, ints[2:3].ctypes)
    return ints[2]
