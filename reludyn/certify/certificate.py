"""Certificates: a ball proven to hold a critical point of J, its Morse index and loss.

``certify_point`` runs Krawczyk's test on the gauge slice of :mod:`.slice` over boxes of
growing radius (the first success is the certified radius: at most ``inflation`` times
the smallest radius tried that could succeed, since r must exceed |C F(ỹ)|), then
encloses the Hessian spectrum over that box (:mod:`.spectrum`) and J at the certified
point by the mean-value form J(W̃) + ∇J(box)·(box − W̃), whose width is O(r²)·‖H‖.

``verify`` re-derives everything from the stored center, radius and slice only: it
recomputes the Krawczyk inclusion (a shrunk radius or a moved center fails it) and the
enclosures, and checks that every stored claim contains the recomputed one. It does not
use the float kernels, the search or the inflation loop.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from flint import arb

from .._version import __version__
from .balls import NotCertifiable, arb_mat_to_numpy, grad_ball, loss_ball, precision
from .krawczyk import W_box, krawczyk, reduce_hessian
from .slice import Slice, make_slice
from .spectrum import eigenvalue_enclosures, morse_count

SCHEMA = "reludyn.certificate"
METHOD = "krawczyk+weyl/arb"
STATUSES = ("certified", "certified_manifold", "undecided", "failed", "not_certifiable", "unsupported")


@dataclass(frozen=True)
class CertifySettings:
    """prec: arb working precision (bits); max_radius: largest box half-width tried
    (in slice coordinates, ∞-norm); inflation: radius growth factor per failed try;
    coincident_tol / plane_tol: float tolerances that choose the gauge slice."""

    prec: int = 64
    max_radius: float = 1e-6
    inflation: float = 2.0
    coincident_tol: float = 5e-9
    plane_tol: float = 1e-8

    def __post_init__(self):
        if not (isinstance(self.prec, int) and 30 <= self.prec <= 4096):
            raise ValueError(f"prec must be an integer in [30, 4096], got {self.prec!r}")
        if not (self.max_radius > 0 and math.isfinite(self.max_radius)):
            raise ValueError(f"max_radius must be positive and finite, got {self.max_radius!r}")
        if not self.inflation > 1:
            raise ValueError(f"inflation must exceed 1, got {self.inflation!r}")


def teacher_fingerprint(V: np.ndarray) -> str:
    V = np.ascontiguousarray(V, dtype=np.float64)
    return hashlib.sha256(repr(V.shape).encode() + V.tobytes()).hexdigest()[:16]


@dataclass
class Certificate:
    """center: slice coordinates Y (G, q) of the ball's center; W: P Y Bᵀ (K, d);
    radius: ∞-norm half-width in slice coordinates; loss: [lo, hi]; eigenvalues: [[lo, hi]]
    ascending for the full Hessian (K·d) over the ball; index: certified Morse index or
    None; manifold_dim: exact zero modes forced by symmetry; status in STATUSES."""

    status: str
    message: str
    W: list
    center: list | None = None
    radius: float | None = None
    loss: list | None = None
    eigenvalues: list | None = None
    index: int | None = None
    manifold_dim: int = 0
    kind: str | None = None
    lambda_min_lower: float | None = None
    slice: dict | None = None
    touching_pairs: dict | None = None
    teacher: str = ""
    method: str = METHOD
    version: str = __version__
    prec: int = 64
    schema: str = SCHEMA

    @property
    def certified(self) -> bool:
        return self.status in ("certified", "certified_manifold")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Certificate":
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError("not a reludyn certificate (schema field missing or wrong)")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def _outward(x: arb) -> list:
    return [math.nextafter(float(x.lower()), -math.inf), math.nextafter(float(x.upper()), math.inf)]


def _kind(index: int, n: int, zero_modes: int) -> str:
    if index == 0:
        return "minimum"
    if index == n - zero_modes:
        return "maximum"
    return "saddle"


def _loss_enclosure(sl: Slice, Y: np.ndarray, V: np.ndarray, Wb: list, geo) -> arb:
    """J over the box Wb by the mean-value form around the center (geo: Wb's geometry)."""
    Wc = W_box(sl, Y, 0.0)
    J = loss_ball(Wc, V)
    G = grad_ball(Wb, V, geo)
    for j, row in enumerate(Wb):
        for t, w in enumerate(row):
            J += G[j, t] * (w - Wc[j][t])
    return J


def _analyse(sl: Slice, Y, V, box) -> dict:
    """Spectrum, index and loss over a certified box."""
    enc = eigenvalue_enclosures(box.H)
    index, how = morse_count(enc, sl.zero_modes)
    J = _loss_enclosure(sl, Y, V, box.Wb, box.geo)
    n = len(enc)
    out = {"loss": _outward(J), "eigenvalues": [list(e) for e in enc],
           "lambda_min_lower": enc[0][0], "touching_pairs": box.geo.touching_pairs()}
    if index is None:
        out.update(status="undecided", index=None, kind=None,
                   message=f"a unique critical point is certified in the ball, index {how}")
    else:
        kind = _kind(index, n, sl.zero_modes)
        if sl.zero_modes:
            out.update(status="certified_manifold",
                       message=f"certified critical manifold of dimension {sl.zero_modes} "
                               f"({kind}, index {index}; {sl.note})")
        else:
            out.update(status="certified", message=f"certified isolated {kind} of index {index}")
        t = out["touching_pairs"]
        if t["student"] or t["teacher"]:
            out["message"] += (f"; the ball reaches θ = 0 or π for student pairs {t['student']} and "
                               f"student-teacher pairs {t['teacher']} (Hessian terms bounded by sin θ)")
        out.update(index=index, kind=kind)
    return out


def certify_point(W: np.ndarray, V: np.ndarray, settings: CertifySettings = CertifySettings()) -> Certificate:
    """Certify the float critical point W (K, d) of teacher V (M, d); never raises on
    mathematical failure: the returned certificate's ``status`` says what was proven."""
    from ..validation import student_weights, teacher_matrix

    V = teacher_matrix(V, "V")
    Wb, batch = student_weights(W, V.shape[1], "W")
    if batch:
        raise ValueError(f"W must be one student (K, d), got a batch of shape {Wb.shape}")
    W = np.ascontiguousarray(Wb[0])
    base = {"W": W.tolist(), "teacher": teacher_fingerprint(V), "prec": settings.prec}
    dead = [j for j in range(W.shape[0]) if not np.any(W[j])]
    if dead:
        return Certificate("not_certifiable", f"dead rows {dead}: J is not differentiable at a "
                           "zero row, so no Hessian or Newton-type test applies", **base)
    try:
        sl = make_slice(W, V, coincident_tol=settings.coincident_tol, plane_tol=settings.plane_tol)
    except ValueError as exc:
        return Certificate("unsupported", str(exc), **base)
    Y = sl.from_W(W)
    with precision(settings.prec):
        try:  # r = 0: the center's Hessian (its inverse preconditions every radius) and gradient
            probe = krawczyk(sl, Y, V, 0.0)
        except NotCertifiable as exc:
            return Certificate("not_certifiable", str(exc), **base)
        except np.linalg.LinAlgError:
            return Certificate("failed", "the (slice) Hessian at the center is singular: "
                               "the point is not isolated in the slice", **base)
        base["slice"] = sl.to_dict()
        base["center"] = Y.tolist()
        r = max(1.1 * probe.residual, 1e-300)
        last = None
        while r <= settings.max_radius:
            try:
                res = krawczyk(sl, Y, V, r, probe.C, probe.gc)
            except NotCertifiable as exc:
                return Certificate("not_certifiable", str(exc), **base)
            last = res
            if res.ok:
                try:
                    info = _analyse(sl, Y, V, res.box)
                except (ArithmeticError, np.linalg.LinAlgError) as exc:
                    return Certificate("undecided", f"a zero of grad J is proven within radius "
                                       f"{r:.3g}, but its Hessian spectrum was not enclosed: "
                                       f"{exc}", radius=r, manifold_dim=sl.zero_modes, **base)
                return Certificate(radius=r, manifold_dim=sl.zero_modes, **info, **base)
            r *= settings.inflation
        why = (f"|C grad J(center)| = {probe.residual:.3e} exceeds max_radius {settings.max_radius:.1e}"
               if last is None else f"Krawczyk operator not contained (excess {last.excess:.3g}) "
               f"for radii up to {settings.max_radius:.1e}")
        return Certificate("failed", f"not certified: no zero of grad J proven near the point; {why}",
                           **base)


@dataclass
class Verification:
    ok: bool
    reasons: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def verify(certificate, V: np.ndarray) -> Verification:
    """Recheck a certificate (Certificate or its dict) for teacher V from its stored
    center, radius and slice. ok only if the Krawczyk inclusion holds again and the stored
    loss interval, eigenvalue bounds and index contain / equal the recomputed ones."""
    cert = certificate if isinstance(certificate, Certificate) else Certificate.from_dict(certificate)
    V = np.asarray(V, dtype=np.float64)
    bad = []
    if cert.teacher != teacher_fingerprint(V):
        bad.append("teacher fingerprint differs: certificate made for another teacher")
    if not cert.certified and cert.status != "undecided":
        bad.append(f"status {cert.status!r} certifies nothing")
    if bad:
        return Verification(False, bad)
    try:
        sl = Slice.from_dict(cert.slice)
        sl.validate(V)
        Y = np.asarray(cert.center, dtype=np.float64)
        if Y.shape != (int(sl.groups.max()) + 1, sl.B.shape[1]):
            raise ValueError(f"center shape {Y.shape} does not match the slice")
    except (ValueError, TypeError, KeyError) as exc:
        return Verification(False, [f"invalid slice or center: {exc}"])
    r = float(cert.radius)
    if not r > 0:
        return Verification(False, [f"radius {r!r} is not positive"])
    with precision(int(cert.prec)):
        try:
            probe = krawczyk(sl, Y, V, 0.0)
            res = krawczyk(sl, Y, V, r, probe.C, probe.gc)
        except (NotCertifiable, np.linalg.LinAlgError) as exc:
            return Verification(False, [f"Krawczyk test cannot run: {exc}"])
        if not res.ok:
            return Verification(False, [f"Krawczyk inclusion fails at the stored center and radius "
                                        f"(excess {res.excess:.3g} >= 1)"])
        try:
            info = _analyse(sl, Y, V, res.box)
        except (ArithmeticError, np.linalg.LinAlgError) as exc:
            return Verification(False, [f"Hessian spectrum not enclosed: {exc}"])
    lo, hi = info["loss"]
    if not (cert.loss and cert.loss[0] <= lo and hi <= cert.loss[1]):
        bad.append(f"stored loss interval {cert.loss} does not contain the recomputed [{lo}, {hi}]")
    enc = info["eigenvalues"]
    if cert.eigenvalues is None or len(cert.eigenvalues) != len(enc) or any(
            not (s[0] <= e[0] and e[1] <= s[1]) for s, e in zip(cert.eigenvalues, enc)):
        bad.append("stored eigenvalue bounds do not contain the recomputed enclosures")
    if info["index"] != cert.index or info["status"] != cert.status:
        bad.append(f"stored index/status {cert.index}/{cert.status} differ from the recomputed "
                   f"{info['index']}/{info['status']}")
    return Verification(not bad, bad)
