"""A 2-D slice of the weight space R^{K×d} through three points: loss contours and the
projected gradient field, with catalogue points near the plane overlaid.

The plane is W(a, b) = P0 + a E1 + b E2 with E1, E2 Frobenius-orthonormal (Gram–Schmidt
of P1 − P0 and P2 − P0); the arrows show −(⟨∇J, E1⟩, ⟨∇J, E2⟩), the part of the
descent direction that lies in the plane (the flow itself generally leaves the plane).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landscape import loss_and_grad
from ..validation import as_float_array, check_finite, positive_float, positive_int
from .portraits import new_axes

KIND_STYLE = {
    "global_min": dict(marker="*", color="gold", ms=16),
    "spurious_min": dict(marker="o", color="tab:red", ms=10),
    "saddle": dict(marker="X", color="tab:orange", ms=10),
    "max": dict(marker="^", color="k", ms=9),
    "degenerate": dict(marker="P", color="tab:purple", ms=9),
    "nondifferentiable": dict(marker="D", color="0.4", ms=8),
}


@dataclass
class SlicePlane:
    """Origin P0 (K, d), orthonormal directions E1, E2 (K, d) and the plane coordinates
    (3, 2) of the three defining points."""

    P0: np.ndarray
    E1: np.ndarray
    E2: np.ndarray
    coords: np.ndarray

    def point(self, a, b) -> np.ndarray:
        """W(a, b); a, b scalars or equal-shape arrays -> (..., K, d)."""
        a = np.asarray(a, float)[..., None, None]
        b = np.asarray(b, float)[..., None, None]
        return self.P0 + a * self.E1 + b * self.E2

    def project(self, W) -> tuple[float, float, float]:
        """(a, b, distance of W from the plane) for W (K, d)."""
        D = np.asarray(W, float) - self.P0
        a, b = float(np.sum(D * self.E1)), float(np.sum(D * self.E2))
        return a, b, float(np.linalg.norm(D - a * self.E1 - b * self.E2))


def slice_plane(P0, P1, P2) -> SlicePlane:
    """The plane through three student points (each (K, d)); ValueError if they are collinear."""
    pts = []
    for i, P in enumerate((P0, P1, P2)):
        arr = as_float_array(P, f"P{i}")
        if arr.ndim != 2:
            raise ValueError(f"P{i} must be one (K, d) point, got shape {arr.shape}")
        check_finite(arr, f"P{i}")
        pts.append(arr)
    if not pts[0].shape == pts[1].shape == pts[2].shape:
        raise ValueError(f"the three points have different shapes {[p.shape for p in pts]}")
    P0, P1, P2 = pts
    D1, D2 = P1 - P0, P2 - P0
    n1 = np.linalg.norm(D1)
    scale = max(n1, np.linalg.norm(D2), 1e-300)
    if n1 <= 1e-12 * max(scale, np.linalg.norm(P0)):
        raise ValueError("P0 and P1 coincide: the three points do not span a plane")
    E1 = D1 / n1
    R = D2 - np.sum(D2 * E1) * E1
    n2 = np.linalg.norm(R)
    if n2 <= 1e-9 * scale:
        raise ValueError("the three points are collinear: they do not span a plane")
    E2 = R / n2
    coords = np.array([[0.0, 0.0], [n1, 0.0], [np.sum(D2 * E1), np.sum(D2 * E2)]])
    return SlicePlane(P0, E1, E2, coords)


def slice_values(problem, plane: SlicePlane, a, b):
    """Loss J (na, nb... shape of a) and in-plane gradient components over a grid of (a, b)."""
    W = plane.point(a, b)
    shape = W.shape[:-2]
    L, G = loss_and_grad(W.reshape(-1, *W.shape[-2:]), problem.V)
    G = G.reshape(*shape, *W.shape[-2:])
    ga = np.sum(G * plane.E1, axis=(-2, -1))
    gb = np.sum(G * plane.E2, axis=(-2, -1))
    return np.asarray(L).reshape(shape), ga, gb


def landscape_slice(problem, points, *, labels=None, catalogue=None, n: int = 81,
                    margin: float = 0.3, plane_tol: float = 1e-6, ax=None, log: bool = True):
    """Draw the slice of J through ``points`` = (P0, P1, P2), each (K, d).

    Filled contours of log10(J + floor) (``log``) or J; arrows of the in-plane descent
    direction; the three points labelled with ``labels``; catalogue entries whose
    distance from the plane is at most ``plane_tol`` (relative to the plane's scale)
    marked by kind. margin: extra border as a fraction of the points' extent.
    Returns (fig, ax, plane).
    """
    pts = list(points)
    if len(pts) != 3:
        raise ValueError(f"points must be three (K, d) arrays, got {len(pts)}")
    plane = slice_plane(*pts)
    if plane.P0.shape != (problem.K, problem.d):
        raise ValueError(f"points have shape {plane.P0.shape}, the problem needs "
                         f"(K, d) = ({problem.K}, {problem.d})")
    n = positive_int(n, "n", minimum=5)
    margin = positive_float(margin, "margin", allow_zero=True)
    labels = list(labels) if labels is not None else ["P0", "P1", "P2"]
    if len(labels) != 3:
        raise ValueError("labels must name the three points")
    c = plane.coords
    lo, hi = c.min(axis=0), c.max(axis=0)
    ext = max(float(np.max(hi - lo)), 1e-12)
    lo, hi = lo - margin * ext, hi + margin * ext
    ag, bg = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    A, B = np.meshgrid(ag, bg)
    L, ga, gb = slice_values(problem, plane, A, B)
    fig, ax = new_axes(ax, figsize=(6.4, 5.0))
    if log:
        floor = 1e-4 * max(float(L.max()), 1e-300)
        Z, zlab = np.log10(L + floor), f"log10(J + {floor:.1e})"
    else:
        Z, zlab = L, "J"
    cs = ax.contourf(A, B, Z, levels=30, cmap="viridis")
    ax.contour(A, B, Z, levels=15, colors="w", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label=zlab, shrink=0.8)
    step = max(1, n // 20)
    sl = (slice(None, None, step), slice(None, None, step))
    ax.quiver(A[sl], B[sl], -ga[sl], -gb[sl], color="w", alpha=0.8, angles="xy",
              pivot="mid", width=0.003)
    ax.streamplot(ag, bg, -ga, -gb, color=(1, 1, 1, 0.35), density=0.8, linewidth=0.6, arrowsize=0.6)
    if catalogue is not None:
        seen = set()
        for k, e in enumerate(catalogue.entries):
            a, b, dist = plane.project(e.W)
            if dist > plane_tol * max(ext, 1.0):
                continue
            if not (lo[0] <= a <= hi[0] and lo[1] <= b <= hi[1]):
                continue
            kind = str(getattr(e, "kind", "degenerate"))
            st = KIND_STYLE.get(kind, KIND_STYLE["degenerate"])
            ax.plot(a, b, ls="none", mec="k", zorder=6, label=None if kind in seen else kind, **st)
            seen.add(kind)
            ax.annotate(str(k), (a, b), textcoords="offset points", xytext=(5, -10),
                        fontsize=7, color="w")
    mid = (lo[0] + hi[0]) / 2
    for k, ((a, b), lab) in enumerate(zip(c, labels)):
        ax.plot(a, b, "w+", ms=12, mew=2, zorder=7)
        right = a > mid  # keep labels inside the axes; P1 below so P0/P1 labels do not collide
        ax.annotate(lab, (a, b), textcoords="offset points",
                    xytext=(-6 if right else 6, -16 if k == 1 else 7),
                    ha="right" if right else "left", color="w", fontsize=8, weight="bold")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("a (along P1 − P0, Frobenius units)")
    ax.set_ylabel("b (orthogonal, in the plane)")
    ax.set_title(f"slice of J, K = {problem.K}, M = {problem.M}, d = {problem.d}", fontsize=10)
    if catalogue is not None and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")
    return fig, ax, plane
