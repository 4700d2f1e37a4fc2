"""Gradient-descent ensembles on a CUDA device (``gradient_descent(..., device="cuda")``).

This module is imported only by the ``device="cuda"`` branch of
:func:`reludyn.dynamics.gd.gradient_descent`, and imports ``numba.cuda`` only when
asked for a device (the kernel is in :mod:`._cuda_kernel`), so ``import reludyn``
and every CPU path never touch CUDA, and a numba without its CUDA target gives the
same clear error as a machine without a GPU. On a GPU it needs the ``numba-cuda``
package (the maintained CUDA target; ``pip install -e '.[cuda]'``) and an NVIDIA
driver; for tests, Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before numba is
imported) runs the same kernel on the CPU with Python threads.

Layout: one thread block per run. The block's threads share, at every step,

- the K row norms and unit rows (one (row, coordinate) entry per thread, each
  thread summing its row's norm in the CPU order: one barrier fewer);
- the K × (K + M) cosines, sines and angles (one pair per thread, strided): the
  cosine accumulates over coordinates in the CPU kernel's order, the angle is
  ``math.acos`` of the clamped cosine, and pairs with |cos θ| > 0.9 are
  recomputed from the unit vectors as ``reludyn.kernels.grad_into`` does (sin θ
  = ‖e_n − c e_j‖, θ = asin(sin θ) or π − asin(sin θ), the same asin series), so
  results agree near θ = 0 and π;
- the K radial sums (one thread per row, in the CPU order) and the K × d
  gradient entries and updates (one entry per thread).

Thread 0 applies the stop rules of :func:`reludyn.dynamics._gdkernel.gd_run`
(same order, same reason codes, same grad-norm bookkeeping) and broadcasts the
decision through shared memory. Every sum runs in the CPU kernel's order, so on
the simulator (IEEE arithmetic, no FMA) a run equals the CPU run to rounding of
acos (<= 1 ulp apart); on hardware NVVM's fused multiply-adds add rounding-level
differences. Above ``reludyn.kernels._BLAS_FLOPS`` multiply-adds per product
the CPU kernel switches to BLAS, whose summation order differs: there the two
agree to rounding, not bit for bit.

Size limits: the per-run workspace (X (N, d), XT (d, N), C/S/T/Cm (K, N),
G (K, d), norms and radial sums, N = K + M) lives in device global memory,
``8·B·(2Nd + 4KN + Kd + N + 2K)`` bytes for B runs (cached in L1/L2; K = M = d
= 50 with B = 10⁴ is about 2.6 GB); there is no shared-memory limit on K, M, d.
Threads per block (:func:`launch_threads`): the larger of K(K + M) and K·d,
rounded up to a warp (32), at most 256 (at most 2 on the simulator); loops
stride when there is more work than threads. Trajectory recording is supported
(the same log schedule, recorded by the block; losses are evaluated on the host
afterwards, as on the CPU path).
"""
from __future__ import annotations

import numpy as np

NO_CUDA = ("no CUDA device: install numba-cuda and a driver, or set NUMBA_ENABLE_CUDASIM=1 "
           "for the simulator")
WARP = 32
MAX_THREADS = 256
SIM_THREADS = 2


def simulator() -> bool:
    """True when Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1 when numba was imported)."""
    from numba import config
    return bool(config.ENABLE_CUDASIM)


def available() -> bool:
    """True when kernels can launch: a CUDA device with a driver, or the simulator."""
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # numba without its CUDA target, or a broken driver, reads as no device
        return False


def require_cuda() -> None:
    """Raise RuntimeError naming the problem when no CUDA device (and no simulator) is there."""
    if not available():
        raise RuntimeError(NO_CUDA)


def launch_threads(K: int, M: int, d: int) -> int:
    """Threads per block for one run: max(K(K + M), K·d) rounded up to a warp, in [32, 256].

    On the simulator, where every thread is a Python thread polled at every barrier, at most
    ``SIM_THREADS`` (2): the loops stride, and correctness does not depend on the block size.
    """
    work = max(K * (K + M), K * d, 1)
    if simulator():
        return int(min(SIM_THREADS, work))
    return int(min(MAX_THREADS, max(WARP, -(-work // WARP) * WARP)))


def gd_ensemble_cuda(Ws, V, eta, tol, use_fro, max_steps, bound, dead_tol,
                     rec_sched, rec_steps, rec_W, rec_gn, steps, reasons, gnorms,
                     *, threads: int | None = None) -> None:
    """The device twin of :func:`reludyn.dynamics._gdkernel.gd_ensemble_kernel` (same arguments).

    Ws (B, K, d) is updated in place and the per-run outputs ``steps``,
    ``reasons``, ``gnorms`` (B,) and the records ``rec_steps`` (B, T),
    ``rec_W`` (B, T, K, d), ``rec_gn`` (B, T) are filled, one block per run.
    ``threads`` overrides :func:`launch_threads` (tests use it to exercise strided
    loops). Raises RuntimeError when no CUDA device or simulator is available.
    """
    require_cuda()
    from numba import cuda

    from ._cuda_kernel import _gd_ensemble
    B, K, d = Ws.shape
    M = V.shape[0]
    if B == 0:
        return
    N = K + M
    nth = launch_threads(K, M, d) if threads is None else int(threads)
    if not 1 <= nth <= 1024:
        raise ValueError(f"threads must be in [1, 1024], got {nth}")
    dev = cuda.to_device
    d_W = dev(Ws)
    d_rec_steps, d_rec_W, d_rec_gn = dev(rec_steps), dev(rec_W), dev(rec_gn)
    d_steps, d_reasons, d_gn = dev(steps), dev(reasons), dev(gnorms)
    work = [cuda.device_array(shape, dtype=np.float64) for shape in
            ((B, N, d), (B, d, N), (B, N), (B, K, N), (B, K, N), (B, K, N), (B, K, N),
             (B, K, d), (B, K), (B, K))]
    _gd_ensemble[B, nth](d_W, dev(V), float(eta), float(tol), bool(use_fro), int(max_steps),
                         float(bound), float(dead_tol), dev(rec_sched), d_rec_steps, d_rec_W,
                         d_rec_gn, d_steps, d_reasons, d_gn, *work)
    cuda.synchronize()
    d_W.copy_to_host(Ws)
    d_steps.copy_to_host(steps)
    d_reasons.copy_to_host(reasons)
    d_gn.copy_to_host(gnorms)
    d_rec_steps.copy_to_host(rec_steps)
    d_rec_W.copy_to_host(rec_W)
    d_rec_gn.copy_to_host(rec_gn)
