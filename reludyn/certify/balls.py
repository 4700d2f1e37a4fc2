"""Ball-arithmetic (arb) enclosures of J, ∇J and the Hessian of J over a box of students.

Every entry of W is an ``flint.arb`` ball; every quantity below encloses the
exact value for *every* W in the box (arb propagates rigorous error radii through
each operation). The formulas are those of :mod:`reludyn.kernels` (Tian's κ and
its derivatives); the teacher V is taken exactly as its float64 entries.

Angles. c = e_u·e_v is intersected with [−1, 1]. Where |c| <= 0.9, s = √(1 − c²)
and θ = acos(c). Where |c| > 0.9, s = |e_v − c e_u| (no cancellation) and
θ = atan(s/c) or π − atan(s/|c|), which stay valid when the ball reaches s = 0.

Coincident or opposite rows. The Hessian terms q qᵀ/s and q rᵀ/s (q = e_v − c e_u,
r = e_u − c e_v) are undefined at s = 0, but |q| = |r| = s exactly, so each
entry is bounded by s in absolute value: where the ball of s contains 0 (the box
reaches θ = 0 or π) those terms are enclosed by [−s⁺, s⁺] instead of being
evaluated. This is rigorous because κ is C² there (κ = |u||v|(½ − θ²/4 + O(θ³))/π
near θ = 0, and (sin φ − φ cos φ) ~ φ³/3 near θ = π), so the Hessian at
s = 0 is the limit that this bound encloses. Such pairs are reported, never
guessed. Dead rows (norm ball containing 0) are refused: J is not differentiable
there (:class:`NotCertifiable`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
from flint import arb, arb_mat, ctx


class NotCertifiable(ValueError):
    """The box holds a point where the closed forms do not apply (a dead row)."""


@contextlib.contextmanager
def precision(bits: int):
    """Run arb at ``bits`` of working precision, restoring the previous setting."""
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


def ball_matrix(mid: np.ndarray, rad=0.0) -> list:
    """Nested list (rows) of arb balls mid ± rad (rad scalar or array of mid's shape)."""
    mid = np.asarray(mid, dtype=np.float64)
    rad = np.broadcast_to(np.asarray(rad, dtype=np.float64), mid.shape)
    return [[arb(float(m), float(r)) if r > 0 else arb(float(m)) for m, r in zip(mr, rr)]
            for mr, rr in zip(mid, rad)]


@dataclass
class _Pair:
    c: arb
    s: arb
    theta: arb
    touches: bool  # the ball of s contains 0: θ = 0 or π is reachable


def _dot(x, y):
    acc = arb(0)
    for a, b in zip(x, y):
        acc += a * b
    return acc


def _unit(row):
    nrm = _dot(row, row).sqrt()
    if not nrm > 0:
        return nrm, None
    return nrm, [t / nrm for t in row]


def _pair(eu, ev, pi) -> _Pair:
    c = _dot(eu, ev).intersection(arb(0, 1))
    if c.abs_upper() <= 0.9:
        s = (1 - c * c).sqrt()
        th = c.acos()
    elif c > 0.5 or c < -0.5:
        q = [b - c * a for a, b in zip(eu, ev)]
        s = _dot(q, q).nonnegative_part().sqrt()
        s2 = (1 - c * c).nonnegative_part().sqrt()
        s = s.intersection(s2) if s.overlaps(s2) else s
        if c > 0:
            th = (s / c).atan()
        else:
            th = pi - (s / (-c)).atan()
    else:  # a wide ball of c (a large box): only the trivial enclosures are safe
        s = (1 - c * c).nonnegative_part().sqrt().intersection(arb(0.5, 0.5))
        th = pi * arb(0.5, 0.5)
    return _Pair(c, s, th, not (s > 0))


@dataclass
class BallGeometry:
    """Norms a (K,), b (M,), unit rows EW, EV and pair angles of a box of students."""

    a: list
    b: list
    EW: list
    EV: list
    ww: dict   # (j, k), j < k -> _Pair
    wv: dict   # (j, m) -> _Pair
    pi: arb

    def touching_pairs(self) -> dict:
        """Pairs whose box reaches θ = 0 or π: {"student": [(j, k)], "teacher": [(j, m)]}."""
        return {"student": [list(k) for k, p in self.ww.items() if p.touches],
                "teacher": [list(k) for k, p in self.wv.items() if p.touches]}


def geometry(Wb: list, V: np.ndarray) -> BallGeometry:
    """Angles of a box Wb (K rows of d arb balls) against itself and the exact teacher V (M, d)."""
    pi = arb.pi()
    Vb = ball_matrix(V)
    a, EW = [], []
    for j, row in enumerate(Wb):
        nrm, e = _unit(row)
        if e is None:
            raise NotCertifiable(f"student row {j} can be zero in the box (dead row): "
                                 "J is not differentiable there")
        a.append(nrm)
        EW.append(e)
    b, EV = [], []
    for row in Vb:
        nrm, e = _unit(row)
        b.append(nrm)
        EV.append(e)  # None for a zero teacher row: it contributes nothing
    K, M = len(Wb), len(Vb)
    ww = {(j, k): _pair(EW[j], EW[k], pi) for j in range(K) for k in range(j + 1, K)}
    wv = {(j, m): _pair(EW[j], EV[m], pi) for j in range(K) for m in range(M) if EV[m] is not None}
    return BallGeometry(a, b, EW, EV, ww, wv, pi)


def _h(p: _Pair, pi):
    """s + (π − θ) c, so that κ = |u||v| h / 2π."""
    return p.s + (pi - p.theta) * p.c


def teacher_energy_ball(V: np.ndarray) -> arb:
    """½ Σ_{m,n} κ(v_m, v_n), enclosed."""
    g = geometry(ball_matrix(V), V[:0])
    pi = g.pi
    tot = arb(0)
    M = len(g.a)
    for m in range(M):
        tot += pi * g.a[m] * g.a[m] / 2
        for n in range(m + 1, M):
            tot += g.a[m] * g.a[n] * _h(g.ww[(m, n)], pi)
    return tot / (2 * pi)


def loss_ball(Wb: list, V: np.ndarray, geo: BallGeometry | None = None) -> arb:
    """Enclosure of J over the box Wb."""
    g = geo or geometry(Wb, V)
    pi = g.pi
    K = len(g.a)
    ww = arb(0)
    for j in range(K):
        ww += pi * g.a[j] * g.a[j] / 2
        for k in range(j + 1, K):
            ww += g.a[j] * g.a[k] * _h(g.ww[(j, k)], pi)
    wv = arb(0)
    for (j, m), p in g.wv.items():
        wv += g.a[j] * g.b[m] * _h(p, pi)
    return (ww - wv) / (2 * pi) + teacher_energy_ball(V)


def grad_ball(Wb: list, V: np.ndarray, geo: BallGeometry | None = None) -> arb_mat:
    """Enclosure (K × d arb_mat) of ∇J over the box Wb.

    ∇_j J = [π w_j + Σ_{k≠j} (π − θ_jk) w_k − Σ_m (π − θ_jm) v_m
             + (Σ_{k≠j} |w_k| s_jk − Σ_m |v_m| s_jm) e_j] / 2π.
    """
    g = geo or geometry(Wb, V)
    pi = g.pi
    K, d = len(Wb), len(Wb[0]) if Wb else 0
    Vb = ball_matrix(V)
    out = []
    for j in range(K):
        acc = [pi * t for t in Wb[j]]
        rad = arb(0)
        for k in range(K):
            if k == j:
                continue
            p = g.ww[(min(j, k), max(j, k))]
            f = pi - p.theta
            acc = [x + f * y for x, y in zip(acc, Wb[k])]
            rad += g.a[k] * p.s
        for m in range(len(Vb)):
            p = g.wv.get((j, m))
            if p is None:
                continue
            f = pi - p.theta
            acc = [x - f * y for x, y in zip(acc, Vb[m])]
            rad -= g.b[m] * p.s
        out.append([(x + rad * e) / (2 * pi) for x, e in zip(acc, g.EW[j])])
    return arb_mat(out) if K else arb_mat(0, d)


def hessian_ball(Wb: list, V: np.ndarray, geo: BallGeometry | None = None) -> arb_mat:
    """Enclosure (K·d × K·d arb_mat, rows of W flattened row-major) of the Hessian over Wb.

    Diagonal block j: ½ I + Σ_partners σ |u| / (2π |w_j|) [s (I − e_j e_jᵀ) + q qᵀ / s],
    σ = +1 for students, −1 for teachers, q = e_u − c e_j; the Σ q qᵀ/s part is one
    arb_mat product. Mixed block (j, k): [(π − θ) I + s e_j e_kᵀ + q rᵀ / s] / 2π,
    q = e_k − c e_j, r = e_j − c e_k, and block (k, j) is its transpose.
    """
    g = geo or geometry(Wb, V)
    pi = g.pi
    two_pi = 2 * pi
    K = len(Wb)
    d = len(Wb[0])
    n = K * d
    zero = arb(0)
    unit_ball = arb(0, 1)
    H = [[zero] * n for _ in range(n)]
    for j in range(K):
        ej = g.EW[j]
        alpha = arb(0)
        extra = arb(0)
        Qrows, Wrows = [], []
        partners = [(g.EW[k], g.a[k], g.ww[(min(j, k), max(j, k))], 1) for k in range(K) if k != j]
        partners += [(g.EV[m], g.b[m], p, -1) for (jj, m), p in g.wv.items() if jj == j]
        for eu, nu, p, sign in partners:
            f = nu / (two_pi * g.a[j])
            if sign < 0:
                f = -f
            alpha += f * p.s
            if p.touches:
                extra += f.abs_upper() * p.s.abs_upper()
            else:
                q = [u - p.c * e for u, e in zip(eu, ej)]
                w = f / p.s
                Qrows.append(q)
                Wrows.append([w * t for t in q])
        if Qrows:
            B = arb_mat(Wrows).transpose() * arb_mat(Qrows)
        o = j * d
        extra_ball = extra * unit_ball
        for pp in range(d):
            for r in range(d):
                v = -alpha * ej[pp] * ej[r] + extra_ball
                if Qrows:
                    v += B[pp, r]
                if pp == r:
                    v += alpha + arb(0.5)
                H[o + pp][o + r] = v
        for k in range(j + 1, K):
            p = g.ww[(j, k)]
            ek = g.EW[k]
            ok = k * d
            base = (pi - p.theta) / two_pi
            se = [p.s * t / two_pi for t in ej]
            if p.touches:
                qs = None
                bound = p.s.abs_upper() * unit_ball / two_pi
            else:
                qs = [(b - p.c * a) / (p.s * two_pi) for a, b in zip(ej, ek)]
                rr = [a - p.c * b for a, b in zip(ej, ek)]
            for pp in range(d):
                for r in range(d):
                    v = se[pp] * ek[r]
                    v += qs[pp] * rr[r] if qs is not None else bound
                    if pp == r:
                        v += base
                    H[o + pp][ok + r] = v
                    H[ok + r][o + pp] = v
    return arb_mat(H)


def arb_mat_to_numpy(A: arb_mat) -> tuple[np.ndarray, np.ndarray]:
    """(midpoints, radii) of an arb_mat as float arrays (radii rounded up by one ulp)."""
    ent = A.entries()
    mid = np.array([float(x.mid()) for x in ent]).reshape(A.nrows(), A.ncols())
    rad = np.array([float(x.rad()) for x in ent]).reshape(A.nrows(), A.ncols())
    return mid, np.nextafter(rad, np.inf)
