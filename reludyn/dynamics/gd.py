"""Population gradient descent W ← W − η∇J(W) (float64) on one or many initializations.

All B runs of an ensemble go through one jitted ``prange`` loop
(:func:`reludyn.dynamics._gdkernel.gd_ensemble_kernel`); each stops on its own
rule, and a run's result does not depend on the other runs, so an ensemble
equals running each initialization alone, bit for bit.
"""
from __future__ import annotations

import numbers

import numba
import numpy as np

from ..landscape import unchecked
from ..problem import Problem
from ..validation import positive_float, positive_int, student_weights
from . import _gdkernel as gk
from . import early as _early
from .results import GDResult

NORMS = ("max_row", "fro")
DEVICES = ("cpu", "cuda")
_CHUNK = 4  # runs per parallel work item


def log_schedule(max_steps: int, n: int) -> np.ndarray:
    """Distinct integer steps 0 = s_0 < s_1 < ... <= max_steps, about log-spaced, at most n of them."""
    max_steps = int(max_steps)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1 or max_steps == 0:
        return np.zeros(1, dtype=np.int64)
    pts = np.unique(np.round(np.logspace(0.0, np.log10(max_steps), n - 1)).astype(np.int64))
    return np.concatenate([[0], pts]).astype(np.int64)


def _check_problem(problem) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    return problem


def gradient_descent(problem: Problem, W0, eta: float, *, tol: float = 1e-10,
                     norm: str = "max_row", max_steps: int = 100_000,
                     diverge_bound: float = 1e8, dead_tol: float = 0.0,
                     record: bool = False, n_record: int = 200,
                     device: str = "cpu", early_assign=None) -> GDResult:
    """Run gradient descent with step ``eta`` from W0 (K, d) or a batch (B, K, d).

    Stops each run at the first iterate W_t where (checked in this order)
    W is not finite or ‖W‖_F > ``diverge_bound`` ("diverged"); a row norm is
    <= ``dead_tol`` ("dead_row": J is not differentiable there and the row
    gets no gradient); ∇J is not finite ("diverged"); the gradient norm is
    < ``tol`` ("converged"; ``norm`` = "max_row" uses the largest row norm,
    "fro" the Frobenius norm); or t = ``max_steps`` ("budget"). ``steps`` counts
    the updates taken. With ``record=True`` each run stores (t, W_t, ‖∇J‖, J)
    at about ``n_record`` log-spaced steps (n_record − 1 of them scheduled, plus
    the final iterate), so memory is O(B·n_record·K·d) whatever the step count.

    ``device="cuda"`` runs the ensemble on a CUDA device, one thread block per
    run (:mod:`reludyn.dynamics.cuda_gd`; needs the ``cuda`` extra, numba-cuda,
    and a driver, or Numba's simulator with NUMBA_ENABLE_CUDASIM=1), with the
    same stop rules, reasons, bookkeeping and recording; W agrees with the CPU
    run to rounding. Without CUDA it raises RuntimeError.

    ``early_assign`` (None/False: off; True: the certified assigner registered by
    :mod:`reludyn.critical.early`; or an assigner object, see :mod:`.early`): runs are
    first stopped at the assigner's looser gradient thresholds; a run whose iterate is
    proven to converge to a certified minimum stops there with reason "assigned", W,
    loss and grad_norm of that minimum, ``steps`` the step at assignment and
    ``radius`` the certified radius; every other run continues from the same iterate
    with the remaining budget, so it ends exactly (bit for bit) as the full run does.
    Not combined with ``record``.

    Returns a :class:`GDResult` with batch axis B (B = 1 for a single W0).
    """
    problem = _check_problem(problem)
    Ws, _ = student_weights(W0, problem.d, "W0", K=problem.K)
    eta = positive_float(eta, "eta")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a number, got {type(tol).__name__}")
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be >= 0 and finite, got {tol}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    max_steps = positive_int(max_steps, "max_steps", minimum=0)
    if max_steps > 2**62:
        raise ValueError(f"max_steps must be <= 2**62, got {max_steps}")
    diverge_bound = positive_float(diverge_bound, "diverge_bound")
    dead_tol = positive_float(dead_tol, "dead_tol", allow_zero=True)
    if not isinstance(record, (bool, np.bool_)):
        raise TypeError(f"record must be True or False, got {type(record).__name__}")
    n_record = positive_int(n_record, "n_record", minimum=2) if record else 0
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")

    assigner = _early.resolve_assigner(early_assign, problem, eta)
    if assigner is not None and record:
        raise ValueError("early_assign cannot be combined with record=True")

    B, K, d = Ws.shape
    V = unchecked.teacher(problem.V)
    if assigner is not None:
        return _early_run(Ws.copy(), V, eta, tol, norm, max_steps, diverge_bound, dead_tol,
                          device, assigner)
    W = Ws.copy()
    sched = log_schedule(max_steps, n_record - 1) if record else np.zeros(0, np.int64)
    T = n_record
    rec_steps = np.full((B, T), -1, dtype=np.int64)
    rec_W = np.full((B, T, K, d), np.nan)
    rec_gn = np.full((B, T), np.nan)
    steps = np.zeros(B, dtype=np.int64)
    codes = np.zeros(B, dtype=np.int64)
    gnorms = np.zeros(B)
    # small chunks, taken dynamically: run lengths vary 10x, and a thread that is
    # preempted (shared machine) should not hold back half of the batch
    _kernel(device, W, V, eta, tol, norm == "fro", max_steps, diverge_bound, dead_tol,
            sched, rec_steps, rec_W, rec_gn, steps, codes, gnorms)
    loss = np.empty(B)
    gk.finite_loss_batch(W, V, loss)
    reason = np.array(gk.REASONS, dtype="U16")[codes]
    res = GDResult(W=W, loss=loss, grad_norm=gnorms, steps=steps, reason=reason,
                   norm=norm, eta=eta, tol=tol)
    if record:
        flat = rec_W.reshape(B * T, K, d)
        tl = np.empty(B * T)
        gk.finite_loss_batch(flat, V, tl)
        res.traj_steps = rec_steps
        res.traj_W = rec_W
        res.traj_grad_norm = rec_gn
        res.traj_loss = tl.reshape(B, T)
    return res


def _kernel(device, W, V, eta, tol, use_fro, max_steps, bound, dead_tol,
            sched, rec_steps, rec_W, rec_gn, steps, codes, gnorms) -> None:
    """The ensemble kernel of ``device`` on W (B, K, d), in place."""
    if device == "cuda":
        from . import cuda_gd  # imports numba.cuda: only on this path
        cuda_gd.gd_ensemble_cuda(W, V, eta, tol, use_fro, max_steps, bound,
                                 dead_tol, sched, rec_steps, rec_W, rec_gn, steps, codes, gnorms)
    else:
        with numba.parallel_chunksize(_CHUNK):
            gk.gd_ensemble_kernel(W, V, eta, tol, use_fro, max_steps, bound,
                                  dead_tol, sched, rec_steps, rec_W, rec_gn, steps, codes, gnorms)


def _continue(device, W, V, eta, tol, use_fro, budget, bound, dead_tol):
    """Run the kernel on W (n, K, d) in place, run i with its own step budget budget[i].

    The kernel takes one budget: it runs all with the largest one and redoes, alone and
    from a copy of its start, each run that went past its own budget (rare: budget hits).
    Returns (steps, codes, gnorms) of this leg.
    """
    n, K, d = W.shape
    steps = np.zeros(n, dtype=np.int64)
    codes = np.zeros(n, dtype=np.int64)
    gn = np.zeros(n)
    if n == 0:
        return steps, codes, gn
    W0 = W.copy()
    e_st, e_W, e_g = np.zeros((n, 0), np.int64), np.zeros((n, 0, K, d)), np.zeros((n, 0))
    _kernel(device, W, V, eta, tol, use_fro, int(budget.max()), bound, dead_tol,
            np.zeros(0, np.int64), e_st, e_W, e_g, steps, codes, gn)
    for i in np.flatnonzero(steps > budget):
        Wi = W0[i:i + 1].copy()
        s1, c1, g1 = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1)
        _kernel(device, Wi, V, eta, tol, use_fro, int(budget[i]), bound, dead_tol,
                np.zeros(0, np.int64), e_st[:1], e_W[:1], e_g[:1], s1, c1, g1)
        W[i], steps[i], codes[i], gn[i] = Wi[0], s1[0], c1[0], g1[0]
    return steps, codes, gn


def _early_run(W, V, eta, tol, norm, max_steps, bound, dead_tol, device, assigner) -> GDResult:
    """Gradient descent with early assignment (see :func:`gradient_descent`).

    Legs: for each threshold τ of ``assigner.tols`` above ``tol``, the active runs go
    on until ‖∇J‖ < τ (or another stop rule); those stopped by τ are offered to the
    assigner; the assigned ones leave, the others stay active. A last leg runs the
    rest to ``tol``. Each leg starts from the iterate where the previous one stopped
    and the kernel's state is that iterate alone, so an unassigned run takes exactly
    the steps and reaches exactly the iterate of the full run.
    """
    B, K, d = W.shape
    use_fro = norm == "fro"
    steps = np.zeros(B, dtype=np.int64)
    codes = np.zeros(B, dtype=np.int64)
    gnorms = np.zeros(B)
    radius = np.full(B, np.nan)
    loss = np.full(B, np.nan)
    assigned = np.zeros(B, dtype=bool)
    active = np.arange(B)
    legs = [float(t) for t in assigner.tols if float(t) > tol] + [tol]
    for k, leg_tol in enumerate(legs):
        if active.size == 0:
            break
        Wa = np.ascontiguousarray(W[active])
        s, c, g = _continue(device, Wa, V, eta, leg_tol, use_fro, max_steps - steps[active],
                            bound, dead_tol)
        W[active] = Wa
        steps[active] += s
        codes[active] = c
        gnorms[active] = g
        if k == len(legs) - 1:
            break
        stopped = active[c == gk.CONVERGED]  # the others (diverged, dead_row, budget) are final
        if stopped.size:
            a = assigner.assign(np.ascontiguousarray(W[stopped]), norm, tol)
            # keep an assignment only where the full run provably ends "converged" there:
            # within its budget, no row reaching dead_tol, ‖W‖_F within the bound
            mask = (np.asarray(a.mask, dtype=bool)
                    & (steps[stopped] + a.steps_bound <= max_steps)
                    & (a.row_min > dead_tol) & (a.fro_max <= bound))
            hit = stopped[mask]
            W[hit] = a.W[mask]
            loss[hit] = a.loss[mask]
            gnorms[hit] = a.grad_norm[mask]
            radius[hit] = a.radius[mask]
            assigned[hit] = True
            # not assigned: still active (an unassigned stop is not a convergence)
            active = stopped[~mask]
        else:
            active = stopped
    rest = ~assigned
    if rest.any():
        lr = np.empty(int(rest.sum()))
        gk.finite_loss_batch(np.ascontiguousarray(W[rest]), V, lr)
        loss[rest] = lr
    reason = np.array(gk.REASONS, dtype="U16")[codes]
    reason[assigned] = "assigned"
    return GDResult(W=W, loss=loss, grad_norm=gnorms, steps=steps, reason=reason,
                    norm=norm, eta=eta, tol=tol, radius=radius)
