"""Newton polishing of critical points of J with the analytic Hessian."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landscape import dead_rows, grad, hessian


@dataclass
class PolishResult:
    """Outcome of :func:`newton_polish`. W: (K, d); grad_norm: Frobenius norm of ∇J at W."""

    W: np.ndarray
    grad_norm: float
    iterations: int
    success: bool
    message: str


def newton_polish(W, V, tol: float = 1e-12, max_iter: int = 50) -> PolishResult:
    """Drive ‖∇J‖_F below ``tol`` by Newton steps H δ = −∇J.

    Uses the minimum-norm least-squares step, so singular Hessians (critical
    manifolds, symmetric saddles) still converge in the normal directions, and
    backtracks until ‖∇J‖ decreases. Reports why it stopped: converged, a dead
    row (Hessian undefined), no decrease, or the iteration budget.
    """
    W = np.array(W, dtype=np.float64)
    g = grad(W, V)
    gn = float(np.linalg.norm(g))
    for it in range(max_iter + 1):
        if gn <= tol:
            return PolishResult(W, gn, it, True, f"converged: |grad| = {gn:.3e} <= {tol:.1e}")
        if it == max_iter:
            break
        dead = dead_rows(W)
        if dead:
            return PolishResult(W, gn, it, False, f"dead rows {dead}: Hessian undefined")
        H = hessian(W, V)
        W_new = _damped_step(W, V, H, g, gn)
        if W_new is None:
            return PolishResult(W, gn, it, False,
                                f"no decrease along damped Newton steps at |grad| = {gn:.3e}")
        g_new = grad(W_new, V)
        gn_new = float(np.linalg.norm(g_new))
        W, g, gn = W_new, g_new, gn_new
    return PolishResult(W, gn, max_iter, gn <= tol,
                        f"iteration budget {max_iter} spent at |grad| = {gn:.3e}")


def _damped_step(W, V, H, g, gn):
    """First point along Newton, then Levenberg-Marquardt-damped steps, that lowers ‖∇J‖.

    Near coincident rows J is only C², so the plain Newton step can overshoot;
    the damping (H² + μI) δ = −H g interpolates towards gradient descent on ‖∇J‖².
    """
    gv = g.ravel()

    def steps():  # lazily: the damped systems are solved only if plain Newton fails
        yield np.linalg.lstsq(H, -gv, rcond=None)[0]
        H2 = H @ H
        Hg = H @ gv
        scale = float(np.trace(H2)) / H.shape[0] or 1.0
        for mu in scale * 10.0 ** np.arange(-8, 5):
            yield np.linalg.solve(H2 + mu * np.eye(H.shape[0]), -Hg)

    for step in steps():
        t = 1.0
        for _ in range(8):
            W_new = W + t * step.reshape(W.shape)
            if np.linalg.norm(grad(W_new, V)) < gn:
                return W_new
            t *= 0.5
    return None
