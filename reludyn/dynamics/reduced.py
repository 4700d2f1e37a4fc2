"""The paper's reduced dynamics in closed form.

Symmetric family (orthonormal teacher v_j = e_j, K = M = d):
    w_j = x e_j + y Σ_{k≠j} e_k,  j = 1..K.
Every row has norm n = √(x² + (K−1)y²); the angles are
    φ   = ∠(w_j, w_k), k ≠ j:   φ/2 = atan2(|x − y|, √((x + y)² + (2K − 4)y²)),
    θ_1 = ∠(w_j, e_j):          atan2(√(K−1)|y|, x),
    θ_2 = ∠(w_j, e_m), m ≠ j:   atan2(√(x² + (K−2)y²), y),
(written with atan2 so that coincident rows, x = y, are exact). Inserting them in
∇_{w_j}J = [π w_j + Σ_{k≠j}(π − φ) w_k − Σ_m (π − θ_jm) e_m + R e_j^w] / 2π,
R = Σ_{k≠j} n sin φ − Σ_m sin θ_jm, shows ∇J = g_x A + g_y B with A = I,
B = 11ᵀ − I, so the family is invariant and
    g_x = [π x + (K−1)(π − φ) y − (π − θ_1) + R x / n] / 2π,
    g_y = [π y + (π − φ)(x + (K−2)y) − (π − θ_2) + R y / n] / 2π,
    R   = (K−1) n sin φ − sin θ_1 − (K−1) sin θ_2.
The flow is (ẋ, ẏ) = −(g_x, g_y); GD is (x, y) ← (x, y) − η (g_x, g_y).

K = 1 (one ReLU), in the plane of w and w*: with r = ‖w‖, θ = ∠(w, w*), r* = ‖w*‖,
    ṙ = −r/2 + r* (sin θ + (π − θ) cos θ) / 2π,
    θ̇ = −r* (π − θ) sin θ / (2π r),
so θ decreases to 0 except on the ray θ = π, where r shrinks to 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landscape import hessian
from ..problem import symmetric_saddle_x
from ..validation import as_float_array, check_finite, positive_float, positive_int

TWO_PI = 2.0 * math.pi


def _family_K(K) -> int:
    K = positive_int(K, "K")
    if K < 2:
        raise ValueError("the symmetric family needs K >= 2 (for K = 1 use one_relu_field)")
    return K


def _arr(v, name: str) -> np.ndarray:
    """Validated float64 array keeping v's shape (0-d for a scalar)."""
    check_finite(as_float_array(v, name), name)
    return np.asarray(v, dtype=np.float64)


def _xy(x, y):
    x = _arr(x, "x")
    y = _arr(y, "y")
    try:
        return np.broadcast_arrays(x, y)
    except ValueError:
        raise ValueError(f"x and y must broadcast together, got shapes {x.shape} and {y.shape}") from None


def symmetric_gradient(x, y, K: int) -> tuple[np.ndarray, np.ndarray]:
    """(g_x, g_y): the gradient ∇J = g_x A + g_y B at the family point (x, y), any broadcast shape.

    At x = y = 0 (all rows zero) the gradient is defined as 0 (relu'(0) = 0).
    Returns float arrays (0-d for scalar input).
    """
    K = _family_K(K)
    x, y = _xy(x, y)
    n = np.sqrt(x * x + (K - 1) * y * y)
    half_phi = np.arctan2(np.abs(x - y), np.sqrt((x + y) ** 2 + (2 * K - 4) * y * y))
    phi = 2.0 * half_phi
    sin_phi = np.sin(phi)
    th1 = np.arctan2(math.sqrt(K - 1) * np.abs(y), x)
    th2 = np.arctan2(np.sqrt(x * x + (K - 2) * y * y), y)
    R = (K - 1) * n * sin_phi - np.sin(th1) - (K - 1) * np.sin(th2)
    alive = n > 0
    Rn = np.where(alive, R / np.where(alive, n, 1.0), 0.0)
    gx = (math.pi * x + (K - 1) * (math.pi - phi) * y - (math.pi - th1) + Rn * x) / TWO_PI
    gy = (math.pi * y + (math.pi - phi) * (x + (K - 2) * y) - (math.pi - th2) + Rn * y) / TWO_PI
    gx = np.where(alive, gx, 0.0)
    gy = np.where(alive, gy, 0.0)
    return gx, gy


def _gradient_scalar(x: float, y: float, K: int) -> tuple[float, float]:
    """:func:`symmetric_gradient` for Python floats (same formulas with ``math``; used by root finding)."""
    n = math.sqrt(x * x + (K - 1) * y * y)
    if n == 0.0:
        return 0.0, 0.0
    phi = 2.0 * math.atan2(abs(x - y), math.sqrt((x + y) ** 2 + (2 * K - 4) * y * y))
    th1 = math.atan2(math.sqrt(K - 1) * abs(y), x)
    th2 = math.atan2(math.sqrt(x * x + (K - 2) * y * y), y)
    Rn = ((K - 1) * n * math.sin(phi) - math.sin(th1) - (K - 1) * math.sin(th2)) / n
    gx = (math.pi * x + (K - 1) * (math.pi - phi) * y - (math.pi - th1) + Rn * x) / TWO_PI
    gy = (math.pi * y + (math.pi - phi) * (x + (K - 2) * y) - (math.pi - th2) + Rn * y) / TWO_PI
    return gx, gy


def symmetric_field(x, y, K: int) -> tuple[np.ndarray, np.ndarray]:
    """The gradient-flow field (ẋ, ẏ) = −(g_x, g_y) of the symmetric family (any broadcast shape)."""
    gx, gy = symmetric_gradient(x, y, K)
    return -gx, -gy


def symmetric_loss(x, y, K: int) -> np.ndarray:
    """J at the family point (x, y): ½Σκ(w_j, w_k) − Σκ(w_j, e_m) + ½Σκ(e_m, e_n)."""
    K = _family_K(K)
    x, y = _xy(x, y)
    n2 = x * x + (K - 1) * y * y
    n = np.sqrt(n2)
    phi = 2.0 * np.arctan2(np.abs(x - y), np.sqrt((x + y) ** 2 + (2 * K - 4) * y * y))
    th1 = np.arctan2(math.sqrt(K - 1) * np.abs(y), x)
    th2 = np.arctan2(np.sqrt(x * x + (K - 2) * y * y), y)

    def h(t):
        return np.sin(t) + (math.pi - t) * np.cos(t)

    ww = K * math.pi * n2 + K * (K - 1) * n2 * h(phi)
    wv = K * n * (h(th1) + (K - 1) * h(th2))
    vv = K * math.pi + K * (K - 1) * 1.0  # orthonormal teacher: h(π/2) = 1
    return (0.5 * ww - wv + 0.5 * vv) / TWO_PI


def symmetric_basis(K: int, d: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(A, B), each (K, d): W(x, y) = x A + y B, A = [I_K | 0], B = [11ᵀ − I_K | 0]."""
    K = _family_K(K)
    d = K if d is None else positive_int(d, "d")
    if d < K:
        raise ValueError(f"the symmetric family needs d >= K, got K = {K}, d = {d}")
    A = np.zeros((K, d))
    A[:, :K] = np.eye(K)
    B = np.zeros((K, d))
    B[:, :K] = 1.0 - np.eye(K)
    return A, B


def symmetric_jacobian(x: float, y: float, K: int) -> np.ndarray:
    """2x2 Jacobian ∂(ẋ, ẏ)/∂(x, y) of the reduced flow at (x, y).

    Computed from the analytic Hessian H of the full problem projected on the
    family: ∂g_x/∂x = ⟨A, HA⟩/K, ∂g_x/∂y = ⟨A, HB⟩/K, ∂g_y/∂· = ⟨B, H·⟩/(K(K−1))
    (A ⊥ B, ‖A‖² = K, ‖B‖² = K(K−1)). Needs n > 0.
    """
    K = _family_K(K)
    x = float(x)
    y = float(y)
    A, B = symmetric_basis(K)
    H = hessian(x * A + y * B, np.eye(K))
    a, b = A.ravel(), B.ravel()
    Ha, Hb = H @ a, H @ b
    Jg = np.array([[a @ Ha / K, a @ Hb / K],
                   [b @ Ha / (K * (K - 1)), b @ Hb / (K * (K - 1))]])
    return -Jg


@dataclass
class FixedPoint:
    """A fixed point of the reduced symmetric flow: (x, y), loss, 2x2 Jacobian of the flow,
    its eigenvalues (sorted by real part) and kind in {"sink", "saddle", "source", "degenerate"};
    ``label``: "global_min" for (1, 0), "global_min_permuted" for (0, 1) when K = 2,
    "symmetric_saddle" for x = y = x_s, "diagonal" for other points with x = y, else "";
    ``index``: number of negative eigenvalues of the full K×K Hessian of J at W(x, y)."""

    x: float
    y: float
    loss: float
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    kind: str
    label: str = ""
    index: int | None = None


def _classify(ev, tol=1e-9) -> str:
    re = np.real(ev)
    if np.any(np.abs(re) <= tol):
        return "degenerate"
    if np.all(re < 0):
        return "sink"
    if np.all(re > 0):
        return "source"
    return "saddle"


def symmetric_fixed_point(x: float, y: float, K: int) -> FixedPoint:
    """Describe the fixed point at (x, y) (not checked to be one; see :func:`symmetric_gradient`)."""
    Jf = symmetric_jacobian(x, y, K)
    ev = np.linalg.eigvals(Jf)
    ev = ev[np.argsort(np.real(ev))]
    if np.all(np.abs(np.imag(ev)) == 0):
        ev = np.real(ev)
    xs = symmetric_saddle_x(K)
    label = ""
    if abs(x - 1.0) < 1e-9 and abs(y) < 1e-9:
        label = "global_min"
    elif K == 2 and abs(x) < 1e-9 and abs(y - 1.0) < 1e-9:
        label = "global_min_permuted"
    elif abs(x - xs) < 1e-9 and abs(y - xs) < 1e-9:
        label = "symmetric_saddle"
    elif abs(x - y) < 1e-9:
        label = "diagonal"
    from .init import symmetric_point

    H = hessian(symmetric_point(K, x, y), np.eye(K))
    index = int(np.sum(np.linalg.eigvalsh(H) < -1e-9 * max(1.0, np.abs(H).max())))
    return FixedPoint(float(x), float(y), float(symmetric_loss(x, y, K)), Jf, ev, _classify(ev),
                      label, index)


def symmetric_fixed_points(K: int, *, box: tuple[float, float, float, float] = (-1.0, 2.0, -1.0, 2.0),
                           n_grid: int = 9, tol: float = 1e-12) -> list[FixedPoint]:
    """Fixed points of the reduced flow in the box (x_min, x_max, y_min, y_max), x = y = 0 excluded.

    Always contains the global minimum (1, 0) and the symmetric saddle
    x = y = x_s (:func:`reludyn.symmetric_saddle_x`); others are found by
    Newton-type root finding from an n_grid x n_grid grid of starts and kept
    when |g| < tol. Sorted by loss.
    """
    from scipy.optimize import root  # imported here: keeps `import reludyn` light

    K = _family_K(K)
    n_grid = positive_int(n_grid, "n_grid")
    tol = positive_float(tol, "tol")
    x0, x1, y0, y1 = (float(v) for v in box)
    xs = symmetric_saddle_x(K)
    found = [(1.0, 0.0), (xs, xs)]

    def F(z):
        return np.array(_gradient_scalar(float(z[0]), float(z[1]), K))

    for sx in np.linspace(x0, x1, n_grid):
        for sy in np.linspace(y0, y1, n_grid):
            sol = root(F, [sx, sy], method="hybr", options={"xtol": 1e-14})
            z = sol.x
            if not np.all(np.isfinite(z)) or np.hypot(*z) < 1e-6:
                continue
            if not (x0 <= z[0] <= x1 and y0 <= z[1] <= y1):
                continue
            if np.max(np.abs(F(z))) >= tol:
                continue
            if all(np.hypot(z[0] - a, z[1] - b) > 1e-7 for a, b in found):
                found.append((float(z[0]), float(z[1])))
    pts = [symmetric_fixed_point(a, b, K) for a, b in found]
    return sorted(pts, key=lambda p: p.loss)


def symmetric_gd(x0: float, y0: float, K: int, eta: float, n_steps: int) -> np.ndarray:
    """Gradient descent in the family: (n_steps + 1, 2) array of (x_t, y_t), t = 0..n_steps."""
    K = _family_K(K)
    eta = positive_float(eta, "eta")
    n_steps = positive_int(n_steps, "n_steps", minimum=0)
    out = np.empty((n_steps + 1, 2))
    x, y = float(x0), float(y0)
    for t in range(n_steps + 1):
        out[t] = x, y
        gx, gy = symmetric_gradient(x, y, K)
        x, y = x - eta * float(gx), y - eta * float(gy)
    return out


# --- K = 1 ----------------------------------------------------------------
def one_relu_field(r, theta, w_star_norm: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(ṙ, θ̇) of the one-ReLU gradient flow in the plane of w and w* (any broadcast shape).

    r = ‖w‖ > 0, θ = ∠(w, w*) in [0, π], w_star_norm = ‖w*‖.
    """
    r = _arr(r, "r")
    theta = _arr(theta, "theta")
    rs = positive_float(w_star_norm, "w_star_norm")
    if np.any(r <= 0):
        raise ValueError("r must be > 0 (the flow is not defined at w = 0)")
    if np.any((theta < 0) | (theta > math.pi)):
        raise ValueError("theta must lie in [0, π]")
    r, theta = np.broadcast_arrays(r, theta)
    dr = -0.5 * r + rs * (np.sin(theta) + (math.pi - theta) * np.cos(theta)) / TWO_PI
    dth = -rs * (math.pi - theta) * np.sin(theta) / (TWO_PI * r)
    return dr, dth


def one_relu_polar(w, w_star) -> tuple[float, float]:
    """(r, θ) = (‖w‖, ∠(w, w*)) of vectors w, w* (d,)."""
    w = as_float_array(w, "w").ravel()
    ws = as_float_array(w_star, "w_star").ravel()
    if w.shape != ws.shape:
        raise ValueError(f"w and w_star must have the same length, got {w.size} and {ws.size}")
    r = float(np.linalg.norm(w))
    rs = float(np.linalg.norm(ws))
    if r == 0 or rs == 0:
        raise ValueError("w and w_star must be nonzero")
    e, es = w / r, ws / rs
    c = float(e @ es)
    s = float(np.linalg.norm(es - c * e))
    return r, math.atan2(s, c)


def one_relu_point(r: float, theta: float, w_star) -> np.ndarray:
    """A vector w (d,) with ‖w‖ = r and ∠(w, w*) = θ, in the plane of w* and the next basis
    direction not parallel to w* (the flow is rotation invariant about w*)."""
    ws = as_float_array(w_star, "w_star").ravel()
    rs = float(np.linalg.norm(ws))
    if rs == 0 or ws.size < 2:
        raise ValueError("w_star must be nonzero with d >= 2")
    es = ws / rs
    k = int(np.argmin(np.abs(es)))
    u = np.zeros_like(es)
    u[k] = 1.0
    u -= (u @ es) * es
    u /= np.linalg.norm(u)
    return r * (math.cos(theta) * es + math.sin(theta) * u)
