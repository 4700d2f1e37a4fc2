"""Classification of a critical point from its Hessian spectrum and geometry.

Types: ``global_min`` (J ≈ 0, which is the global minimum since J >= 0),
``spurious_min`` (index 0, J > 0, no unexplained zero modes), ``saddle`` (negative
and positive eigenvalues), ``max`` (all eigenvalues negative up to the symmetry
zero modes), ``degenerate`` (zero modes beyond those of the continuous symmetry
where the second-order test is inconclusive), ``nondifferentiable`` (a dead row).

At a point with dead rows the Hessian of J does not exist; the index and nullity
reported are those of the Hessian of the live rows alone (the narrower student,
whose critical point this is), and the type is ``nondifferentiable``.
"""
from __future__ import annotations

import numpy as np

from ..landscape import unchecked
from .symmetry import SymmetryContext, orbit_size, symmetry_summary, symmetry_zero_modes

KINDS = ("global_min", "spurious_min", "saddle", "max", "degenerate", "nondifferentiable")

try:  # the paper's normal equation (reludyn.paper, written by the lead)
    from ..paper import normal_equation as _normal_equation
    from ..paper import normal_equation_residual as _normal_equation_residual
except ImportError:  # pragma: no cover - only while paper.py is missing
    _normal_equation = _normal_equation_residual = None


def hessian_spectrum(W: np.ndarray, V: np.ndarray, live) -> np.ndarray:
    """Ascending eigenvalues of the Hessian of J restricted to the rows ``live`` of W."""
    Wl = np.ascontiguousarray(W[live])
    n = Wl.size
    if n == 0:
        return np.zeros(0)
    H = unchecked.hessian(Wl, unchecked.teacher(V))
    H = 0.5 * (H + H.T)
    return np.linalg.eigvalsh(H)


def index_nullity(eig: np.ndarray, rtol: float, mult: np.ndarray | None = None) -> tuple[int, int]:
    """(Morse index, nullity) of a spectrum ``eig``: |λ| <= rtol·max|λ| counts as zero; with
    ``mult``, each eigenvalue counts that many times (isotypic spectra)."""
    eig = np.asarray(eig, dtype=float)
    mult = np.ones(eig.size, dtype=np.int64) if mult is None else np.asarray(mult)
    scale = float(np.max(np.abs(eig))) if eig.size else 0.0
    zero = np.abs(eig) <= rtol * max(scale, 1e-300)
    return int(mult[(eig < 0) & ~zero].sum()), int(mult[zero].sum())


def row_pairs(W: np.ndarray, tol: float = 5e-9) -> tuple[list, list]:
    """(coincident, opposite): pairs [j, k], j < k, of live rows with cos ∠ >= 1 − tol
    (coincident) or cos ∠ <= −1 + tol (opposite)."""
    n = np.linalg.norm(W, axis=1)
    live = np.flatnonzero(n > 0)
    E = np.zeros_like(W)
    E[live] = W[live] / n[live, None]
    co, op = [], []
    for a, j in enumerate(live):
        for k in live[a + 1:]:
            c = float(E[j] @ E[k])
            if c >= 1 - tol:
                co.append([int(j), int(k)])
            elif c <= -1 + tol:
                op.append([int(j), int(k)])
    return co, op


def _signs(x) -> list:
    return [None if not np.isfinite(v) else int(np.sign(v)) for v in np.asarray(x, float)]


def _finite_or_none(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _normal_equation_info(W, V, live) -> dict:
    """Normal-equation residual max |M‖w‖ − M*‖w*‖| and, for K = 2, the signs of L_12, L_21."""
    out = {"normal_residual": None, "L_signs": None}
    if _normal_equation is None or len(live) != W.shape[0]:
        return out  # undefined directions at dead rows
    try:
        res = _normal_equation_residual(W, V)
        out["normal_residual"] = float(np.max(np.abs(res)))
        if W.shape[0] == 2:
            ne = _normal_equation(W, V)
            nv = np.linalg.norm(V, axis=1)
            # Σ_k L_jj'(e*_k)‖w*_k‖ for (j, j') = (1, 2), (2, 1); sign of each teacher term
            # per teacher row; None where L is undefined (M_r singular, e.g. coincident rows)
            out["L_signs"] = {
                "L12": _signs(ne.L_row(0, 1)),
                "L21": _signs(ne.L_row(1, 0)),
                "L12_sum": _finite_or_none(ne.L_row(0, 1) @ nv),
                "L21_sum": _finite_or_none(ne.L_row(1, 0) @ nv),
            }
    except (ValueError, np.linalg.LinAlgError):
        pass
    return out


def kind_of(index: int, n_pos: int, unexplained: int, zero_loss: bool, dead: bool) -> str:
    """The type of a critical point from its spectrum counts (see the module doc)."""
    if dead:
        return "nondifferentiable"
    if zero_loss:
        return "global_min"  # J >= 0 everywhere, so J = 0 is a global minimum
    if index > 0 and n_pos > 0:
        return "saddle"  # a negative and a positive direction: conclusive
    if unexplained > 0:
        return "degenerate"  # second-order test inconclusive
    return "spurious_min" if index == 0 else "max"


def classify(W: np.ndarray, V: np.ndarray, *, ctx: SymmetryContext | None = None,
             null_rtol: float = 1e-7, global_atol: float = 1e-12,
             plane_tol: float = 1e-7, pair_tol: float = 5e-9) -> dict:
    """Everything stored with a catalogue entry about the critical point W (K, d).

    ``null_rtol``: eigenvalues with |λ| <= null_rtol·max|λ| count as zero.
    ``global_atol``: J <= global_atol·(teacher energy) counts as the global minimum.
    ``plane_tol``: rows farther than plane_tol·scale from span(V) make the point out-of-plane.
    Returns a dict with keys loss, eigenvalues, index, nullity, symmetry_zero_modes,
    unexplained_zero_modes, kind, in_plane, plane_distance, dead_rows, coincident_pairs,
    opposite_pairs, normal_residual, L_signs, orbit_size, symmetry.
    """
    W = np.ascontiguousarray(W, dtype=np.float64)
    V = unchecked.teacher(V)
    ctx = SymmetryContext(V) if ctx is None else ctx
    norms = np.linalg.norm(W, axis=1)
    live = np.flatnonzero(norms > 0).tolist()
    dead = [j for j in range(W.shape[0]) if j not in live]
    te = unchecked.teacher_energy(V)
    loss = unchecked.loss(W, V)
    eig = hessian_spectrum(W, V, live)
    index, nullity = index_nullity(eig, null_rtol)
    n_pos = int(eig.size - index - nullity)
    zm = symmetry_zero_modes(W[live], ctx) if live else 0
    unexplained = max(nullity - zm, 0)
    scale = max(float(np.max(np.linalg.norm(V, axis=1))), 1e-300)
    _, out = ctx.plane_parts(W)
    plane_distance = float(np.max(np.linalg.norm(out, axis=1))) if out.size else 0.0
    in_plane = plane_distance <= plane_tol * scale
    kind = kind_of(index, n_pos, unexplained, loss <= global_atol * te, bool(dead))
    co, op = row_pairs(W, pair_tol)
    info = {
        "loss": loss,
        "eigenvalues": eig,
        "index": index,
        "nullity": nullity,
        "symmetry_zero_modes": int(zm),
        "unexplained_zero_modes": int(unexplained),
        "kind": kind,
        "in_plane": bool(in_plane),
        "plane_distance": plane_distance,
        "dead_rows": dead,
        "coincident_pairs": co,
        "opposite_pairs": op,
        "orbit_size": orbit_size(W, ctx),
        "symmetry": symmetry_summary(W, ctx) if ctx.full_teacher_symmetry else None,
    }
    info.update(_normal_equation_info(W, V, live))
    return info
