"""Krawczyk existence and uniqueness test for a zero of F(y) = Lᵀ ∇J(L y) in a box.

For the box X = ỹ + [−r, r]^n, K(X) = ỹ − C F(ỹ) + (I − C F'(X)) (X − ỹ) with C ≈ F'(ỹ)⁻¹
computed in floats (any matrix works; a good one makes K contract). If K(X) lies in the
interior of X, F has exactly one zero in X (Krawczyk 1969; Moore 1977; Rump 1983). F'(X)
is the ball Hessian over the box, so the test needs only ∇J being C¹, which holds away
from dead rows (κ is C² even at coincident/opposite rows, see balls.py). The products
C·F'(X) go through flint's arb_mat (C in midpoint-radius, all rounding enclosed).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import arb, arb_mat

from .balls import BallGeometry, arb_mat_to_numpy, ball_matrix, geometry, grad_ball, hessian_ball
from .slice import Slice


@dataclass
class BoxEval:
    """Ball quantities over a certified box: its W rows (K × d arb), their geometry and the
    full Hessian (K·d × K·d arb_mat) over the box (reused by the spectrum and loss steps)."""

    Wb: list
    geo: BallGeometry
    H: arb_mat


def W_box(sl: Slice, Y: np.ndarray, r: float) -> list:
    """Rows (K × d arb) of the box {P Y' Bᵀ : |Y' − Y| <= r}, exact in ball arithmetic."""
    Yb = arb_mat(ball_matrix(Y, r))
    if sl.identity:
        return [[Yb[i, t] for t in range(Yb.ncols())] for i in range(Yb.nrows())]
    Wm = arb_mat(sl.P.tolist()) * Yb * arb_mat(sl.B.T.tolist())
    return [[Wm[i, t] for t in range(Wm.ncols())] for i in range(Wm.nrows())]


def reduce_grad(sl: Slice, G: arb_mat) -> arb_mat:
    """Pᵀ G B flattened (n × 1)."""
    if not sl.identity:
        G = arb_mat(sl.P.T.tolist()) * G * arb_mat(sl.B.tolist())
    ent = G.entries()
    return arb_mat([[x] for x in ent])


def reduce_hessian(sl: Slice, H: arb_mat) -> arb_mat:
    if sl.identity:
        return H
    L = arb_mat(sl.L.tolist())
    return L.transpose() * H * L


@dataclass
class KrawczykResult:
    ok: bool
    excess: float          # max_i |K(X)_i − ỹ_i| / r  (< 1 certifies)
    residual: float        # upper bound of max |C F(ỹ)|
    box: BoxEval | None
    C: np.ndarray | None = None   # the preconditioner used (float inverse of the mid Hessian)
    gc: arb_mat | None = None     # the reduced gradient enclosure at the center


def krawczyk(sl: Slice, Y: np.ndarray, V: np.ndarray, r: float,
             C: np.ndarray | None = None, gc: arb_mat | None = None) -> KrawczykResult:
    """Test K(X) ⊂ int(X) for X = Y ± r (Y: (G, q) slice coordinates). Returns the box data.

    C (preconditioner) and gc (reduced center gradient) do not depend on r: pass those of an
    earlier call (e.g. the probe at r = 0, whose C is the inverse of the center's Hessian)."""
    Y = np.asarray(Y, dtype=np.float64)
    if gc is None:
        gc = reduce_grad(sl, grad_ball(W_box(sl, Y, 0.0), V))
    Wb = W_box(sl, Y, r)
    geo = geometry(Wb, V)
    H = hessian_ball(Wb, V, geo)
    Hr = reduce_hessian(sl, H)
    if C is None:
        Hm, _ = arb_mat_to_numpy(Hr)
        C = np.linalg.inv(Hm)
    n = Hr.nrows()
    Ca = arb_mat(C.tolist())
    Cg = Ca * gc
    Y1 = -(Ca * Hr)
    for i in range(n):
        Y1[i, i] += 1
    dx = arb_mat([[arb(0, r)] for _ in range(n)])
    Kx = -Cg + Y1 * dx
    ups = [x.abs_upper() for x in Kx.entries()]
    worst = max(float(u) for u in ups)
    resid = max(float(x.abs_upper()) for x in Cg.entries())
    # strict inclusion in the interior: every |K_i − ỹ_i| < r, compared in arb (no rounding)
    ok = r > 0 and all(u < r for u in ups)
    if ok and not sl.identity and sl.zero_modes > len(sl.groups) - (int(sl.groups.max()) + 1):
        # the orbit dimension c − 1 needs a nonzero out-of-plane coordinate at the zero
        ok = any(abs(Y[g, -1]) > r for g in range(Y.shape[0]))
    excess = worst / r if r > 0 else float("inf")
    return KrawczykResult(bool(ok), excess, resid, BoxEval(Wb, geo, H), C, gc)
