"""Run small dense linear algebra with one BLAS thread.

The solvers work on (K·d)² Hessians (100 × 100 for K = d = 10).  OpenBLAS
splits even such small products over all cores, and on a busy machine its
spinning threads make them 10-100× slower (measured: 0.27 s vs 3 s per seed
on 2 loaded cores).  ``single_threaded_blas()`` sets every loaded OpenBLAS to
one thread for the duration and restores it after; where no OpenBLAS symbol is
found (other BLAS builds, other platforms) it does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes

_HANDLES = None


def _openblas_handles():
    global _HANDLES
    if _HANDLES is not None:
        return _HANDLES
    handles = []
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and "/" in ln})
    except OSError:
        libs = []
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", "_64_", "", "_"):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None) or \
                getattr(lib, f"openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None) or \
                getattr(lib, f"openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                set_.argtypes = [ctypes.c_int]
                handles.append((get, set_))
                break
    _HANDLES = handles
    return handles


@contextlib.contextmanager
def single_threaded_blas():
    """Context manager: every loaded OpenBLAS uses one thread inside the block."""
    saved = []
    for get, set_ in _openblas_handles():
        try:
            n = int(get())
            set_(1)
            saved.append((set_, n))
        except Exception:  # pragma: no cover - exotic builds
            pass
    try:
        yield
    finally:
        for set_, n in saved:
            set_(n)
