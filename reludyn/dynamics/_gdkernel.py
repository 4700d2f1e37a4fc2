"""Numba kernels for gradient-descent ensembles.

The gradient is the core's (:func:`reludyn.kernels.grad_into` on a workspace
from :func:`reludyn.kernels.grad_workspace`), allocated once per run and
reused for every step. ``gd_ensemble_kernel`` runs B initializations in one
``prange`` loop; each run stops on its own and its result depends only on its
own W0 (no shared reductions), so an ensemble equals B separate runs bit for bit.

Per step nothing is allocated and the teacher's norms and unit rows are not
recomputed (they live in the workspace). Numba's on-disk cache does not notice
edits to the kernels a cached function calls: after changing
``reludyn/kernels/gradient.py``, delete the ``__pycache__/*.nbi``/``*.nbc`` files
(or touch this file) before timing the ensembles.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..kernels import grad_into, grad_workspace, loss_grad_kernel, teacher_energy_kernel

# stop-reason codes (index into REASONS); RUNNING never leaves the kernel
CONVERGED, BUDGET, DIVERGED, DEAD_ROW, RUNNING = 0, 1, 2, 3, 4
REASONS = ("converged", "budget", "diverged", "dead_row")

# the gradient itself lives in the core kernels; these names keep the GD code readable
gd_workspace = grad_workspace
gd_grad = grad_into


@njit(cache=True, error_model="numpy")
def _grad_norm(G, use_fro):
    """Frobenius norm of G, or its largest row norm; NaN if G has a NaN."""
    K, d = G.shape
    best = 0.0
    tot = 0.0
    for j in range(K):
        acc = 0.0
        for t in range(d):
            acc += G[j, t] * G[j, t]
        tot += acc
        if acc > best or acc != acc:
            best = acc
    if use_fro:
        return math.sqrt(tot)
    return math.sqrt(best)


@njit(cache=True, error_model="numpy")
def gd_run(W, V, eta, tol, use_fro, max_steps, bound, dead_tol,
           rec_sched, rec_steps, rec_W, rec_gn):
    """Gradient descent W ← W − η∇J(W) on one W (K, d), in place, until a stop rule fires.

    Checks at every iterate W_t, in this order: non-finite W or ‖W‖_F > bound
    (diverged); a row norm <= dead_tol (dead_row); non-finite gradient
    (diverged); gradient norm < tol (converged); t = max_steps (budget).
    Records (t, W_t, ‖∇J(W_t)‖) at the steps listed in ``rec_sched`` (ascending)
    and at the final iterate into ``rec_steps`` (T,), ``rec_W`` (T, K, d),
    ``rec_gn`` (T,); T = 0 records nothing. Returns (steps, reason code, grad norm).
    """
    K, d = W.shape
    X, XT, nrm, C, S, T_, Cm = gd_workspace(W, V)
    G = np.empty((K, d))
    T = rec_steps.shape[0]
    n_sched = rec_sched.shape[0]
    nxt = 0
    slot = 0
    t = 0
    reason = RUNNING
    gn = np.nan
    while True:
        gd_grad(K, X, XT, nrm, C, S, T_, Cm, G)
        fro2 = 0.0
        amin = np.inf
        for j in range(K):
            fro2 += nrm[j] * nrm[j]
            amin = min(amin, nrm[j])
        gn = _grad_norm(G, use_fro)
        if not math.isfinite(fro2) or math.sqrt(fro2) > bound:
            reason = DIVERGED
        elif amin <= dead_tol:
            reason = DEAD_ROW
        elif not math.isfinite(gn):
            reason = DIVERGED
        elif gn < tol:
            reason = CONVERGED
        elif t >= max_steps:
            reason = BUDGET
        if T > 0:
            while nxt < n_sched and rec_sched[nxt] < t:
                nxt += 1
            scheduled = nxt < n_sched and rec_sched[nxt] == t
            if (scheduled or reason != RUNNING) and slot < T:
                rec_steps[slot] = t
                rec_gn[slot] = gn
                for j in range(K):
                    for p in range(d):
                        rec_W[slot, j, p] = X[j, p]
                slot += 1
        if reason != RUNNING:
            break
        for j in range(K):
            for p in range(d):
                X[j, p] -= eta * G[j, p]
        t += 1
    for j in range(K):
        for p in range(d):
            W[j, p] = X[j, p]
    return t, reason, gn


@njit(cache=True, parallel=True, error_model="numpy")
def gd_ensemble_kernel(Ws, V, eta, tol, use_fro, max_steps, bound, dead_tol,
                       rec_sched, rec_steps, rec_W, rec_gn, steps, reasons, gnorms):
    """:func:`gd_run` on every Ws[i] of (B, K, d), in place, in parallel over i.

    Per-run outputs go to slot i of ``steps`` (B,), ``reasons`` (B,), ``gnorms`` (B,),
    ``rec_steps`` (B, T), ``rec_W`` (B, T, K, d), ``rec_gn`` (B, T).
    """
    for i in prange(Ws.shape[0]):
        s, r, g = gd_run(Ws[i], V, eta, tol, use_fro, max_steps, bound, dead_tol,
                         rec_sched, rec_steps[i], rec_W[i], rec_gn[i])
        steps[i] = s
        reasons[i] = r
        gnorms[i] = g


@njit(cache=True, parallel=True)
def finite_loss_batch(Ws, V, out):
    """out[i] = J(Ws[i]) for Ws (B, K, d) where Ws[i] is finite, NaN otherwise."""
    te = teacher_energy_kernel(V)
    for i in prange(Ws.shape[0]):
        ok = True
        for j in range(Ws.shape[1]):
            for t in range(Ws.shape[2]):
                if not math.isfinite(Ws[i, j, t]):
                    ok = False
        if ok:
            G = np.empty(Ws.shape[1:])
            out[i] = loss_grad_kernel(Ws[i], V, G, te)
        else:
            out[i] = np.nan
