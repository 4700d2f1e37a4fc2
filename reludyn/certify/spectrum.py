"""Rigorous enclosure of the eigenvalues of every Hessian in a ball matrix.

Q, Λ = float eigendecomposition of the midpoint. For any symmetric A in the ball
matrix 𝐇, B = Qᵀ A Q lies in the ball matrix Qᵀ 𝐇 Q (arb), and
‖B − diag Λ‖₂ <= ‖B − diag Λ‖_F <= δ (an arb upper bound), so by Weyl the i-th
smallest eigenvalue of B lies in [Λ_i − δ, Λ_i + δ] (Λ sorted). Q is orthogonal only
up to rounding: with η >= ‖QᵀQ − I‖_F (arb) < 1, Ostrowski's theorem gives
λ_i(B) = θ_i λ_i(A) with θ_i ∈ [1 − η, 1 + η], hence λ_i(A) ∈ λ_i(B) / [1 − η, 1 + η].
"""
from __future__ import annotations

import math

import numpy as np
from flint import arb, arb_mat

from .balls import arb_mat_to_numpy


def _frobenius_upper(A: arb_mat) -> arb:
    acc = arb(0)
    for x in A.entries():
        u = x.abs_upper()
        acc += u * u
    return acc.sqrt()


def eigenvalue_enclosures(H: arb_mat) -> list:
    """[(lo, hi)] floats (outward-rounded), ascending, enclosing the eigenvalues of every
    symmetric matrix in the ball matrix H."""
    Hm, _ = arb_mat_to_numpy(H)
    Hm = 0.5 * (Hm + Hm.T)
    lam, Q = np.linalg.eigh(Hm)
    Qa = arb_mat(Q.tolist())
    Qt = Qa.transpose()
    B = Qt * H * Qa
    n = len(lam)
    for i in range(n):
        B[i, i] -= float(lam[i])
    delta = _frobenius_upper(B)
    O = Qt * Qa
    for i in range(n):
        O[i, i] -= 1
    eta = _frobenius_upper(O)
    if not eta < 1:
        raise ArithmeticError("eigenvector basis too far from orthogonal")
    theta = arb(1, math.nextafter(float(eta.upper()), math.inf))  # ⊇ [1 − η, 1 + η]
    out = []
    for i in range(n):
        lb = arb(float(lam[i])) + delta * arb(0, 1)
        lo_b, hi_b = lb.lower(), lb.upper()
        # λ(A) = λ(B)/θ: the extreme values come from the interval endpoints
        cands = [lo_b / theta, hi_b / theta]
        lo = min(float(c.lower()) for c in cands)
        hi = max(float(c.upper()) for c in cands)
        out.append((math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)))
    return out


def morse_count(enc: list, zero_modes: int) -> tuple[int | None, str]:
    """(index, status) from eigenvalue enclosures and the number of exact zero modes.

    At least ``zero_modes`` eigenvalues are exactly 0 (symmetry); if exactly that many
    enclosures contain 0, those are the zeros and every other sign is certified.
    """
    neg = sum(1 for lo, hi in enc if hi < 0)
    containing = sum(1 for lo, hi in enc if lo <= 0 <= hi)
    if containing == zero_modes:
        return neg, "decided"
    if containing > zero_modes:
        return None, (f"undecided: {containing} eigenvalue enclosures contain 0 "
                      f"(symmetry explains {zero_modes})")
    return None, (f"inconsistent: only {containing} enclosures contain 0 but symmetry forces "
                  f"{zero_modes} zero modes")
