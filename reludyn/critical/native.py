"""Native batched root finder for ∇J(W) = 0: Newton / Levenberg–Marquardt on the analytic Hessian.

Why this formulation.  A critical point of any Morse index is a root of the residual
r(W) = ∇J(W) (K·d,), whose Jacobian is the symmetric Hessian H.  Each iteration

1. tries the **Newton step** s = −H⁻¹r (LU with partial pivoting, LAPACK gesv),
   accepted when it is no longer than ``step_rel``·max(‖W‖_F, ‖V‖_F) and lowers the
   merit ½‖r‖² by at least the fraction 1e-4 of the Newton model's predicted decrease
   (all of it); near a nondegenerate root of any index this is plain Newton, so the
   convergence is quadratic and index-blind (no descent on J is involved).  After the
   first Newton step that fails, a solve takes Levenberg–Marquardt steps only: from
   random Xavier starts Newton steps were accepted in 3.5 % (K = 10, 200 starts) and 2 %
   (K = 20, 30 starts) of the iterations (counted once with an instrumented copy of the
   solver, not reproduced by a script), so the LU was mostly wasted, while
   on seeds in fixed-point subspaces Newton steps go on being accepted and reach minima
   (the type-A minimum at K = 20) that damped steps miss (``newton=False``: never);
2. otherwise takes a **Levenberg–Marquardt step** (H² + μI)v = −Hr (H² = HᵀH by BLAS
   syrk, as H is symmetric; Cholesky, LAPACK potrf/potrs), the trust-region step for the
   Gauss–Newton model ½‖r + Hs‖².  μ = λ‖r‖ (Fan & Yuan's choice μ ∝ ‖r‖, which keeps fast
   local convergence to *non-isolated* roots where H is singular: the out-of-plane
   families with nullity d − K − 1 and nearly coincident rows).  λ follows the gain ratio
   ρ = (actual merit decrease)/(model decrease) by Nielsen's rule (accept if ρ > 1e-4,
   λ ← λ·max(1/3, 1 − (2ρ − 1)³); else λ ← νλ, ν doubling), at most ``max_trials``
   trials per iteration.  Plain LM crawls along curved valleys of the merit; the step
   therefore adds Transtrum & Sethna's geodesic acceleration a (one extra gradient: the
   second directional derivative of r along v), s = v + a/2, when ‖a‖ <= 0.75‖v‖ (on
   random starts at K = 10 this halved the iterations: measured once on a loaded machine,
   not reproduced by a script).  Most random starts at K = 10 end at saddles of index
   30–50 whose smallest |eigenvalues| are ~1e-4, so the damping holds the middle phase
   to a linear rate (‖∇J‖ falls by ~25 % per iteration); a faster λ decrease, a smaller
   first λ or chord steps reusing H did not lower the iteration count (each tried once
   on 200 starts with an instrumented copy; not reproduced by a script).
3. A solve whose ‖∇J‖ has fallen by less than 10 % over the last ``stall_window`` = 8
   Hessians stops as ``stalled``: such plateaus are (near) local minima of ½‖r‖² with
   r ≠ 0 that the solver would otherwise leave only when no step lowers the merit, after
   20–30 more Hessians (stalled first passes at K = 10 took 55 Hessians, median, without
   the window; counted once, not reproduced by a script; ``bench_catalogue.py`` prints
   the Hessians per start with the window).
4. A start that stalls or runs out of budget gets up to ``descents`` **descent rounds**:
   gradient descent on J itself (Armijo backtracking, :func:`_descend`) from the start,
   descent_steps·2^k steps in round k (each round continues the previous descent path),
   then the solver of 1–3 again from where the descent stopped (2 Hessians on average at
   K = 10, counted once).  Stalls are local minima of ½‖r‖² with r ≠ 0 (H r = 0 on a near-null direction
   of H), where no local method on the merit can go on; they are not critical points of
   J, and descent on J moves toward a minimum past saddles, where Newton converges.
   Measured at K = M = d = 10, 200 Xavier starts: the first pass converges from 41 %
   and one round (1000 steps) from all the rest (``python benchmarks/bench_catalogue.py
   -K 10 -n 200 --scipy-starts 0`` prints the converged percentage and the descent
   rounds taken: [82, 118]); at K = 20, 1000 starts, rounds [381, 615, 4] and 99.8 %.  The former LM-only retries from
   the start with λ = 10, 100 reached 80 % (measured once on a loaded machine, not
   reproduced by a script); they remain as ``retries``, default 0.  Starts that the first
   pass ends are untouched (so saddles of high index stay reachable); a descent prefix
   for every start (``prefix_steps``) or a short first pass (``first_iter``) are cheaper
   but steer most starts to the few minima (1000 prefix steps: 8 distinct entries from
   200 starts instead of 92, measured once, not reproduced by a script), so both are off
   by default.

   Per-iteration costs (``python benchmarks/bench_native_parts.py``, one thread) at
   K = 10 / 20 (n = 100 / 400), on an idle machine: Hessian 21 µs / 176 µs (the
   block-by-block kernel before it, timed in the same run: 53 µs / 621 µs), LU 55 µs / 1.5 ms, H²
   51 µs / 2.9 ms as a product and 35 µs / 1.6 ms by syrk, Cholesky 28 µs / 0.76 ms and
   potrs 6 µs / 90 µs per trial; a symmetric eigendecomposition (Numba's eigh) 0.85 ms /
   16.5 ms, so an eigen-based trust region would be slower per iteration.

Each start runs the same code on its own workspace slot, with one-threaded BLAS/LAPACK
(:func:`native_solve` runs under :func:`reludyn.critical._blas.single_threaded_blas`),
and nothing is shared between starts: the batch is deterministic and equals the starts
run one by one, bit for bit (tested).  LAPACK is reached through Numba's own bindings
(those behind np.linalg.solve / cholesky) and :mod:`reludyn.critical._lapack` (syrk,
potrs), so that a singular or indefinite matrix is a return code, never an exception
inside the parallel loop.

Every start ends with a stop reason (``REASONS``), checked at each iterate in this order:

- ``diverged``: W (or its gradient or Hessian) is not finite, or ‖W‖_F > bound·‖V‖_F;
- ``dead_row``: a row has norm <= dead_tol·max_m ‖v_m‖ (J is not twice differentiable
  there; :func:`reludyn.critical.solve.solve_point` zeroes such rows and solves the live
  ones, by the convention that a zero row has zero gradient);
- ``converged``: ‖∇J‖_F <= tol;
- ``budget``: ``max_iter`` Hessians were evaluated;
- ``stalled``: neither step lowered the merit (a local minimum of ‖∇J‖² that is not a
  root, or a step below rounding level), or ‖∇J‖ fell by less than 1 − stall_drop over
  the last ``stall_window`` Hessians.

Memory: each start in flight holds three (K·d)² workspaces; :func:`native_solve` runs
the starts in chunks of at most ``memory_mb`` of workspace (K = 30: 19 MB per start).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange, types
from numba.np.linalg import _LAPACK, F_INT_nptype

from ..kernels import grad_kernel, hessian_kernel, loss_grad_kernel, teacher_energy_kernel
from ._blas import single_threaded_blas
from ._lapack import cholesky_solve, square_lower

# stop-reason codes (index into REASONS); RUNNING never leaves the kernel
CONVERGED, STALLED, BUDGET, DEAD_ROW, DIVERGED, RUNNING = 0, 1, 2, 3, 4, 5
REASONS = ("converged", "stalled", "budget", "dead_row", "diverged")


@dataclass(frozen=True)
class NativeSettings:
    """Settings of :func:`native_solve`.

    tol: converged when ‖∇J‖_F <= tol.  max_iter: Hessian evaluations per start.
    max_trials: Levenberg–Marquardt retries per iteration before ``stalled``.
    dead_tol: a row with norm <= dead_tol·max‖v_m‖ is dead.  bound: diverged when
    ‖W‖_F > bound·‖V‖_F.  step_rel: longest accepted Newton step, relative to
    max(‖W‖_F, ‖V‖_F).  memory_mb: workspace per chunk of starts.
    descents: descent rounds for a start that stalls or runs out of budget (round k:
    descent_steps·2^k Armijo gradient steps on J from step size descent_eta, then solve
    again).  retries: then LM-only solves from the start (λ = 10^k).  prefix_steps:
    descent steps before the first pass (0: none).  first_iter: Hessian budget of the
    first pass (0: max_iter).  max_iter bounds each solve, so a start may evaluate up to
    (1 + descents + retries)·max_iter Hessians.  newton: try the full Newton step (one
    LU) first, until the first one that fails (then Levenberg–Marquardt only).
    stall_window, stall_drop: a solve whose ‖∇J‖_F has not fallen below stall_drop
    times its value stall_window Hessians earlier stops as ``stalled`` (stall_window 0:
    only when no step lowers the merit).
    """

    tol: float = 1e-10
    max_iter: int = 200
    max_trials: int = 30
    dead_tol: float = 1e-7
    bound: float = 1e3
    step_rel: float = 1.0
    memory_mb: float = 256.0
    retries: int = 0
    descents: int = 2
    descent_steps: int = 1000
    descent_eta: float = 0.1
    prefix_steps: int = 0
    first_iter: int = 0
    newton: bool = True
    stall_window: int = 8
    stall_drop: float = 0.9

    def __post_init__(self):
        if not isinstance(self.newton, (bool, np.bool_)):
            raise ValueError(f"NativeSettings.newton must be True or False, got {self.newton!r}")
        if isinstance(self.stall_drop, bool) or not isinstance(self.stall_drop, (int, float)) \
                or not 0.0 < self.stall_drop <= 1.0:
            raise ValueError(f"NativeSettings.stall_drop must be in (0, 1], got {self.stall_drop!r}")
        for name in ("tol", "dead_tol", "bound", "step_rel", "memory_mb", "descent_eta"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise ValueError(f"NativeSettings.{name} must be a positive finite number, "
                                 f"got {v!r}")
        for name in ("max_iter", "max_trials", "retries", "descents", "descent_steps",
                     "prefix_steps", "first_iter", "stall_window"):
            v = getattr(self, name)
            lo = 0 if name in ("retries", "descents", "prefix_steps", "first_iter",
                               "stall_window") else 1
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"NativeSettings.{name} must be an integer >= {lo}, got {v!r}")


@dataclass
class NativeResult:
    """Outcome of :func:`native_solve` for B starts.

    W: (B, K, d) end points; grad_norm: (B,) ‖∇J‖_F there; iterations: (B,) Hessian
    evaluations; nfev: (B,) gradient evaluations; codes: (B,) stop-reason codes;
    reason: list of B names from REASONS; descents: (B,) descent rounds taken (0: the
    first pass ended the start), or None.
    """

    W: np.ndarray
    grad_norm: np.ndarray
    iterations: np.ndarray
    nfev: np.ndarray
    codes: np.ndarray
    reason: list
    descents: np.ndarray | None = None  # (B,) descent rounds taken (0: the first pass ended it)

    @property
    def converged(self) -> np.ndarray:
        """(B,) bool: the start reached tol."""
        return self.codes == CONVERGED

    def counts(self) -> dict[str, int]:
        """{reason: number of starts} over all REASONS (zeros included)."""
        return {name: int(np.sum(self.codes == c)) for c, name in enumerate(REASONS)}


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
@njit(cache=True)
def _norm(x):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * x[i]
    return math.sqrt(acc)


@njit(cache=True)
def _state(W, dead_abs, bound_abs):
    """RUNNING, DIVERGED (non-finite or ‖W‖_F > bound_abs) or DEAD_ROW."""
    K, d = W.shape
    tot = 0.0
    amin = np.inf
    for j in range(K):
        acc = 0.0
        for t in range(d):
            acc += W[j, t] * W[j, t]
        tot += acc
        amin = min(amin, math.sqrt(acc))
    if not math.isfinite(tot) or math.sqrt(tot) > bound_abs:
        return DIVERGED
    if amin <= dead_abs:
        return DEAD_ROW
    return RUNNING


# LAPACK through Numba's own bindings (the routines behind np.linalg.solve/cholesky),
# called directly so that a singular or indefinite matrix is a return code, not an
# exception inside the parallel loop.  H and H² + μI are symmetric, so the row-major
# arrays are their own column-major (Fortran) views.
_xgesv = _LAPACK().numba_xgesv(types.float64)
_xpotrf = _LAPACK().numba_xxpotrf(types.float64)
_KIND = ord("d")
_UPPER = ord("U")  # Fortran upper triangle = the C array's lower triangle


@njit(cache=True)
def _lu_solve(H, A, piv, b, x):
    """x = H⁻¹b by LU with partial pivoting (LAPACK gesv) in the workspace A; False if singular."""
    n = H.shape[0]
    for i in range(n):
        for j in range(n):
            A[i, j] = H[i, j]
        x[i] = b[i]
    info = _xgesv(_KIND, n, 1, A.ctypes, n, piv.ctypes, x.ctypes, n)
    return info == 0


@njit(cache=True)
def _cholesky(A2, mu, L):
    """Lower Cholesky factor (in L's lower triangle) of A2 + μI (A2 symmetric, lower half
    read; LAPACK potrf); False if not numerically positive definite."""
    n = A2.shape[0]
    for i in range(n):
        for j in range(i + 1):
            L[i, j] = A2[i, j]
        L[i, i] += mu
    info = _xpotrf(_KIND, _UPPER, n, L.ctypes, n)
    if info != 0:
        return False
    for i in range(n):
        if not math.isfinite(L[i, i]):
            return False
    return True


@njit(cache=True)
def _matvec(H, x, out):
    np.dot(H, x, out)  # BLAS gemv (a scalar loop's serial sum does not vectorize)


@njit(cache=True)
def _trial(W, s, V, Wt, Gt, dead_abs, bound_abs, h):
    """Wt = W + h·s and its gradient Gt; returns (‖Gt‖, state of Wt) (‖Gt‖ = inf if unusable)."""
    K, d = W.shape
    for j in range(K):
        for t in range(d):
            Wt[j, t] = W[j, t] + h * s[j * d + t]
    st = _state(Wt, dead_abs, bound_abs)
    if st == DIVERGED:
        return np.inf, st
    grad_kernel(Wt, V, Gt)
    gn = _norm(Gt.reshape(-1))
    if not math.isfinite(gn):
        return np.inf, DIVERGED
    return gn, st


@njit(cache=True)
def solve_one(W, V, tol, max_iter, max_trials, dead_abs, bound_abs, step_rel, vnorm,
              H, A, L, newton, lam0, stall_window, stall_drop):
    """Solve ∇J = 0 from W (K, d) in place (see the module docstring).

    H, A, L: (n, n) workspaces, n = K·d.  ``newton``: try the full Newton step first;
    stall_window, stall_drop: see :class:`NativeSettings`.  Returns (reason code, ‖∇J‖_F, Hessian
    evaluations, gradient evaluations).
    """
    K, d = W.shape
    n = K * d
    G = np.empty((K, d))
    Gt = np.empty((K, d))
    Wt = np.empty((K, d))
    s = np.empty(n)
    b = np.empty(n)
    v = np.empty(n)
    Hv = np.empty(n)
    rvv = np.empty(n)
    c = np.empty(n)
    accel = np.empty(n)
    piv = np.empty(n, dtype=F_INT_nptype)
    hist = np.empty(max(stall_window, 1))  # ‖∇J‖ at the last stall_window Hessians
    it = 0
    nfev = 0
    lam = lam0
    st = _state(W, dead_abs, bound_abs)
    if st == DIVERGED:
        return DIVERGED, np.nan, 0, 0
    grad_kernel(W, V, G)
    nfev += 1
    r = G.reshape(-1)
    gn = _norm(r)
    if not math.isfinite(gn):
        return DIVERGED, gn, 0, nfev
    while True:
        if st != RUNNING:
            return st, gn, it, nfev
        if gn <= tol:
            return CONVERGED, gn, it, nfev
        if it >= max_iter:
            return BUDGET, gn, it, nfev
        if stall_window > 0:
            if it >= stall_window and gn > stall_drop * hist[it % stall_window]:
                return STALLED, gn, it, nfev
            hist[it % stall_window] = gn
        hessian_kernel(W, V, H)
        it += 1
        finite = True  # (the kernel's H is exactly symmetric: syrk and potrf read one half)
        for i in range(n):
            if not math.isfinite(H[i, i]):
                finite = False
        if not finite:
            return DIVERGED, gn, it, nfev
        f = gn * gn
        wn = 0.0
        for j in range(K):
            for t in range(d):
                wn += W[j, t] * W[j, t]
        cap = step_rel * max(math.sqrt(wn), vnorm)
        accepted = False
        gnt = np.inf
        st_t = RUNNING
        # 1. Newton
        for i in range(n):
            b[i] = -r[i]
        if newton and _lu_solve(H, A, piv, b, s):
            sn = _norm(s)
            if math.isfinite(sn) and sn <= cap:
                gnt, st_t = _trial(W, s, V, Wt, Gt, dead_abs, bound_abs, 1.0)
                nfev += 1
                if gnt * gnt <= (1.0 - 1e-4) * f:
                    accepted = True
        # after the first Newton step that fails, Levenberg–Marquardt alone (see above)
        newton = newton and accepted
        # 2. Levenberg–Marquardt on the Gauss–Newton model ½‖r + Hs‖²
        if not accepted:
            square_lower(H, A)  # lower triangle of H² = HᵀH (H symmetric); b = −H r
            _matvec(H, r, b)
            for i in range(n):
                b[i] = -b[i]
            nu = 2.0
            for _ in range(max_trials):
                if not _cholesky(A, lam * gn, L):
                    lam *= 4.0
                    continue
                cholesky_solve(L, b, v)  # velocity: the plain LM step
                _matvec(H, v, Hv)
                pred = 0.0
                for i in range(n):  # ½‖r‖² − ½‖r + Hv‖²
                    pred -= r[i] * Hv[i] + 0.5 * Hv[i] * Hv[i]
                vn = _norm(v)
                if not (pred > 0.0) or not math.isfinite(vn) or vn > cap:
                    lam *= 4.0
                    continue
                # geodesic acceleration (Transtrum & Sethna 2012): the second directional
                # derivative of r along v by one extra gradient, a = −(H² + μI)⁻¹ H r_vv,
                # bends the step along curved valleys of ½‖r‖² where plain LM crawls
                gh, st_h = _trial(W, v, V, Wt, Gt, dead_abs, bound_abs, 0.1)
                nfev += 1
                acc_ok = st_h == RUNNING and math.isfinite(gh)
                if acc_ok:
                    for i in range(n):
                        rvv[i] = 20.0 * ((Gt.reshape(-1)[i] - r[i]) * 10.0 - Hv[i])
                    _matvec(H, rvv, c)
                    for i in range(n):
                        c[i] = -c[i]
                    cholesky_solve(L, c, accel)
                    an = _norm(accel)
                    acc_ok = math.isfinite(an) and an <= 0.75 * vn
                if acc_ok:  # (Transtrum's acceptance: ‖a‖ <= 0.75‖v‖, else the plain step)
                    for i in range(n):
                        s[i] = v[i] + 0.5 * accel[i]
                else:
                    for i in range(n):
                        s[i] = v[i]
                gnt, st_t = _trial(W, s, V, Wt, Gt, dead_abs, bound_abs, 1.0)
                nfev += 1
                rho = 0.5 * (f - gnt * gnt) / pred
                if rho > 1e-4:
                    accepted = True
                    q = 2.0 * rho - 1.0
                    lam = max(lam * max(1.0 / 3.0, 1.0 - q * q * q), 1e-12)
                    break
                lam *= nu
                nu = min(2.0 * nu, 64.0)
        if not accepted:
            return STALLED, gn, it, nfev
        moved = False
        for j in range(K):
            for t in range(d):
                if Wt[j, t] != W[j, t]:
                    moved = True
                W[j, t] = Wt[j, t]
                G[j, t] = Gt[j, t]
        gn = gnt
        st = st_t
        if not moved and gn > tol:
            return STALLED, gn, it, nfev


@njit(cache=True)
def _descend(W, V, steps, eta0, energy, dead_abs, bound_abs):
    """``steps`` gradient-descent steps on J from W (in place), Armijo backtracking.

    The step starts at eta0, halves until J drops by 1e-4·η‖∇J‖² and the iterate stays
    alive (no dead row, finite, inside the bound), then grows by 1.25 up to 4·eta0.
    Stops early when ∇J = 0 or η underflows.  Returns the number of gradients evaluated.
    J decreases monotonically, so the path runs to a minimum (or near the saddles on
    its way), away from the stall points of ½‖∇J‖², which are not critical points of J.
    """
    K, d = W.shape
    G = np.empty((K, d))
    Gt = np.empty((K, d))
    Wt = np.empty((K, d))
    J = loss_grad_kernel(W, V, G, energy)
    nf = 1
    eta = eta0
    for _ in range(steps):
        g2 = 0.0
        for j in range(K):
            for t in range(d):
                g2 += G[j, t] * G[j, t]
        if not (math.isfinite(J) and math.isfinite(g2)) or g2 == 0.0:
            return nf
        while True:
            if eta < 1e-12 * eta0:
                return nf
            for j in range(K):
                for t in range(d):
                    Wt[j, t] = W[j, t] - eta * G[j, t]
            if _state(Wt, dead_abs, bound_abs) == RUNNING:
                Jt = loss_grad_kernel(Wt, V, Gt, energy)
                nf += 1
                if Jt <= J - 1e-4 * eta * g2:
                    break
            eta *= 0.5
        for j in range(K):
            for t in range(d):
                W[j, t] = Wt[j, t]
                G[j, t] = Gt[j, t]
        J = Jt
        eta = min(1.25 * eta, 4.0 * eta0)
    return nf


@njit(cache=True, parallel=True)
def _solve_batch(Ws, V, tol, max_iter, max_trials, dead_abs, bound_abs, step_rel, vnorm,
                 retries, descents, descent_steps, descent_eta, prefix_steps, first_iter,
                 newton, stall_window, stall_drop, energy, Hw, Aw, Lw, codes, gnorms, iters,
                 nfevs, rounds):
    """solve_one on Ws[i] (in place) for every i, in parallel; slot i of the workspaces.

    A start that stalls or runs out of budget gets up to ``descents`` descent rounds:
    round k continues gradient descent on J from where round k − 1 left it (the first
    from the start), for descent_steps·2^k steps, then solves again from there.  Stall
    points of ½‖∇J‖² are not critical points of J, so descent leaves them; it heads for a
    minimum and passes near saddles, where Newton then converges (at K = 10 this took
    Xavier starts from 43 % converged after the first pass to 100 % after two rounds).
    Then, if still not converged, ``retries`` Levenberg–Marquardt-only solves from the
    original point with stronger initial damping (λ = 10^k).
    """
    for i in prange(Ws.shape[0]):
        K, d = Ws.shape[1], Ws.shape[2]
        W0 = Ws[i].copy()
        Wd = W0.copy()
        nf0 = 0
        if prefix_steps > 0:  # optional descent before the first pass
            nf0 = _descend(Wd, V, prefix_steps, descent_eta, energy, dead_abs, bound_abs)
            for j in range(K):
                for t in range(d):
                    Ws[i, j, t] = Wd[j, t]
        c, g, it, nf = solve_one(Ws[i], V, tol, first_iter, max_trials, dead_abs, bound_abs,
                                 step_rel, vnorm, Hw[i], Aw[i], Lw[i], newton, 1.0,
                                 stall_window, stall_drop)
        nf += nf0
        used = 0
        for k in range(descents):
            if c != STALLED and c != BUDGET:
                break
            nf += _descend(Wd, V, descent_steps * 2 ** k, descent_eta, energy, dead_abs,
                           bound_abs)
            for j in range(K):
                for t in range(d):
                    Ws[i, j, t] = Wd[j, t]
            c, g, it2, nf2 = solve_one(Ws[i], V, tol, max_iter, max_trials, dead_abs,
                                       bound_abs, step_rel, vnorm, Hw[i], Aw[i], Lw[i],
                                       newton, 1.0, stall_window, stall_drop)
            it += it2
            nf += nf2
            used = k + 1
        for k in range(retries):
            if c != STALLED and c != BUDGET:
                break
            for j in range(K):
                for t in range(d):
                    Ws[i, j, t] = W0[j, t]
            c, g, it2, nf2 = solve_one(Ws[i], V, tol, max_iter, max_trials, dead_abs,
                                       bound_abs, step_rel, vnorm, Hw[i], Aw[i], Lw[i],
                                       False, 10.0 ** (k + 1), stall_window, stall_drop)
            it += it2
            nf += nf2
        codes[i] = c
        gnorms[i] = g
        iters[i] = it
        nfevs[i] = nf
        rounds[i] = used


# ---------------------------------------------------------------------------
# public wrapper
# ---------------------------------------------------------------------------
def chunk_size(K: int, d: int, settings: NativeSettings) -> int:
    """Starts per chunk so that the three (K·d)² workspaces fit in settings.memory_mb."""
    per = 3 * (K * d) ** 2 * 8
    return max(1, int(settings.memory_mb * 2**20 // per))


def native_solve(W0s, V, settings: NativeSettings | None = None) -> NativeResult:
    """Solve ∇J(W) = 0 from each start W0s[i] (B, K, d) for the teacher V (M, d).

    Returns a :class:`NativeResult`; a non-finite start gets ``diverged`` and a start
    with a zero row ``dead_row``, never an exception.  The starts run in parallel (Numba
    threads), in chunks bounded by ``settings.memory_mb``; each result depends only on
    its own start.
    """
    settings = NativeSettings() if settings is None else settings
    if not isinstance(settings, NativeSettings):
        raise TypeError(f"settings must be a NativeSettings, got {type(settings).__name__}")
    V = np.asarray(V, dtype=np.float64)
    if V.ndim != 2 or V.shape[0] < 1 or V.shape[1] < 1:
        raise ValueError(f"V must have shape (M, d) with M, d >= 1, got {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError("V has non-finite entries")
    vrow = np.linalg.norm(V, axis=1)
    if np.any(vrow == 0):
        raise ValueError("V has a zero row")
    W0s = np.asarray(W0s, dtype=np.float64)
    if W0s.ndim == 2:
        W0s = W0s[None]
    if W0s.ndim != 3 or W0s.shape[2] != V.shape[1] or W0s.shape[1] < 1:
        raise ValueError(f"W0s must have shape (B, K, {V.shape[1]}), got {W0s.shape}")
    B, K, d = W0s.shape
    V = np.ascontiguousarray(V)
    W = np.array(W0s, dtype=np.float64, order="C")
    codes = np.empty(B, dtype=np.int64)
    gn = np.empty(B)
    iters = np.empty(B, dtype=np.int64)
    nfev = np.empty(B, dtype=np.int64)
    rounds = np.zeros(B, dtype=np.int64)
    n = K * d
    step = min(B, chunk_size(K, d, settings)) if B else 0
    s = settings
    dead_abs = s.dead_tol * float(np.max(vrow))
    vnorm = float(np.linalg.norm(V))
    energy = float(teacher_energy_kernel(V))
    if step:
        Hw = np.empty((step, n, n))
        Aw = np.empty((step, n, n))
        Lw = np.empty((step, n, n))
        with single_threaded_blas():
            for a in range(0, B, step):
                e = min(B, a + step)
                _solve_batch(W[a:e], V, float(s.tol), int(s.max_iter), int(s.max_trials),
                             dead_abs, float(s.bound) * vnorm, float(s.step_rel), vnorm,
                             int(s.retries), int(s.descents), int(s.descent_steps),
                             float(s.descent_eta), int(s.prefix_steps),
                             int(s.first_iter or s.max_iter), bool(s.newton),
                             int(s.stall_window), float(s.stall_drop), energy, Hw, Aw, Lw,
                             codes[a:e], gn[a:e], iters[a:e], nfev[a:e], rounds[a:e])
    return NativeResult(W, gn, iters, nfev, codes, [REASONS[c] for c in codes], rounds)
