"""Certified early assignment of gradient-descent runs (the assigner of :mod:`reludyn.dynamics.early`).

The argument (for a step η and a float critical point c of J, K·d = n unknowns):

1. *Spectral bounds on a box.* Ball arithmetic (:func:`reludyn.certify.balls.hessian_ball`
   over the box c ± r in every entry, then :func:`spectrum_bounds`: Weyl with a
   Perron-root bound of the entrywise radii around the symmetrised midpoint, whose own
   spectrum is enclosed by :func:`reludyn.certify.spectrum.eigenvalue_enclosures`) gives m, Mx with
   spec H(W) ⊂ [m, Mx] for every W in the box; the box holds the Frobenius ball
   B(c, r). We require m > 0 and η·Mx < 2. (J is C² on the box: dead rows are refused,
   and coincident or opposite rows are enclosed through their C² limit, see balls.py.)
2. *A true minimum near c.* With g ≥ ‖∇J(c)‖_F (arb), J is m-strongly convex on B(c, r),
   so if r > 2g/m its minimiser W* on the ball is interior (on the sphere
   J ≥ J(c) − g r + m r²/2 > J(c)), hence ∇J(W*) = 0, and ‖W* − c‖ <= δ := g/m
   (strong monotonicity of ∇J).
3. *Contraction.* For W ∈ B(W*, ρ*), ρ* = r − δ (⊂ B(c, r)), the GD map T(W) = W − η∇J(W)
   satisfies T(W) − W* = (I − η H̄)(W − W*), H̄ = ∫₀¹ H(W* + s(W − W*)) ds, whose
   spectrum lies in [m, Mx] (the segment is in the ball, and the set of symmetric
   matrices with spectrum in [m, Mx] is convex), so ‖T(W) − W*‖ <= q‖W − W*‖ with
   q = max(|1 − ηm|, |1 − ηMx|) < 1: every later iterate stays in the ball and GD
   converges to W*. A run is assigned when ‖W_t − c‖_F <= ρ := r − 2δ (then
   ‖W_t − W*‖ <= ρ*); the float norm is compared with ρ(1 − 1e-9) (rounding margin).
4. *Symmetric copies.* The certificate holds for every copy P c Πᵀ with P a row
   permutation and Π a coordinate permutation that maps the teacher's rows to
   themselves (J ∘ g = J and g is an isometry of the entries, so the box, the Hessian
   spectra and W* map along). Copies are found with :func:`reludyn.critical.symmetry.match`;
   coordinate permutations are used only for V = I (the Safran–Shamir teacher), where
   every Π qualifies; for other teachers a copy needing a teacher permutation gets its
   own certificate.

5. *The full run ends there.* From W_t every later iterate stays in the ball, so its rows
   keep norm >= min_j ‖c_j‖ − r and ‖W‖_F <= ‖c‖ + r, and its gradient falls below the
   tolerance within a computable number of steps (:meth:`CertifiedAssigner.assign`); the
   GD driver keeps an assignment only if that fits the step budget, dead_tol and
   diverge_bound, so an "assigned" run is exactly one whose full run ends "converged" at
   (a point within tol/m of) W*.

Each minimum is certified once (Newton from the first run that reaches it, then a few
box radii; about 0.2 s at K = 10, 3–8 s at K = 20 on a loaded core) and cached per
(teacher, η); later runs are matched against the cached balls first, so Newton runs only
for runs that no cached ball holds.
The cache lives in the process (:func:`certified_assigner`), so the center of a ball is the
Newton point of the first run in that process that reached the minimum: an assigned W is the
certified minimum to about 1e-15 (‖W − W*‖ <= δ), and its last bits can differ between
processes (runner workers, a resumed run); the entry, loss and counts do not.
Saddles are never assigned: their Hessian has a negative eigenvalue, so they get no
ball, and a run near a saddle continues with the full tolerance.

The thresholds at which runs are offered (``tols``, in the run's norm, one per decade from
1e-5 to 1e-10, those above the run's tolerance): a run is inside a certified ball once
‖∇J‖ ≲ λ_min·ρ, and the radii this box test certifies are ρ ≈ 2e-4–2e-3 at K = 10
(the global minimum 2.4e-3, type A 4.5e-4; radius and seconds of every certified ball are
in ``certified_balls`` of the JSON written by ``python benchmarks/bench_ensemble.py --early
--k 10 --json out.json``, ``--k 20`` for K = 20), so runs near the global minimum are assigned
around 1e-5–1e-6 and runs near ill-conditioned spurious minima around 1e-7–1e-8; an offer
that misses costs one loss and gradient evaluation (and for a run near a point not seen
before one Newton solve), and the run simply continues.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..dynamics.early import Assignment, register_assigner_factory
from ..landscape import grad, hessian, loss
from ..problem import Problem
from .native import NativeSettings, native_solve
from .symmetry import SymmetryContext, match

DEFAULT_TOLS = (1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)


# local Newton/LM only: the iterate is already where ∇J is small
_LOCAL = NativeSettings(tol=1e-13, max_iter=30, descents=0)


def newton_critical(W: np.ndarray, V: np.ndarray) -> np.ndarray | None:
    """A nearby critical point from W (K, d) by the native Newton/LM solver, or None.

    Local only (no descent rounds, 30 Hessians); the point found is only the center of a
    ball that is then certified, so the solver's choice of root cannot make an assignment wrong.
    """
    r = native_solve(W[None], V, _LOCAL)
    return r.W[0] if r.converged[0] else None


@dataclass
class CertifiedBall:
    """A certified minimum: center c (K, d) float; radius ρ (Frobenius, around c) within
    which GD with step ``eta`` provably converges to the true minimum W* (‖W* − c‖ <= delta);
    box: the ∞-box half-width r certified; lam: [m, Mx] Hessian spectrum bounds on it."""

    center: np.ndarray
    radius: float
    box: float
    delta: float
    lam: tuple[float, float]
    loss: float
    grad_max_row: float
    grad_fro: float
    seconds: float
    hits: int = 0


def _frob_upper(G) -> float:
    """A float upper bound of the Frobenius norm of every matrix in the ball matrix G."""
    from ..certify.spectrum import _frobenius_upper

    return math.nextafter(float(_frobenius_upper(G).upper()), math.inf)


def spectrum_bounds(H) -> tuple[float, float]:
    """(m, Mx) with spec(A) ⊂ [m, Mx] for every symmetric A in the arb ball matrix H.

    With S the symmetrised float midpoint and R >= |A − S| entrywise (H's radii, the
    asymmetry of the midpoint and the rounding of S), Weyl gives |λ_i(A) − λ_i(S)| <=
    ‖A − S‖₂ <= ρ(R) (|A − S| <= R entrywise and A − S symmetric), and ρ(R) <= max_i
    (R x)_i / x_i for any positive x (Collatz–Wielandt; x from a few power iterations,
    the float products rounded up by (1 + 2n·eps)). λ(S) is enclosed rigorously by
    :func:`reludyn.certify.spectrum.eigenvalue_enclosures` on the exact float matrix S.
    This is much tighter than the Frobenius norm of the whole transformed ball matrix
    (about n times at the sizes used here).
    """
    from flint import arb_mat

    from ..certify.balls import arb_mat_to_numpy
    from ..certify.spectrum import eigenvalue_enclosures

    mid, rad = arb_mat_to_numpy(H)
    S = 0.5 * (mid + mid.T)
    n = S.shape[0]
    eps = np.finfo(float).eps
    R = rad + np.abs(mid - S) + 4 * eps * np.abs(S) + np.finfo(float).tiny
    x = np.ones(n)
    for _ in range(30):
        x = R @ x
        x /= x.max()
    x = x + 1e-3
    rho = float(np.max((R @ x) / x)) * (1 + 2 * (n + 2) * eps)
    enc = eigenvalue_enclosures(arb_mat(S.tolist()))
    m = math.nextafter(enc[0][0] - rho, -math.inf)
    mx = math.nextafter(enc[-1][1] + rho, math.inf)
    return m, mx


def certify_ball(c: np.ndarray, V: np.ndarray, eta: float, max_tries: int = 5) -> CertifiedBall | None:
    """The certified ball of the float minimum c (K, d) for GD with step ``eta``, or None
    (c is not a certifiable minimum: a saddle, a dead row, a singular Hessian)."""
    from ..certify.balls import NotCertifiable, ball_matrix, grad_ball, hessian_ball, precision

    t0 = time.perf_counter()
    c = np.ascontiguousarray(c, dtype=np.float64)
    lam_c = np.linalg.eigvalsh(hessian(c, V))
    if not lam_c[0] > 0 or not eta * lam_c[-1] < 2:
        return None
    best = None
    with precision(64):
        try:
            g = _frob_upper(grad_ball(ball_matrix(c), V))
        except NotCertifiable:
            return None
        # the spread λ_min(c) − m grows like a power of r (r where pairs are generic, √r
        # where the box reaches θ = 0): probe a tiny box, then step along the log-log
        # secant towards m ≈ λ_min(c)/5 (each try is one ball Hessian: seconds at K = 20)
        r = 1e-7 * max(1.0, float(np.max(np.abs(c))))
        hist = []
        for _ in range(max_tries):
            try:
                m, mx = spectrum_bounds(hessian_ball(ball_matrix(c, r), V))
            except (NotCertifiable, ArithmeticError):
                r *= 0.25
                continue
            ok = m > 0 and eta * mx < 2 * (1 - 1e-12) and r > 2 * g / m
            if ok and (best is None or r > best[0]):
                best = (r, math.nextafter(g / m, math.inf), (m, mx))
            spread = max(lam_c[0] - m, 1e-300)
            if ok and spread >= 0.5 * lam_c[0]:
                break
            hist.append((r, spread))
            alpha = 1.0
            if len(hist) >= 2:
                (r1, s1), (r2, s2) = hist[-2], hist[-1]
                if r1 != r2 and s1 > 0 and s2 > 0:
                    alpha = min(2.0, max(0.25, math.log(s2 / s1) / math.log(r2 / r1)))
            r_new = min(1e-2, r * (0.8 * lam_c[0] / spread) ** (1 / alpha))
            if not ok:
                r_new = min(r_new, 0.7 * r)
            if best is not None and r_new <= best[0] * 1.05:
                break
            r = r_new
    if best is None:
        return None
    r, delta, lam = best
    gc = grad(c, V)
    return CertifiedBall(center=c, radius=r - 2 * delta, box=r, delta=delta, lam=lam,
                         loss=float(loss(c, V)), grad_max_row=float(np.max(np.linalg.norm(gc, axis=1))),
                         grad_fro=float(np.linalg.norm(gc)), seconds=time.perf_counter() - t0)


@dataclass
class CertifiedAssigner:
    """Early assigner for ``problem`` and step ``eta`` with a cache of certified balls
    (see the module docstring for the proof). ``stats`` counts offers, assignments,
    Newton solves and certifications (and the seconds spent certifying).

    Above ``max_unknowns`` = K·d (default 900, k = n = 30) it offers nothing (``tols`` = ()):
    one ball Hessian is a (K·d)² arb matrix and its enclosure two (K·d)³ arb products,
    minutes per minimum there, more than the tails it would save; runs then go straight
    to the tolerance."""

    problem: Problem
    eta: float
    tols: tuple = DEFAULT_TOLS
    max_unknowns: int = 900
    balls: list = field(default_factory=list)
    stats: dict = field(default_factory=lambda: {"offered": 0, "assigned": 0, "newton": 0,
                                                 "certified": 0, "not_minimum": 0,
                                                 "certify_s": 0.0})

    def __post_init__(self):
        V = self.problem.V
        self._V = np.ascontiguousarray(V, dtype=np.float64)
        self._ctx = SymmetryContext(self._V)
        self._identity_teacher = (V.shape[0] == V.shape[1]
                                  and np.array_equal(self._V, np.eye(V.shape[0])))
        self._scale = max(1.0, float(np.max(np.linalg.norm(self._V, axis=1))))
        self._others: list[float] = []  # losses of critical points that got no ball
        if self.problem.K * self.problem.d > self.max_unknowns:
            self.tols = ()

    # --- copies of a cached ball -------------------------------------------------
    def _copy(self, c: np.ndarray, W: np.ndarray, tol: float) -> np.ndarray | None:
        """The symmetric copy of c nearest W (a row permutation, and for V = I a coordinate
        permutation), or None if the matcher finds none within ``tol``."""
        m = match(c, W, self._ctx, tol)
        if m is None:
            return None
        p, pi = m
        if np.array_equal(pi, np.arange(pi.size)):
            return c[p]
        if not self._identity_teacher:
            return None  # a teacher automorphism that is not a coordinate permutation
        A = np.empty_like(c)
        A[:, pi] = c
        return A[p]

    def _inside(self, W: np.ndarray, J: float) -> tuple[CertifiedBall, np.ndarray] | None:
        for b in self.balls:
            if not (b.loss - 1e-12 <= J <= b.loss + b.lam[1] * b.radius ** 2 + 1e-12):
                continue
            tol = 3.0 * b.radius * max(self._scale, float(np.max(np.linalg.norm(W, axis=1)))) + 1e-9
            A = self._copy(b.center, W, tol)
            if A is not None and np.linalg.norm(W - A) <= b.radius * (1 - 1e-9):
                return b, A
        return None

    def _heading(self, W: np.ndarray, J: float) -> bool:
        """A cheap guess (never used as proof) that W is on its way to a cached critical point
        but not yet inside its ball: its loss is within the quadratic-model window
        J_c <= J <= J_c + 2 Mx (‖∇J‖/m)² of a cached minimum, or within ‖∇J‖ of a cached
        non-minimum. Such runs are not sent to Newton; they simply continue."""
        g = float(np.linalg.norm(grad(W, self._V)))
        for b in self.balls:
            if b.loss - 1e-12 <= J <= b.loss + 2 * b.lam[1] * (g / b.lam[0]) ** 2 + 1e-12:
                return True
        return any(abs(J - Js) <= g + 1e-12 for Js in self._others)

    def _from_newton(self, W: np.ndarray) -> tuple[CertifiedBall, np.ndarray] | None:
        self.stats["newton"] += 1
        Wc = newton_critical(W, self._V)
        if Wc is None:
            return None
        Jc = float(loss(Wc, self._V))
        for b in self.balls:
            if abs(b.loss - Jc) <= 1e-9 * max(1.0, abs(Jc)):
                A = self._copy(b.center, Wc, 1e-7 * self._scale ** 2)
                if A is not None:
                    return b, A
        for Js in self._others:
            if abs(Js - Jc) <= 1e-9 * max(1.0, abs(Jc)):
                return None
        b = certify_ball(Wc, self._V, self.eta)
        if b is None:
            self.stats["not_minimum"] += 1
            self._others.append(Jc)
            return None
        self.stats["certified"] += 1
        self.stats["certify_s"] += b.seconds
        self.balls.append(b)
        return b, Wc

    def assign(self, W: np.ndarray, norm: str = "max_row", tol: float = 0.0) -> Assignment:
        """Offer stopped iterates W (n, K, d); see :class:`reludyn.dynamics.early.Assignment`.

        steps_bound: with D = ‖W_t − c‖ + δ >= ‖W_t − W*‖, every later iterate has
        ‖∇J(W_s)‖_F <= Mx q^(s−t) D (‖∇J(W) − ∇J(W*)‖ <= Mx ‖W − W*‖ on the ball), which is
        below tol (in the Frobenius norm, hence also the max-row norm) after
        ceil(log(tol / (Mx D)) / log q) + 1 steps; tol = 0 gives no finite bound.
        """
        W = np.asarray(W, dtype=np.float64)
        n = W.shape[0]
        mask = np.zeros(n, dtype=bool)
        Wout = W.copy()
        L = np.full(n, np.nan)
        gn = np.full(n, np.nan)
        rad = np.full(n, np.nan)
        sb = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        rmin = np.zeros(n)
        fmax = np.full(n, np.inf)
        for i in range(n):
            self.stats["offered"] += 1
            Wi = W[i]
            J = float(loss(Wi, self._V))
            found = self._inside(Wi, J)
            if found is None and not self._heading(Wi, J):
                found = self._from_newton(Wi)
                if found is not None and not np.linalg.norm(Wi - found[1]) <= found[0].radius * (1 - 1e-9):
                    found = None
            if found is None:
                continue
            b, A = found
            b.hits += 1
            self.stats["assigned"] += 1
            mask[i] = True
            Wout[i] = A
            L[i] = b.loss
            gn[i] = b.grad_fro if norm == "fro" else b.grad_max_row
            rad[i] = b.radius
            m, mx = b.lam
            q = max(abs(1 - self.eta * m), abs(1 - self.eta * mx))
            D = (float(np.linalg.norm(Wi - A)) + b.delta) * (1 + 1e-9)
            if tol > 0 and q < 1:
                need = math.log(tol / (mx * D)) / math.log(q) if mx * D >= tol else 0.0
                sb[i] = int(math.ceil(need)) + 1
            rmin[i] = (float(np.min(np.linalg.norm(A, axis=1))) - b.box) * (1 - 1e-9)
            fmax[i] = (float(np.linalg.norm(A)) + b.box) * (1 + 1e-9)
        return Assignment(mask=mask, W=Wout, loss=L, grad_norm=gn, radius=rad,
                          steps_bound=sb, row_min=rmin, fro_max=fmax)


_SHARED: dict = {}


def certified_assigner(problem: Problem, eta: float) -> CertifiedAssigner:
    """The process-wide assigner of (problem's teacher, eta): its balls are reused by
    every later call (chunks of a census in one worker certify each minimum once)."""
    V = np.ascontiguousarray(problem.V, dtype=np.float64)
    key = (V.shape, V.tobytes(), float(eta))
    a = _SHARED.get(key)
    if a is None:
        a = _SHARED[key] = CertifiedAssigner(problem, float(eta))
    return a


register_assigner_factory(certified_assigner)
