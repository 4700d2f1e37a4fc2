"""Explicit four-lane float64 vectors for the small matrix products of the kernels.

Numba leaves LLVM's SLP vectorizer off (``NUMBA_SLP_VECTORIZE``), and its loop
vectorizer only vectorizes innermost loops: a product whose inner loop is the
reduction stays scalar, one whose inner loop runs over output columns keeps its
accumulators in memory. :func:`matmul_blocked` holds a 4 × 8 block of the output in
eight ``<4 x double>`` registers instead, through a few intrinsics that emit LLVM
vector instructions directly. Each lane does exactly the scalar operations — a
multiply, then an add (no fused multiply-add: LLVM contracts only under fast-math),
summed over the inner index in order from 0.0 — so the result is bit for bit that of
the plain loop ``out[j, c] += A[j, n] * B[n, c]``.
"""
from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core.datamodel import models, register_default
from numba.extending import intrinsic

from .views import _contiguous, flat


class _Vec4Type(types.Type):
    def __init__(self):
        super().__init__(name="Vec4f64")


_VEC4 = _Vec4Type()
_LL_VEC4 = ir.VectorType(ir.DoubleType(), 4)


@register_default(_Vec4Type)
class _Vec4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _LL_VEC4)


def _is_flat_f64(a) -> bool:
    return _contiguous(a, 1) and a.dtype == types.float64


def _vec_ptr(context, builder, arrty, arr, idxty, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    i = context.cast(builder, idx, idxty, types.intp)
    return builder.bitcast(builder.gep(ary.data, [i]), _LL_VEC4.as_pointer())


@intrinsic
def vload(typingctx, a, i):
    """a[i:i + 4] of a flat C-contiguous float64 array (unchecked: the caller keeps i + 4 <= a.size)."""
    if not (_is_flat_f64(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load(_vec_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1]), align=8)

    return _VEC4(a, i), codegen


@intrinsic
def vstore(typingctx, a, i, v):
    """a[i:i + 4] = v (unchecked, as :func:`vload`)."""
    if not (_is_flat_f64(a) and isinstance(i, types.Integer) and v == _VEC4):
        return None

    def codegen(context, builder, sig, args):
        ptr = _vec_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(args[2], ptr, align=8)
        return context.get_dummy_value()

    return types.void(a, i, v), codegen


@intrinsic
def vsplat(typingctx, x):
    """(x, x, x, x)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, sig, args):
        x = context.cast(builder, args[0], sig.args[0], types.float64)
        v = ir.Constant(_LL_VEC4, ir.Undefined)
        for k in range(4):
            v = builder.insert_element(v, x, ir.Constant(ir.IntType(32), k))
        return v

    return _VEC4(x), codegen


@intrinsic
def vzero(typingctx):
    """(0.0, 0.0, 0.0, 0.0)."""

    def codegen(context, builder, sig, args):
        return ir.Constant(_LL_VEC4, [0.0] * 4)

    return _VEC4(), codegen


@intrinsic
def vmuladd(typingctx, acc, x, y):
    """acc + x * y lane by lane, rounded twice (a multiply, then an add)."""
    if not (acc == _VEC4 and x == _VEC4 and y == _VEC4):
        return None

    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], builder.fmul(args[1], args[2]))

    return _VEC4(acc, x, y), codegen


@njit(cache=True, inline="always", error_model="numpy")
def _rows4_cols4(Af, Bf, Of, N, m, j0, j1, j2, j3, t):
    """Of rows j0..j3, columns t..t+3 (one vector per row)."""
    a0 = vzero()
    a1 = vzero()
    a2 = vzero()
    a3 = vzero()
    for n in range(N):
        b = vload(Bf, n * m + t)
        a0 = vmuladd(a0, vsplat(Af[j0 * N + n]), b)
        a1 = vmuladd(a1, vsplat(Af[j1 * N + n]), b)
        a2 = vmuladd(a2, vsplat(Af[j2 * N + n]), b)
        a3 = vmuladd(a3, vsplat(Af[j3 * N + n]), b)
    vstore(Of, j0 * m + t, a0)
    vstore(Of, j1 * m + t, a1)
    vstore(Of, j2 * m + t, a2)
    vstore(Of, j3 * m + t, a3)


@njit(cache=True, error_model="numpy")
def matmul_blocked(A, B, out):
    """out = A @ B for C-contiguous A (K, N), B (N, m), out (K, m), m >= 4; bit for bit
    the ordered row loop (each entry summed over n in order from 0.0, no fused multiply-add).

    Blocks of 4 rows × 8 columns in eight vector registers, then 4 columns; a ragged
    column tail is recomputed as the last four columns (overlapping ones are written twice
    with the same value), and a ragged row tail repeats the last row.
    """
    K, N = A.shape
    m = B.shape[1]
    Af = flat(A)
    Bf = flat(B)
    Of = flat(out)
    for j0 in range(0, K, 4):
        j1 = min(j0 + 1, K - 1)
        j2 = min(j0 + 2, K - 1)
        j3 = min(j0 + 3, K - 1)
        t = 0
        while t + 8 <= m:
            a00 = vzero()
            a01 = vzero()
            a10 = vzero()
            a11 = vzero()
            a20 = vzero()
            a21 = vzero()
            a30 = vzero()
            a31 = vzero()
            for n in range(N):
                b0 = vload(Bf, n * m + t)
                b1 = vload(Bf, n * m + t + 4)
                x = vsplat(Af[j0 * N + n])
                a00 = vmuladd(a00, x, b0)
                a01 = vmuladd(a01, x, b1)
                x = vsplat(Af[j1 * N + n])
                a10 = vmuladd(a10, x, b0)
                a11 = vmuladd(a11, x, b1)
                x = vsplat(Af[j2 * N + n])
                a20 = vmuladd(a20, x, b0)
                a21 = vmuladd(a21, x, b1)
                x = vsplat(Af[j3 * N + n])
                a30 = vmuladd(a30, x, b0)
                a31 = vmuladd(a31, x, b1)
            vstore(Of, j0 * m + t, a00)
            vstore(Of, j0 * m + t + 4, a01)
            vstore(Of, j1 * m + t, a10)
            vstore(Of, j1 * m + t + 4, a11)
            vstore(Of, j2 * m + t, a20)
            vstore(Of, j2 * m + t + 4, a21)
            vstore(Of, j3 * m + t, a30)
            vstore(Of, j3 * m + t + 4, a31)
            t += 8
        if t + 4 <= m:
            _rows4_cols4(Af, Bf, Of, N, m, j0, j1, j2, j3, t)
            t += 4
        if t < m:
            _rows4_cols4(Af, Bf, Of, N, m, j0, j1, j2, j3, m - 4)
