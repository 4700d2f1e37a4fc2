"""Views of contiguous buffers without ``reshape``, for kernels that build them every step.

``a.reshape(...)`` inside a jitted function normalizes the shape in a compiled helper and
asks a C routine whether a copy is needed: 18 ns per call against 2 ns for :func:`flat`
(``python benchmarks/bench_kernels.py``, "flat view" row), which the gradient step pays ten
times (its flat passes and its products) and the single-point door seven more times (the
workspace). For buffers known to be C-contiguous the answer is fixed, so these
intrinsics write the view's shape and strides directly. They share the buffer's memory
(and keep it alive, like any view) and check nothing: the caller keeps the view inside
the buffer.
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


def _contiguous(a, ndim=None) -> bool:
    return (isinstance(a, types.Array) and a.layout == "C"
            and (ndim is None or a.ndim == ndim))


@intrinsic
def flat(typingctx, a):
    """The C-contiguous array a as a 1-D view of all its entries (a.reshape(a.size))."""
    if not _contiguous(a):
        return None
    rt = types.Array(a.dtype, 1, "C", readonly=not a.mutable)

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        src = make_array(aty)(context, builder, args[0])
        dims = cgutils.unpack_tuple(builder, src.shape, aty.ndim)
        n = dims[0]
        for s in dims[1:]:
            n = builder.mul(n, s)
        out = make_array(sig.return_type)(context, builder)
        populate_array(out, data=src.data, shape=[n], strides=[src.itemsize],
                       itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())

    return rt(a), codegen


@intrinsic
def rows(typingctx, buf, start, n, m):
    """buf[start:start + n·m] of a 1-D C-contiguous buffer as an (n, m) C-contiguous view
    (buf[start:start + n * m].reshape((n, m)), unchecked)."""
    if not (_contiguous(buf, 1) and all(isinstance(x, types.Integer) for x in (start, n, m))):
        return None
    rt = types.Array(buf.dtype, 2, "C", readonly=not buf.mutable)

    def codegen(context, builder, sig, args):
        bty = sig.args[0]
        src = make_array(bty)(context, builder, args[0])
        start_, n_, m_ = (context.cast(builder, v, t, types.intp)
                          for v, t in zip(args[1:], sig.args[1:]))
        out = make_array(sig.return_type)(context, builder)
        populate_array(out, data=builder.gep(src.data, [start_]), shape=[n_, m_],
                       strides=[builder.mul(m_, src.itemsize), src.itemsize],
                       itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())

    return rt(buf, start, n, m), codegen
