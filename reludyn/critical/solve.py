"""Root finding for ∇J = 0: the native Newton/LM solver, SciPy solvers as fallback, Newton polish.

Each seed W0 (K, d) is tried with the methods in order: ``native``
(:mod:`reludyn.critical.native`, jitted Newton / Levenberg–Marquardt on the analytic
Hessian), ``hybr`` and ``lm`` of ``scipy.optimize.root``, ``lsq`` =
``scipy.optimize.least_squares`` on ∇J with jac = Hessian.  Each is started from W0;
the SciPy results are followed by :func:`reludyn.newton_polish`; the first result with
‖∇J‖_F <= tol is accepted.  A native run that stops at a dead row hands that point
straight to the dead-row handling below.

Dead rows (zero student rows) make J non-differentiable.  A dead row contributes
nothing to the network output, so a point with dead rows is a critical point (with
the convention ∇_{w_j} J = 0 for a zero row, as in :func:`reludyn.grad`) exactly when
its live rows are a critical point of the narrower student.  Such rows are zeroed,
the live rows are solved on their own, and the result carries ``dead_rows``.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.optimize as so

from ..landscape import unchecked
from ..newton import newton_polish
from .native import NativeSettings, native_solve

METHODS = ("native", "hybr", "lm", "lsq")
SCIPY_METHODS = ("hybr", "lm", "lsq")


@dataclass
class SolveResult:
    """Outcome of :func:`solve_point`. W: (K, d) (dead rows exactly zero); grad_norm: ‖∇J‖_F.

    ``timings``: seconds in kernels (gradient/Hessian calls made by the SciPy
    solvers), in the SciPy solver calls (kernel time included), in Newton polish,
    and the number of Hessian evaluations ``njev``.
    """

    W: np.ndarray
    grad_norm: float
    success: bool
    method: str | None
    dead_rows: list[int]
    message: str
    nfev: int = 0
    timings: dict = field(default_factory=dict)


class _System:
    """∇J and its Jacobian (the Hessian) for the live rows, timing kernel calls."""

    def __init__(self, V: np.ndarray, K: int, d: int):
        self.V = unchecked.teacher(V)
        self.K, self.d = K, d
        self.G = np.empty((K, d))
        self.kernel_time = 0.0
        self.nfev = 0
        self.njev = 0

    def f(self, x):
        t = time.perf_counter()
        unchecked.grad(np.ascontiguousarray(x).reshape(self.K, self.d), self.V, out=self.G)
        self.kernel_time += time.perf_counter() - t
        self.nfev += 1
        return self.G.ravel().copy()

    def jac(self, x):
        t = time.perf_counter()
        n = self.K * self.d
        H = np.empty((n, n))
        W = np.ascontiguousarray(x).reshape(self.K, self.d)
        unchecked.hessian(W, self.V, out=H)
        self.kernel_time += time.perf_counter() - t
        self.njev += 1
        if not np.all(np.isfinite(H)):
            # a row passed through zero: its blocks are undefined; zero them so the
            # solver sees a singular (not NaN) Jacobian and stops or steps away
            H[~np.isfinite(H)] = 0.0
        return H


def _run_method(method: str, sys: _System, x0: np.ndarray, max_nfev: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns on slow progress; we judge by ‖∇J‖
        with np.errstate(all="ignore"):
            if method == "hybr":
                r = so.root(sys.f, x0, jac=sys.jac, method="hybr", tol=1e-15,
                            options={"maxfev": max_nfev})
            elif method == "lm":
                r = so.root(sys.f, x0, jac=sys.jac, method="lm", tol=1e-15,
                            options={"maxiter": max_nfev})
            elif method == "lsq":
                r = so.least_squares(sys.f, x0, jac=sys.jac, method="trf", xtol=1e-15,
                                     ftol=1e-15, gtol=1e-15, max_nfev=max_nfev)
            else:  # pragma: no cover - validated by the caller
                raise ValueError(f"unknown method {method!r}")
    x = np.asarray(r.x, dtype=np.float64)
    return x if np.all(np.isfinite(x)) else x0


def _solve_live(W0, V, methods, tol, max_nfev, polish_from, polish_iter, stats, native):
    """Solve on all rows of W0 (none dead). Returns (W, grad_norm, method, message)."""
    K, d = W0.shape
    sys = _System(V, K, d)
    best = (W0, np.inf, None, "not started")
    x0 = W0.ravel().copy()
    for method in methods:
        if method == "native":
            t0 = time.perf_counter()
            nr = native_solve(W0[None], V, native)
            stats["native"] = stats.get("native", 0.0) + time.perf_counter() - t0
            stats["njev"] += int(nr.iterations[0])
            stats["nfev"] += int(nr.nfev[0])
            why, gn = nr.reason[0], float(nr.grad_norm[0])
            if why == "dead_row":  # the caller zeroes the row and solves the live ones
                return nr.W[0], gn, method, f"native: {why}"
            if np.isfinite(gn) and gn < best[1]:
                best = (nr.W[0], gn, method, f"native: {why}, |grad| = {gn:.3e}")
            if gn <= tol:
                break
            continue
        t0 = time.perf_counter()
        x = _run_method(method, sys, x0, max_nfev)
        stats["scipy"] += time.perf_counter() - t0
        W = x.reshape(K, d)
        gn = float(np.linalg.norm(sys.f(x)))
        if tol < gn <= polish_from and np.min(np.linalg.norm(W, axis=1)) > 0:
            t1 = time.perf_counter()
            try:
                pr = newton_polish(W, V, tol=tol, max_iter=polish_iter)
                if pr.grad_norm < gn:
                    W, gn = pr.W, float(pr.grad_norm)
            except ValueError:
                pass  # a dead row appeared; handled by the caller
            stats["polish"] += time.perf_counter() - t1
        if gn < best[1]:
            best = (W, gn, method, f"{method}: |grad| = {gn:.3e}")
        if gn <= tol:
            break
    stats["kernel"] += sys.kernel_time
    stats["nfev"] += sys.nfev
    stats["njev"] += sys.njev
    return best


def solve_point(W0, V, *, methods=METHODS, tol: float = 1e-10, max_nfev: int = 300,
                polish_from: float = 1e-4, polish_iter: int = 15,
                dead_tol: float = 1e-7, native: NativeSettings | None = None) -> SolveResult:
    """Find a critical point of J near the seed W0 (K, d) for teacher V (M, d).

    ``methods``: subset/ordering of ("native", "hybr", "lm", "lsq"), tried in turn from
    W0.  ``native``: settings of the native solver (its tol and dead_tol are replaced by
    this function's).
    ``tol``: acceptance threshold on ‖∇J‖_F.  ``polish_from``: Newton-polish a
    solver result whose ‖∇J‖ is at most this.  ``dead_tol``: rows with norm at most
    ``dead_tol`` times the largest row norm (or the teacher scale) count as dead and
    are set to zero.  The caller validates W0 and V.
    """
    W0 = np.array(W0, dtype=np.float64)
    V = unchecked.teacher(V)
    K, d = W0.shape
    scale = max(float(np.max(np.linalg.norm(V, axis=1))), 1e-300)
    stats = {"kernel": 0.0, "scipy": 0.0, "polish": 0.0, "nfev": 0, "njev": 0}
    native = replace(native or NativeSettings(), tol=tol, dead_tol=dead_tol)
    dead: list[int] = []
    W = W0.copy()
    method, message = None, ""
    gn = np.inf
    for _ in range(K + 1):  # each pass can only add dead rows
        norms = np.linalg.norm(W, axis=1)
        dead = sorted(set(dead) | set(np.flatnonzero(norms <= dead_tol * scale).tolist()))
        W[dead] = 0.0
        live = [j for j in range(K) if j not in dead]
        if not live:
            gn, method, message = 0.0, None, "all rows dead: W = 0"
            break
        Wl, gn, method, message = _solve_live(W[live], V, methods, tol, max_nfev,
                                              polish_from, polish_iter, stats, native)
        W[live] = Wl
        if not np.any(np.linalg.norm(Wl, axis=1) <= dead_tol * scale):
            break
    # the reported norm is the full gradient (dead rows contribute 0 by convention)
    gn = float(np.linalg.norm(unchecked.grad(W, V)))
    if dead:
        message += f"; dead rows {dead} (non-differentiable point, live rows solved)"
    return SolveResult(W, gn, gn <= tol, method, dead, message, stats.pop("nfev"), stats)


def check_methods(methods) -> tuple[str, ...]:
    """Validate a method list; returns a tuple."""
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise TypeError(f"methods must be a sequence of names from {METHODS}") from None
    if not methods:
        raise ValueError(f"methods is empty; choose from {METHODS}")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"unknown solver method(s) {bad}; choose from {METHODS}")
    return methods
