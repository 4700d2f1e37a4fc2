"""The numba.cuda kernel behind :mod:`reludyn.dynamics.cuda_gd` (layout and limits documented there).

Importing this module imports ``numba.cuda``; only ``cuda_gd.gd_ensemble_cuda`` does, after
checking that a device (or the simulator) is there.
"""
from __future__ import annotations

import math

from numba import cuda, float64, int64

# the CPU kernel's constants, so both take the same branches (|cos θ| above _NEAR_PARALLEL:
# angle from the unit vectors) and share fdlibm's asin coefficients
from ..kernels.angles import _NEAR_PARALLEL, TWO_PI
from ..kernels.gradient import _PS0, _PS1, _PS2, _PS3, _PS4, _PS5, _QS1, _QS2, _QS3, _QS4
from ._gdkernel import BUDGET, CONVERGED, DEAD_ROW, DIVERGED, RUNNING


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

    # workspace: X = [W; V], teacher norms and unit rows (grad_workspace stores −V and the
    # coefficients π − θ; here the rows are +V and a teacher's coefficient is θ − π)
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
                if nr[j] < amin:  # (min() does not compile here; NaN norms are caught by fro2)
                    amin = nr[j]
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
