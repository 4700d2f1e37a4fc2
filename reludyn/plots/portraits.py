"""Phase portraits: the symmetric (x, y) system of an orthonormal teacher, and the K = 1 plane.

Symmetric family (paper, claim 6): teacher V = I_K, student rows w_j = x e_j + y Σ_{k≠j} e_k,
i.e. W = x A + y B with A = I, B = 11ᵀ − I. Gradient flow dW/dt = −∇J keeps W in
span{A, B}, so −∇J(W) = a A + b B and the reduced flow is (dx/dt, dy/dt) = (a, b): the mean
of the diagonal and of the off-diagonal entries of −∇J (the orthogonal projection).
All figures are built on ``matplotlib.figure.Figure`` (no pyplot state).
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ..dynamics.init import symmetric_point
from ..dynamics.reduced import FixedPoint, symmetric_field, symmetric_fixed_points
from ..landscape import grad
from ..problem import symmetric_saddle_x
from ..validation import as_float_array, check_finite, positive_int

STYLE = {  # 2-D type -> marker style
    "sink": dict(marker="o", color="tab:green", label="sink (stable)"),
    "saddle": dict(marker="X", color="tab:orange", label="saddle"),
    "source": dict(marker="s", color="tab:red", label="source"),
    "nondifferentiable": dict(marker="D", color="0.4", label="nondifferentiable (W = 0)"),
    "degenerate": dict(marker="P", color="tab:purple", label="degenerate"),
}


def new_axes(ax=None, figsize=(6.0, 5.0)):
    """(fig, ax): the given axes and its figure, or a fresh Agg figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def projected_symmetric_field(x, y, K: int) -> tuple[np.ndarray, np.ndarray]:
    """The reduced flow by projection: −∇J of the full problem at W = x A + y B, averaged
    over the diagonal (dx/dt) and the off-diagonal (dy/dt) entries.

    x, y: arrays of equal shape (or scalars). Teacher V = I_K. The origin (all rows zero)
    is not differentiable; the core defines ∇J = 0 there, so it shows as a rest point.
    """
    K = positive_int(K, "K")
    shape = np.shape(x)  # as_float_array turns 0-d into 1-d; keep the caller's shape
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    check_finite(x, "x")
    check_finite(y, "y")
    xs, ys = x.ravel(), y.ravel()
    W = np.repeat(ys[:, None, None], K, axis=1).repeat(K, axis=2)
    idx = np.arange(K)
    W[:, idx, idx] = xs[:, None]
    G = grad(W, np.eye(K))
    diag = np.einsum("bjj->b", G) / K
    off = (G.sum(axis=(1, 2)) - diag * K) / (K * (K - 1)) if K > 1 else np.zeros_like(diag)
    return (-diag).reshape(shape), (-off).reshape(shape)


def integrate_2d(field, start, t_max: float = 200.0, n: int = 400) -> np.ndarray:
    """Trajectory (n, 2) of dz/dt = field(z) from ``start`` over [0, t_max] (RK45, tight tolerances)."""
    sol = solve_ivp(lambda t, z: field(z), (0.0, float(t_max)), np.asarray(start, float),
                    t_eval=np.concatenate([[0.0], np.geomspace(1e-3, float(t_max), n - 1)]),
                    rtol=1e-9, atol=1e-12)
    return sol.y.T


def _grid(xlim, ylim, n):
    xg = np.linspace(*xlim, n)
    yg = np.linspace(*ylim, n)
    return xg, yg, *np.meshgrid(xg, yg)


def _mark(ax, pts, labelled):
    for fp in pts:
        st = STYLE[fp.kind]
        lab = st["label"] if fp.kind not in labelled else None
        labelled.add(fp.kind)
        ax.plot(fp.x, fp.y, ls="none", marker=st["marker"], color=st["color"], ms=9,
                mec="k", zorder=5, label=lab)
        if fp.index is not None:
            ax.annotate(f"idx {fp.index}", (fp.x, fp.y), textcoords="offset points",
                        xytext=(6, 6), fontsize=8)


def symmetric_portrait(K: int, *, xlim=(-1.0, 1.3), ylim=(-0.4, 0.8), n: int = 60,
                       trajectories=((0.001, 0.0),), t_max: float = 200.0, ax=None,
                       nullclines: bool = True):
    """Phase portrait of the symmetric (x, y) system for width K (teacher I_K).

    Streamlines of the reduced flow coloured by speed, nullclines dx/dt = 0 and
    dy/dt = 0, rest points marked by 2-D type and labelled with the full-space Hessian
    index, the diagonal x = y, the line through (1, 0) and (x_s, x_s), and trajectories
    from the given starts. Returns (fig, ax, fixed_points).
    """
    K = positive_int(K, "K")
    if K < 2:
        raise ValueError("the symmetric (x, y) family needs K >= 2 (use one_relu_portrait for K = 1)")
    n = positive_int(n, "n", minimum=5)
    fig, ax = new_axes(ax)
    xg, yg, X, Y = _grid(xlim, ylim, n)
    U, Vv = symmetric_field(X, Y, K)
    speed = np.hypot(U, Vv)
    ax.streamplot(xg, yg, U, Vv, color=np.log10(speed + 1e-12), cmap="Blues", density=1.2,
                  linewidth=0.7, arrowsize=0.8)
    if nullclines:
        ax.contour(X, Y, U, levels=[0.0], colors="tab:blue", linewidths=1.2, linestyles="--")
        ax.contour(X, Y, Vv, levels=[0.0], colors="tab:purple", linewidths=1.2, linestyles=":")
        ax.plot([], [], "--", color="tab:blue", label="dx/dt = 0")
        ax.plot([], [], ":", color="tab:purple", label="dy/dt = 0")
    lo, hi = max(xlim[0], ylim[0]), min(xlim[1], ylim[1])
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, label="x = y")
    xs = symmetric_saddle_x(K)
    t = np.linspace(-0.5, 1.5, 2)
    ax.plot(1 + t * (xs - 1), t * xs, color="0.3", lw=0.8, ls="-.", label="(1,0)–(x_s,x_s)")
    ax.set_xlim(*xlim)  # keep the box: lines above may extend past it

    def f2(z):
        u, v = symmetric_field(np.array([z[0]]), np.array([z[1]]), K)
        return [u[0], v[0]]

    for i, s in enumerate(trajectories or ()):
        tr = integrate_2d(f2, s, t_max)
        ax.plot(tr[:, 0], tr[:, 1], color="k", lw=1.6, label="trajectory" if i == 0 else None)
        ax.plot(*tr[0], "k.", ms=6)
    pts = symmetric_fixed_points(K, box=(*xlim, *ylim), n_grid=15)
    _mark(ax, pts, set())
    # W = 0 (every row dead) is a rest point of the flow where J is not differentiable
    st = STYLE["nondifferentiable"]
    ax.plot(0.0, 0.0, ls="none", marker=st["marker"], color=st["color"], ms=9, mec="k",
            zorder=5, label=st["label"])
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x (own teacher direction)")
    ax.set_ylabel("y (other directions)")
    ax.set_title(f"symmetric family, K = {K}, teacher I_K; x_s = {xs:.4f}\n"
                 "(idx: Hessian index of J in the full K×K space)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return fig, ax, pts


def one_relu_field(X, Y, w_star) -> tuple[np.ndarray, np.ndarray]:
    """−∇J over the plane for K = M = 1, d = 2 (teacher row ``w_star``), elementwise in X, Y."""
    X = as_float_array(X, "X")
    Y = as_float_array(Y, "Y")
    W = np.stack([X.ravel(), Y.ravel()], axis=1)[:, None, :]
    G = grad(W, np.asarray(w_star, float).reshape(1, 2))
    return -G[:, 0, 0].reshape(X.shape), -G[:, 0, 1].reshape(X.shape)


def one_relu_portrait(w_star=(1.0, 0.0), *, lim: float = 2.0, n: int = 60,
                      trajectories=((-1.5, 0.3), (-0.5, -1.5), (0.3, 1.6)), t_max: float = 100.0,
                      ax=None):
    """The K = 1 plane: streamlines of −∇J for one ReLU (d = 2), the teacher w*, and the
    paper's region Ω = {w : ‖w − w*‖ < ‖w*‖} (claim 5) where GD provably converges.
    Returns (fig, ax)."""
    ws = as_float_array(w_star, "w_star").ravel()
    if ws.shape != (2,) or not np.all(np.isfinite(ws)) or not np.any(ws):
        raise ValueError(f"w_star must be a finite nonzero 2-vector, got {w_star!r}")
    n = positive_int(n, "n", minimum=5)
    fig, ax = new_axes(ax, figsize=(5.5, 5.0))
    xg, yg, X, Y = _grid((-lim, lim), (-lim, lim), n)
    U, Vv = one_relu_field(X, Y, ws)
    ax.streamplot(xg, yg, U, Vv, color=np.log10(np.hypot(U, Vv) + 1e-12), cmap="Blues",
                  density=1.3, linewidth=0.7, arrowsize=0.8)
    r = np.linalg.norm(ws)
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ws[0] + r * np.cos(th), ws[1] + r * np.sin(th), color="tab:green", lw=1.2,
            label="Ω: ‖w − w*‖ < ‖w*‖")

    Vt = ws.reshape(1, 2)

    def f2(z):  # one point: the serial kernel, not the batch kernel's thread launch
        return -grad(np.asarray(z, float).reshape(1, 2), Vt)[0]

    for i, s in enumerate(trajectories or ()):
        tr = integrate_2d(f2, s, t_max)
        ax.plot(tr[:, 0], tr[:, 1], "k", lw=1.4, label="trajectory" if i == 0 else None)
        ax.plot(*tr[0], "k.", ms=6)
    ax.plot(*ws, ls="none", **{k: v for k, v in STYLE["sink"].items() if k != "label"},
            ms=10, mec="k", label="w* (global min)")
    ax.plot(0, 0, ls="none", **{k: v for k, v in STYLE["nondifferentiable"].items() if k != "label"},
            ms=8, mec="k", label="w = 0 (nondifferentiable)")
    ax.set_aspect("equal")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("w[0]")
    ax.set_ylabel("w[1]")
    ax.set_title("one ReLU (K = M = 1), d = 2")
    ax.legend(fontsize=7, loc="lower left")
    return fig, ax
