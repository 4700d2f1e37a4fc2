"""Index-targeted search: eigenvector following to critical points of a chosen Morse index.

Random starts rarely reach saddles of low index, which basin graphs need (an index-1
saddle joins two minima).  :func:`target_index_search` steers to index ``k`` by
eigenvector following (the partitioned rational-function idea of Baker / Cerjan–Miller,
in the simple "sign-flipped Newton" form): with H = Σ λ_i u_i u_iᵀ and g = ∇J,

    s = −Σ_i (u_iᵀg / σ_i |λ_i|) u_i,   σ_i = −1 on the k "uphill" modes, +1 otherwise,

capped at a trust radius.  It climbs J along the uphill modes and descends along the
rest; near a critical point of index k whose uphill modes are its negative ones it *is*
the Newton step, so the convergence is quadratic, and the ‖∇J‖ that drives it cannot
settle anywhere else than at such a point.  The uphill modes are the k lowest non-null
eigenvalues, or, when a mode to follow is given (k = 1), the eigenvector with the
largest overlap with the previous uphill one (mode following: from a minimum along
one of its soft modes, as in pele's hybrid eigenvector following, but with the full
analytic Hessian, which costs little at these sizes).  Once ‖∇J‖ <= ``switch_tol``
the native solver (:mod:`reludyn.critical.native`) finishes to ``tol``, and the index
is read off the Hessian there.

:func:`follow_modes` starts, from a minimum, one index-1 search per soft mode and sign.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landscape import DeadRowError, grad, hessian
from .native import NativeSettings, native_solve


@dataclass(frozen=True)
class TargetSettings:
    """index: target Morse index; max_iter: eigenvector-following steps; max_step: trust
    radius relative to ‖V‖_F; switch_tol: hand over to the native solver below this
    ‖∇J‖_F; tol: final ‖∇J‖_F; null_rtol: |λ| <= null_rtol·max|λ| is a zero mode."""

    index: int = 1
    max_iter: int = 300
    max_step: float = 0.05
    switch_tol: float = 1e-6
    tol: float = 1e-10
    null_rtol: float = 1e-7

    def __post_init__(self):
        if isinstance(self.index, bool) or not isinstance(self.index, (int, np.integer)) or \
                self.index < 0:
            raise ValueError(f"TargetSettings.index must be an integer >= 0, got {self.index!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)) \
                or self.max_iter < 1:
            raise ValueError(f"TargetSettings.max_iter must be >= 1, got {self.max_iter!r}")
        for name in ("max_step", "switch_tol", "tol", "null_rtol"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
                raise ValueError(f"TargetSettings.{name} must be a positive number, got {v!r}")


@dataclass
class TargetResult:
    """W (K, d): end point; grad_norm: ‖∇J‖_F there; index/nullity: of its Hessian (−1 if
    not computed); success: converged to tol with the target index; iterations: steps."""

    W: np.ndarray
    grad_norm: float
    index: int
    nullity: int
    success: bool
    iterations: int
    message: str


def _index_nullity(W, V, null_rtol):
    from .classify import hessian_spectrum, index_nullity

    return index_nullity(hessian_spectrum(W, V, np.arange(W.shape[0])), null_rtol)


def target_index_search(W0, V, settings: TargetSettings | None = None,
                        follow: np.ndarray | None = None) -> TargetResult:
    """Search a critical point of Morse index ``settings.index`` from W0 (K, d), teacher V (M, d).

    ``follow``: a direction (K·d,) whose nearest Hessian eigenvector is the uphill mode
    (mode following, index 1 only).  Never raises on a dead row or a failed search: the
    result says why in ``message``.
    """
    st = TargetSettings() if settings is None else settings
    if not isinstance(st, TargetSettings):
        raise TypeError(f"settings must be a TargetSettings, got {type(st).__name__}")
    V = np.ascontiguousarray(V, dtype=np.float64)
    W = np.array(W0, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != V.shape[1]:
        raise ValueError(f"W0 must have shape (K, {V.shape[1]}), got {W.shape}")
    if follow is not None and st.index != 1:
        raise ValueError("mode following (follow=...) targets index 1")
    k = st.index
    delta = st.max_step * float(np.linalg.norm(V))
    prev = None if follow is None else np.asarray(follow, dtype=np.float64).ravel()
    it = 0
    try:
        for it in range(1, st.max_iter + 1):
            g = grad(W, V).ravel()
            if np.linalg.norm(g) <= st.switch_tol:
                break
            lam, U = np.linalg.eigh(hessian(W, V))
            floor = st.null_rtol * np.max(np.abs(lam))
            live = np.flatnonzero(np.abs(lam) > floor)
            sigma = np.ones_like(lam)
            if prev is not None:
                j = int(np.argmax(np.abs(U[:, live].T @ prev)))
                up = [live[j]]
                prev = U[:, live[j]] * np.sign(U[:, live[j]] @ prev)
            else:
                up = list(live[:k])
            sigma[up] = -1.0
            gi = U.T @ g
            s = -U @ (gi / (sigma * np.maximum(np.abs(lam), floor)))
            ns = np.linalg.norm(s)
            if ns > delta:
                s *= delta / ns
            W = W + s.reshape(W.shape)
            if not np.all(np.isfinite(W)):
                return TargetResult(W, np.nan, -1, -1, False, it, "diverged")
    except DeadRowError:
        return TargetResult(W, float(np.linalg.norm(grad(W, V))), -1, -1, False, it,
                            "a row reached zero")
    # a local finish: descent would leave the targeted saddle for a minimum
    r = native_solve(W, V, NativeSettings(tol=st.tol, retries=0, descents=0))
    W, gn = r.W[0], float(r.grad_norm[0])
    if r.reason[0] != "converged":
        return TargetResult(W, gn, -1, -1, False, it, f"native finish: {r.reason[0]}")
    idx, nul = _index_nullity(W, V, st.null_rtol)
    ok = idx == k
    return TargetResult(W, gn, idx, nul, ok, it,
                        f"index {idx}" + ("" if ok else f" (target {k})"))


def follow_modes(W_min, V, n_modes: int = 2, settings: TargetSettings | None = None,
                 kick: float = 0.02) -> list[TargetResult]:
    """Index-1 searches from a minimum W_min (K, d) along its ``n_modes`` softest non-null
    Hessian modes, each in both directions (start W_min ± kick·‖V‖_F·u).  Returns the
    2·n_modes results in the order (mode 0, +), (mode 0, −), (mode 1, +), ..."""
    st = TargetSettings(index=1) if settings is None else settings
    if st.index != 1:
        raise ValueError("follow_modes targets index-1 saddles (settings.index = 1)")
    V = np.ascontiguousarray(V, dtype=np.float64)
    W_min = np.array(W_min, dtype=np.float64)
    lam, U = np.linalg.eigh(hessian(W_min, V))
    live = np.flatnonzero(np.abs(lam) > st.null_rtol * np.max(np.abs(lam)))
    out = []
    step = kick * float(np.linalg.norm(V))
    for m in live[:n_modes]:
        u = U[:, m]
        for sign in (1.0, -1.0):
            start = W_min + sign * step * u.reshape(W_min.shape)
            out.append(target_index_search(start, V, st, follow=sign * u))
    return out
