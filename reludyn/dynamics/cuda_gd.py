"""Gradient-descent ensembles on a CUDA device (``gradient_descent(..., device="cuda")``).

This module imports ``numba.cuda`` and is imported only by the ``device="cuda"``
branch of :func:`reludyn.dynamics.gd.gradient_descent`, so ``import reludyn``
and every CPU path never touch CUDA. On a GPU it needs the ``numba-cuda``
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

import math

import numpy as np
from numba import cuda, float64, int64

from ..kernels import _NEAR_PARALLEL, _PS0, _PS1, _PS2, _PS3, _PS4, _PS5, _QS1, _QS2, _QS3, _QS4
from ._gdkernel import BUDGET, CONVERGED, DEAD_ROW, DIVERGED, RUNNING

NO_CUDA = ("no CUDA device: install numba-cuda and a driver, or set NUMBA_ENABLE_CUDASIM=1 "
           "for the simulator")
TWO_PI = 2.0 * math.pi
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
        return bool(cuda.is_available())
    except Exception:  # a broken driver install reads as no device
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


@cuda.jit(device=True)
def _asin_small(x):
    """arcsin(x) for 0 <= x < 1/2: fdlibm's series, as reludyn.kernels._asin_small."""
    z = x * x
    p = z * (_PS0 + z * (_PS1 + z * (_PS2 + z * (_PS3 + z * (_PS4 + z * _PS5)))))
    q = 1.0 + z * (_QS1 + z * (_QS2 + z * (_QS3 + z * _QS4)))
    return x + x * (p / q)


@cuda.jit
def _gd_ensemble(Ws, V, eta, tol, use_fro, max_steps, bound, dead_tol,
                 rec_sched, rec_steps, rec_W, rec_gn, steps, reasons, gnorms,
                 X, XT, nrm, C, S, T, Cm, G, rad, rowsq):
    """Block i runs gradient descent on Ws[i] (K, d) in place; workspace slots [i] are its own."""
    i = cuda.blockIdx.x
    if i >= Ws.shape[0]:
        return
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    K = Ws.shape[1]
    d = Ws.shape[2]
    M = V.shape[0]
    N = K + M
    Xi = X[i]
    XTi = XT[i]
    nr = nrm[i]
    Ci = C[i]
    Si = S[i]
    Ti = T[i]
    Cmi = Cm[i]
    Gi = G[i]
    radi = rad[i]
    rsq = rowsq[i]
    n_rec = rec_steps.shape[1]
    n_sched = rec_sched.shape[0]
    # shared state: [reason]; [grad norm];
    # [next schedule index, next free record slot, slot recorded at this step or -1]
    flag = cuda.shared.array(1, int64)
    gshared = cuda.shared.array(1, float64)
    recpos = cuda.shared.array(3, int64)

    # workspace: X = [W; V], teacher norms and unit rows (as grad_workspace)
    for idx in range(tid, N * d, nth):
        n = idx // d
        t = idx - n * d
        Xi[n, t] = Ws[i, n, t] if n < K else V[n - K, t]
    for m in range(tid, M, nth):
        acc = 0.0
        for t in range(d):
            acc += V[m, t] * V[m, t]
        nr[K + m] = math.sqrt(acc)
        for t in range(d):
            XTi[t, K + m] = V[m, t] / nr[K + m]
    if tid == 0:
        flag[0] = RUNNING
        recpos[0] = 0
        recpos[1] = 0
        recpos[2] = -1
    cuda.syncthreads()

    step = 0
    while True:
        # --- gradient (reludyn.kernels.grad_into) ---
        # every thread recomputes its row's norm (O(d), same order): saves a barrier
        for idx in range(tid, K * d, nth):
            j = idx // d
            t = idx - j * d
            acc = 0.0
            for p in range(d):
                acc += Xi[j, p] * Xi[j, p]
            a = math.sqrt(acc)
            if t == 0:
                nr[j] = a
            inv = 1.0 / a if a > 0.0 else 0.0
            XTi[t, j] = Xi[j, t] * inv
        cuda.syncthreads()
        for idx in range(tid, K * N, nth):
            j = idx // N
            n = idx - j * N
            acc = 0.0
            for t in range(d):
                acc += XTi[t, j] * XTi[t, n]
            c = acc if acc < 1.0 else 1.0
            c = c if c > -1.0 else -1.0
            Ci[j, n] = c
            if abs(c) > _NEAR_PARALLEL and n != j:
                # student pairs are computed from the lower index, as the CPU mirrors them
                lo = j
                hi = n
                if n < K and n < j:
                    lo = n
                    hi = j
                acc = 0.0
                for t in range(d):
                    q = XTi[t, hi] - c * XTi[t, lo]
                    acc += q * q
                s = math.sqrt(acc)
                th = _asin_small(s)
                Si[j, n] = s
                Ti[j, n] = th if c > 0.0 else math.pi - th
            else:
                u = 1.0 - c * c
                Si[j, n] = math.sqrt(u if u > 0.0 else 0.0)
                Ti[j, n] = math.acos(c)
        cuda.syncthreads()
        for idx in range(tid, K * N, nth):
            j = idx // N
            n = idx - j * N
            if n == j:
                Cmi[j, n] = math.pi
            elif n < K:
                Cmi[j, n] = math.pi - Ti[j, n]
            else:
                Cmi[j, n] = Ti[j, n] - math.pi
        for j in range(tid, K, nth):
            r = 0.0
            for n in range(N):
                if n < K:
                    r += nr[n] * (Si[j, n] if n != j else 0.0)
                else:
                    r -= nr[n] * Si[j, n]
            radi[j] = r
        cuda.syncthreads()
        for idx in range(tid, K * d, nth):
            j = idx // d
            t = idx - j * d
            acc = 0.0
            for n in range(N):
                acc += Cmi[j, n] * Xi[n, t]
            if nr[j] > 0.0:
                Gi[j, t] = (acc + radi[j] * XTi[t, j]) / TWO_PI
            else:
                Gi[j, t] = 0.0  # relu'(0) = 0: a dead row receives no gradient
        cuda.syncthreads()
        for j in range(tid, K, nth):
            acc = 0.0
            for t in range(d):
                acc += Gi[j, t] * Gi[j, t]
            rsq[j] = acc
        cuda.syncthreads()
        # --- stop rules (gd_run's order), decided by thread 0 ---
        if tid == 0:
            fro2 = 0.0
            amin = math.inf
            best = 0.0
            tot = 0.0
            for j in range(K):
                fro2 += nr[j] * nr[j]
                amin = min(amin, nr[j])
                acc = rsq[j]
                tot += acc
                if acc > best or acc != acc:
                    best = acc
            gn = math.sqrt(tot) if use_fro else math.sqrt(best)
            reason = RUNNING
            if not math.isfinite(fro2) or math.sqrt(fro2) > bound:
                reason = DIVERGED
            elif amin <= dead_tol:
                reason = DEAD_ROW
            elif not math.isfinite(gn):
                reason = DIVERGED
            elif gn < tol:
                reason = CONVERGED
            elif step >= max_steps:
                reason = BUDGET
            flag[0] = reason
            gshared[0] = gn
            if n_rec > 0:
                nxt = recpos[0]
                while nxt < n_sched and rec_sched[nxt] < step:
                    nxt += 1
                recpos[0] = nxt
                scheduled = nxt < n_sched and rec_sched[nxt] == step
                recpos[2] = -1
                if (scheduled or reason != RUNNING) and recpos[1] < n_rec:
                    rec_steps[i, recpos[1]] = step
                    rec_gn[i, recpos[1]] = gn
                    recpos[2] = recpos[1]
                    recpos[1] += 1
        cuda.syncthreads()
        if n_rec > 0:
            slot = recpos[2]
            if slot >= 0:
                for idx in range(tid, K * d, nth):
                    j = idx // d
                    t = idx - j * d
                    rec_W[i, slot, j, t] = Xi[j, t]
        if flag[0] != RUNNING:
            break
        for idx in range(tid, K * d, nth):
            j = idx // d
            t = idx - j * d
            Xi[j, t] -= eta * Gi[j, t]
        step += 1
        cuda.syncthreads()

    for idx in range(tid, K * d, nth):
        j = idx // d
        t = idx - j * d
        Ws[i, j, t] = Xi[j, t]
    if tid == 0:
        steps[i] = step
        reasons[i] = flag[0]
        gnorms[i] = gshared[0]


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
