"""Gradient flow dW/dt = −∇J(W) with ``scipy.integrate.solve_ivp``.

Explicit methods (RK45, RK23, DOP853) use the gradient only; implicit ones
(Radau, BDF, LSODA) also get the analytic Jacobian −H (H the Hessian of J with
W flattened row-major). A terminal event stops the flow when ‖∇J‖_F reaches
``tol``; an optional Newton polish (:func:`reludyn.newton_polish`) then drives
‖∇J‖_F to ``polish_tol`` or reports why it could not.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..landscape import unchecked
from ..newton import newton_polish
from ..problem import Problem
from ..validation import positive_float, student_weights
from .results import FlowResult

EXPLICIT = ("RK45", "RK23", "DOP853")
IMPLICIT = ("Radau", "BDF", "LSODA")
METHODS = EXPLICIT + IMPLICIT


def _grad_fn(V, K, d):
    G = np.empty((K, d))

    def f(t, y):
        unchecked.grad(np.ascontiguousarray(y.reshape(K, d)), V, out=G)
        return -G.ravel()

    return f


def _jac_fn(V, K, d):
    H = np.empty((K * d, K * d))

    def jac(t, y):
        W = np.ascontiguousarray(y.reshape(K, d))
        if np.any(np.linalg.norm(W, axis=1) == 0.0):
            # J is not twice differentiable at a zero row: its block is set to 0
            # (the Jacobian only steers the implicit solver's Newton iterations).
            alive = np.linalg.norm(W, axis=1) > 0.0
            Wa = W.copy()
            Wa[~alive] = 1e-300  # placeholder, its rows are zeroed below
            unchecked.hessian(Wa, V, out=H)
            for j in np.flatnonzero(~alive):
                H[j * d:(j + 1) * d, :] = 0.0
                H[:, j * d:(j + 1) * d] = 0.0
        else:
            unchecked.hessian(W, V, out=H)
        out = -H
        out[~np.isfinite(out)] = 0.0
        return out

    return jac


def gradient_flow(problem: Problem, W0, *, method: str = "RK45", t_max: float = 1e4,
                  tol: float = 1e-10, rtol: float = 1e-10, atol: float = 1e-12,
                  polish: bool = False, polish_tol: float = 1e-12,
                  max_points: int | None = None) -> FlowResult:
    """Integrate dW/dt = −∇J(W) from W0 (K, d) until ‖∇J‖_F < tol or t = t_max.

    ``method`` is one of RK45, RK23, DOP853 (explicit) or Radau, BDF, LSODA
    (implicit, given jac = −Hessian of shape (K·d, K·d)). ``rtol``/``atol`` go
    to the integrator. The trajectory ``ts`` (T,), ``Ws`` (T, K, d) holds the
    integrator's accepted steps (thinned to ``max_points`` evenly spaced
    indices, first and last kept, when given). With ``polish=True`` the end
    point is refined by :func:`reludyn.newton_polish` (``polish_tol``); the
    result's W is the polished point and ``extra["W_flow"]`` the flow's.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    Ws, batch = student_weights(W0, problem.d, "W0", K=problem.K)
    if batch:
        raise ValueError(f"gradient_flow takes one W0 of shape (K, d), got shape {Ws.shape}; "
                         "loop over a batch")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    t_max = positive_float(t_max, "t_max")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    rtol = positive_float(rtol, "rtol")
    atol = positive_float(atol, "atol")
    polish_tol = positive_float(polish_tol, "polish_tol")
    if max_points is not None and (isinstance(max_points, bool)
                                   or not isinstance(max_points, numbers.Integral)
                                   or max_points < 2):
        raise ValueError(f"max_points must be an integer >= 2 or None, got {max_points!r}")

    from scipy.integrate import solve_ivp  # imported here: keeps `import reludyn` light

    K, d = problem.K, problem.d
    V = unchecked.teacher(problem.V)
    W0 = Ws[0]
    f = _grad_fn(V, K, d)
    g0 = float(np.linalg.norm(f(0.0, W0.ravel())))

    if g0 < tol:
        ts, Ys, t_end, reason, msg, nfev, njev = np.zeros(1), W0.ravel()[:, None], 0.0, \
            "converged", "initial point already has |grad| < tol", 1, 0
    else:
        def event(t, y):
            return float(np.linalg.norm(f(t, y))) - tol
        event.terminal = True
        event.direction = -1.0
        kw = {"jac": _jac_fn(V, K, d)} if method in IMPLICIT else {}
        sol = solve_ivp(f, (0.0, t_max), W0.ravel().copy(), method=method, rtol=rtol,
                        atol=atol, events=event, **kw)
        ts, Ys, nfev, njev, msg = sol.t, sol.y, int(sol.nfev), int(sol.njev), str(sol.message)
        t_end = float(ts[-1])
        if sol.status == 1:
            reason = "converged"
            ts = np.append(ts, sol.t_events[0][0])
            Ys = np.concatenate([Ys, sol.y_events[0][0][:, None]], axis=1)
            t_end = float(ts[-1])
        elif sol.status == 0:
            reason = "t_max"
        else:
            reason = "failed"

    if max_points is not None and ts.size > max_points:
        idx = np.unique(np.round(np.linspace(0, ts.size - 1, max_points)).astype(int))
        ts, Ys = ts[idx], Ys[:, idx]
    Wtraj = np.ascontiguousarray(Ys.T.reshape(-1, K, d))
    W_end = Wtraj[-1].copy()
    extra = {"W_flow": W_end.copy()}
    pol = None
    if polish:
        pol = newton_polish(W_end, V, tol=polish_tol)
        W_end = np.asarray(pol.W, dtype=np.float64)
    loss, G = unchecked.loss_and_grad(W_end, V)
    return FlowResult(W=W_end, loss=loss, grad_norm=float(np.linalg.norm(G)), t=t_end,
                      reason=reason, ts=ts, Ws=Wtraj, polish=pol, message=msg,
                      nfev=nfev, njev=njev, extra=extra)
