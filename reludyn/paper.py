"""The paper's own quantities: gating expectation, angle matrices, normal equation.

Tian (2017), section 3: projecting the gradient of row j onto each student
direction e_j' gives equations linear in the row norms,

    M ‖w‖ = M* ‖w*‖,   M_(j,j'),k  = (π − θ_jk) cos θ_j'k + sin θ_jk cos θ_jj',
                       M*_(j,j'),m = (π − θ*_jm) cos θ*_j'm + sin θ*_jm cos θ_jj',

with θ_jk = ∠(w_j, w_k) and θ*_jm = ∠(w_j, v_m). Exactly,
(M‖w‖ − M*‖w*‖)_(j,j') = 2π e_j'ᵀ ∇_{w_j} J, so it vanishes at critical points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landscape import unchecked
from .validation import as_float_array, check_finite, student_weights, teacher_matrix


def _unit(x, name):
    x = as_float_array(x, name)
    check_finite(x, name)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(n == 0):
        raise ValueError(f"{name} contains a zero vector: its direction is undefined")
    return x / n


def gating_expectation(e, w) -> np.ndarray:
    """E[x 1(eᵀx > 0) 1(wᵀx > 0) wᵀx] = ((π − θ) w + ‖w‖ sin θ e)/(2π), x ~ N(0, I_d).

    e: (d,) direction (normalized here; must be nonzero); w: (d,) vector. Returns (d,).
    This is ∂κ(u, w)/∂u at u = e, the building block of the gradient.
    """
    e = _unit(e, "e")
    w = as_float_array(w, "w")
    check_finite(w, "w")
    if e.ndim != 1 or w.shape != e.shape:
        raise ValueError(f"e and w must be vectors of the same length, got {e.shape} and {w.shape}")
    nw = np.linalg.norm(w)
    if nw == 0:
        return np.zeros_like(w)
    c, s, th = _cos_sin_angle(e[None], w[None] / nw)
    return ((np.pi - th[0, 0]) * w + nw * s[0, 0] * e) / (2 * np.pi)


def _cos_sin_angle(A, B):
    """cos, sin, angle between unit rows of A (n, d) and B (m, d), accurate near 0 and π."""
    c = np.clip(A @ B.T, -1.0, 1.0)
    # |b − c a| is sin θ without the cancellation of sqrt(1 − c²)
    q = B[None, :, :] - c[:, :, None] * A[:, None, :]
    s = np.linalg.norm(q, axis=-1)
    return c, s, np.arctan2(s, c)


def angle_matrices(W, V) -> tuple[np.ndarray, np.ndarray]:
    """(θ_WW (K, K), θ_WV (K, M)) in radians, from the kernels' accurate geometry.

    Angles involving a zero row are reported as NaN (undefined direction).
    """
    V = teacher_matrix(V)
    Ws, batch = student_weights(W, V.shape[1])
    if batch:
        raise ValueError("angle_matrices takes a single W of shape (K, d)")
    W = Ws[0]
    K = W.shape[0]
    nrm, _, _, _, T = unchecked.geometry(W, V)
    tww = T[:, :K].copy()
    twv = T[:, K:].copy()
    dead = nrm[:K] == 0
    tww[dead, :] = np.nan
    tww[:, dead] = np.nan
    twv[dead, :] = np.nan
    return tww, twv


@dataclass
class NormalEquation:
    """The normal-equation matrices of one student W (K, d) against teacher rows V (M, d).

    M: (K·K, K) and Mstar: (K·K, M), rows ordered by (j, j') row-major.
    M_r, Mstar_r: the K rows with j = j'; M_off, Mstar_off: the K(K−1) others,
    in the order of ``pairs``. L = Mstar_off − M_off M_r⁻¹ Mstar_r: (K(K−1), M),
    NaN when M_r is singular (condition number above 1e12).
    """

    M: np.ndarray
    Mstar: np.ndarray
    M_r: np.ndarray
    M_off: np.ndarray
    Mstar_r: np.ndarray
    Mstar_off: np.ndarray
    L: np.ndarray
    pairs: list[tuple[int, int]]

    def L_row(self, j: int, jp: int) -> np.ndarray:
        """L_jj' as a function of the teacher rows: (M,)."""
        return self.L[self.pairs.index((j, jp))]


def normal_equation(W, V) -> NormalEquation:
    """Build M, M*, and L for student W (K, d) (only directions matter) and teacher V (M, d)."""
    V = teacher_matrix(V)
    Ws, batch = student_weights(W, V.shape[1])
    if batch:
        raise ValueError("normal_equation takes a single W of shape (K, d)")
    E = _unit(Ws[0], "W rows")
    Es = V / np.linalg.norm(V, axis=1, keepdims=True)
    K = E.shape[0]
    cww, sww, tww = _cos_sin_angle(E, E)
    cwv, swv, twv = _cos_sin_angle(E, Es)
    # M[j, j', k] = (π − θ_jk) cos θ_j'k + sin θ_jk cos θ_jj'
    Mfull = (np.pi - tww)[:, None, :] * cww[None, :, :] + sww[:, None, :] * cww[:, :, None]
    Msfull = (np.pi - twv)[:, None, :] * cwv[None, :, :] + swv[:, None, :] * cww[:, :, None]
    diag = [(j, j) for j in range(K)]
    pairs = [(j, jp) for j in range(K) for jp in range(K) if j != jp]
    M_r = np.array([Mfull[j, jp] for j, jp in diag])
    Ms_r = np.array([Msfull[j, jp] for j, jp in diag])
    M_off = np.array([Mfull[j, jp] for j, jp in pairs]).reshape(len(pairs), K)
    Ms_off = np.array([Msfull[j, jp] for j, jp in pairs]).reshape(len(pairs), V.shape[0])
    if np.linalg.cond(M_r) > 1e12:
        L = np.full_like(Ms_off, np.nan)
    else:
        L = Ms_off - M_off @ np.linalg.solve(M_r, Ms_r)
    return NormalEquation(Mfull.reshape(K * K, K), Msfull.reshape(K * K, -1), M_r, M_off,
                          Ms_r, Ms_off, L, pairs)


def normal_equation_residual(W, V) -> np.ndarray:
    """M‖w‖ − M*‖w*‖, (K·K,), rows (j, j'); equals 2π e_j'ᵀ ∇_{w_j} J and is 0 at critical points."""
    ne = normal_equation(W, V)
    W = np.asarray(W, dtype=float)
    V = np.asarray(V, dtype=float)
    return ne.M @ np.linalg.norm(W, axis=1) - ne.Mstar @ np.linalg.norm(V, axis=1)


def L_function(student_dirs, teacher_dirs) -> dict[tuple[int, int], np.ndarray]:
    """L_jj' evaluated at each unit teacher direction: {(j, j'): (n,)}.

    student_dirs: (K, d) student directions; teacher_dirs: (n, d) teacher directions
    (each treated as a unit-norm teacher row, as in the paper's L-function figures).
    A critical point with teacher rows along these directions needs
    Σ_k L_jj'(e*_k) ‖w*_k‖ = 0, so a sign shared by all teacher rows rules one out.
    """
    T = _unit(teacher_dirs, "teacher_dirs")
    if T.ndim != 2:
        raise ValueError(f"teacher_dirs must have shape (n, d), got {T.shape}")
    ne = normal_equation(student_dirs, T)
    return {p: ne.L[i] for i, p in enumerate(ne.pairs)}
