"""Families of critical points followed in K inside fixed-point subspaces (V = I_K, d = K).

A family is a critical point of isotropy Δ(S_{K−q}×S_{p2}×…) whose largest block
grows with K while the others stay fixed (pattern "K-1,1", "K", "K-2,1,1").  At
every K the point is found by Newton in the reduced coordinates
(:func:`~reludyn.critical.fixedpoint.solve_reduced`, O(1) in K) from a linear
extrapolation of the two previous parameter vectors, and its full Hessian
spectrum comes from the isotypic decomposition
(:func:`~reludyn.critical.isotypic.isotypic_spectrum`, O(K²) per K, never the
(K²)² matrix).  K·J(K) is fitted by a power series in 1/√K (Arjevani & Field).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .fixedpoint import BlockStructure, ReducedSolveSettings, parse_blocks, solve_reduced
from .isotypic import isotypic_spectrum, morse_index, spectrum_with_multiplicities


@dataclass(frozen=True)
class FamilySettings:
    """``solve``: reduced Newton settings; ``null_rtol``: zero eigenvalue threshold;
    ``max_jump``: a continuation step moving θ by more than this (max entry, relative to
    max(1, |θ|)) counts as a jump to another branch and stops the family."""

    solve: ReducedSolveSettings = ReducedSolveSettings()
    null_rtol: float = 1e-7
    max_jump: float = 0.5


def pattern_blocks(pattern: str, K: int) -> tuple[int, ...]:
    """Block sizes of ``pattern`` (e.g. "K-1,1") at K, ValueError when it does not parse."""
    return parse_blocks(pattern, K)


def pattern_of(blocks) -> str:
    """The growing pattern of a block tuple: the largest block becomes "K-<rest>"."""
    blocks = tuple(int(b) for b in blocks)
    i = int(np.argmax(blocks))
    rest = sum(blocks) - blocks[i]
    toks = [str(b) for b in blocks]
    toks[i] = "K" if rest == 0 else f"K-{rest}"
    return ",".join(toks)


@dataclass
class FamilyPoint:
    """The family at one K: parameters θ, loss, ‖∇J‖ (max entry), spectrum summary."""

    K: int
    theta: np.ndarray
    loss: float
    grad_norm: float
    lambda_min: float
    index: int
    nullity: int
    eigenvalues: np.ndarray        # distinct eigenvalues, ascending
    multiplicities: np.ndarray     # their multiplicities (sum K²)

    def to_dict(self) -> dict:
        return {"K": self.K, "theta": self.theta.tolist(), "loss": self.loss,
                "grad_norm": self.grad_norm, "lambda_min": self.lambda_min,
                "index": self.index, "nullity": self.nullity,
                "eigenvalues": self.eigenvalues.tolist(),
                "multiplicities": self.multiplicities.tolist()}


@dataclass
class Family:
    """A followed family: ``pattern``, ``points`` (ascending K), ``stopped`` (reason or None)."""

    pattern: str
    points: list = field(default_factory=list)
    stopped: str | None = None

    @property
    def K(self) -> np.ndarray:
        return np.array([p.K for p in self.points])

    @property
    def loss(self) -> np.ndarray:
        return np.array([p.loss for p in self.points])

    @property
    def lambda_min(self) -> np.ndarray:
        return np.array([p.lambda_min for p in self.points])

    @property
    def index(self) -> np.ndarray:
        return np.array([p.index for p in self.points])

    def index_changes(self) -> list[dict]:
        """Consecutive followed K where the Morse index changes (e.g. saddle → minimum)."""
        out = []
        for a, b in zip(self.points, self.points[1:]):
            if a.index != b.index:
                out.append({"K_from": a.K, "K_to": b.K, "index_from": a.index, "index_to": b.index})
        return out

    def first_minimum_K(self) -> int | None:
        """Smallest K from which on the point is a minimum (index 0) for every followed K."""
        idx = self.index
        if len(idx) == 0 or idx[-1] != 0:
            return None
        k = len(idx) - 1
        while k > 0 and idx[k - 1] == 0:
            k -= 1
        return int(self.K[k])

    def decays_like_1_over_K(self) -> bool:
        """Whether K·J varies less than J over the upper half of the followed K (log scale)."""
        K, J = self.K, self.loss
        m = len(K) // 2
        return bool(abs(np.log(K[-1] * J[-1] / (K[m] * J[m]))) < abs(np.log(J[-1] / J[m])))

    def fit(self, n_terms: int = 4, K_min: int = 20, times_K: bool | None = None) -> dict:
        """Least-squares fit of K·J(K) (or J) ≈ Σ_{i<n_terms} c_i K^{−i/2} over K >= K_min.

        ``times_K=None`` fits K·J for a family whose loss decays like 1/K, else J.
        """
        if times_K is None:
            times_K = self.decays_like_1_over_K()
        return fit_asymptotics(self.K, self.loss, n_terms=n_terms, K_min=K_min, times_K=times_K)

    def to_dict(self) -> dict:
        d = {"pattern": self.pattern, "stopped": self.stopped,
             "index_changes": self.index_changes(), "first_minimum_K": self.first_minimum_K(),
             "points": [p.to_dict() for p in self.points]}
        if len(self.points) >= 8:
            try:
                d["fit"] = self.fit(K_min=min(20, int(self.K[len(self.K) // 2])))
            except ValueError:
                pass
        return d

    def table(self, every: int = 1) -> str:
        head = (f"{'K':>6} {'loss':>16} {'K·loss':>12} {'lambda_min':>13} {'index':>6} "
                f"{'null':>5} {'distinct':>8}")
        lines = [f"family {self.pattern}", head, "-" * len(head)]
        for i, p in enumerate(self.points):
            if i % every and i != len(self.points) - 1:
                continue
            lines.append(f"{p.K:>6} {p.loss:>16.10f} {p.K * p.loss:>12.8f} {p.lambda_min:>13.6e} "
                         f"{p.index:>6} {p.nullity:>5} {len(p.eigenvalues):>8}")
        for ch in self.index_changes():
            lines.append(f"index {ch['index_from']} -> {ch['index_to']} between K = {ch['K_from']} "
                         f"and K = {ch['K_to']}")
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        return "\n".join(lines)


def fit_asymptotics(K, loss, n_terms: int = 4, K_min: int = 20, times_K: bool = True) -> dict:
    """Fit K·J(K) (or J(K) with ``times_K=False``) = Σ_{i<n_terms} c_i K^{−i/2} by least squares.

    A power series in 1/√K (Arjevani & Field).  Returns {"coefficients": [c_0, …],
    "K_min", "n_terms", "quantity", "max_residual"}; c_0 is the limit of the quantity.
    Use K·J for families whose loss decays like 1/K, J for those tending to a constant.
    """
    K = np.asarray(K, dtype=np.float64)
    y = (K if times_K else 1.0) * np.asarray(loss, dtype=np.float64)
    sel = K >= K_min
    if sel.sum() < n_terms:
        raise ValueError(f"need at least {n_terms} points with K >= {K_min} to fit, got {int(sel.sum())}")
    X = np.stack([K[sel] ** (-i / 2) for i in range(n_terms)], axis=1)
    c, *_ = np.linalg.lstsq(X, y[sel], rcond=None)
    return {"coefficients": c.tolist(), "K_min": int(K_min), "n_terms": int(n_terms),
            "quantity": "K*J" if times_K else "J",
            "max_residual": float(np.max(np.abs(X @ c - y[sel])))}


def family_point(structure: BlockStructure, theta, grad_norm: float,
                 null_rtol: float = 1e-7) -> FamilyPoint:
    """Loss and full-space spectrum summary of the critical point W(θ)."""
    blocks = isotypic_spectrum(structure, theta)
    vals, mult = spectrum_with_multiplicities(blocks)
    index, nullity = morse_index(blocks, null_rtol)
    return FamilyPoint(K=structure.K, theta=np.asarray(theta, dtype=np.float64).copy(),
                       loss=structure.reduced_loss(theta), grad_norm=float(grad_norm),
                       lambda_min=float(vals[0]), index=index, nullity=nullity,
                       eigenvalues=vals, multiplicities=mult)


def isotropy_critical_points(structure: BlockStructure, n_starts: int = 64, seed: int = 0,
                             dense_max_K: int = 40, null_rtol: float = 1e-7) -> list[FamilyPoint]:
    """All critical points found in Fix(H) from ``n_starts`` seeded starts, with the full-space index.

    The spectrum is that of the dense Hessian (classify.hessian_spectrum) for K <= dense_max_K,
    else the isotypic one; sorted by loss.  Points with a zero row are skipped (no Hessian).
    """
    from .classify import hessian_spectrum, index_nullity
    from .fixedpoint import find_reduced_critical_points

    out = []
    for r in find_reduced_critical_points(structure, n_starts, seed):
        if np.any(structure.row_norms_sq(r.theta) <= 1e-24):
            continue
        if structure.K <= dense_max_K:
            W = structure.embed(r.theta)
            ev = hessian_spectrum(W, np.eye(structure.K), np.arange(structure.K))
            index, nullity = index_nullity(ev, null_rtol)
            out.append(FamilyPoint(K=structure.K, theta=r.theta, loss=r.loss, grad_norm=r.grad_norm,
                                   lambda_min=float(ev[0]), index=index, nullity=nullity,
                                   eigenvalues=ev,  # dense: not grouped
                                   multiplicities=np.ones(ev.size, dtype=np.int64)))
        else:
            out.append(family_point(structure, r.theta, r.grad_norm, null_rtol))
    return out


def follow_family(point, K_range, pattern: str | None = None,
                  settings: FamilySettings = FamilySettings()) -> Family:
    """Follow a critical point of isotropy ``pattern`` through the K in ``K_range``.

    ``point``: either (K0, θ0) with θ0 the parameters of ``pattern`` at K0, or a
    critical point W (K0, K0) already in block form for ``pattern`` (rows and
    columns ordered block by block, see :func:`~reludyn.critical.isotropy.block_form`).
    The family is continued one K at a time from K0 up to max(K_range) and down to
    min(K_range) (warm start: linear extrapolation of θ), and recorded at the K in
    ``K_range``; it stops where Newton fails or jumps to another branch.
    """
    if pattern is None:
        raise ValueError("pattern (e.g. 'K-1,1') is required")
    if isinstance(point, tuple) and len(point) == 2:
        K0, theta0 = int(point[0]), np.asarray(point[1], dtype=np.float64)
    else:
        W = np.asarray(point, dtype=np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"point must be (K0, theta) or a square W (K, K), got shape {W.shape}")
        K0 = W.shape[0]
        st = BlockStructure(pattern_blocks(pattern, K0))
        if st.distance_to_fix(W) > 1e-8 * max(1.0, float(np.max(np.abs(W)))):
            raise ValueError(f"W is not in the fixed-point subspace of {st.label} (block form)")
        theta0 = st.restrict(W)
    Ks = sorted({int(k) for k in K_range})
    if not Ks:
        raise ValueError("K_range is empty")
    st0 = BlockStructure(pattern_blocks(pattern, K0))
    if theta0.shape != (st0.dim,):
        raise ValueError(f"theta must have shape ({st0.dim},) for {st0.label}")
    with np.errstate(all="ignore"):
        res0 = solve_reduced(st0, theta0, settings.solve)
    moved = float(np.max(np.abs(res0.theta - theta0))) / max(1.0, float(np.max(np.abs(theta0))))
    if not res0.success or moved > settings.max_jump:
        raise ValueError(f"the start is not near a critical point at K = {K0} "
                         f"(Newton: ‖∇J‖ = {res0.grad_norm:.2e}, moved {moved:.2g})")
    wanted = set(Ks)
    fam = Family(pattern=pattern)
    recorded = {}
    if K0 in wanted:
        recorded[K0] = family_point(st0, res0.theta, res0.grad_norm, settings.null_rtol)
    stops = []
    for direction, last in ((1, max(Ks)), (-1, min(Ks))):
        hist = [res0.theta]
        K = K0
        while (K - last) * direction < 0:
            K += direction
            try:
                st = BlockStructure(pattern_blocks(pattern, K))
            except ValueError:
                stops.append(f"pattern {pattern} has no blocks at K = {K}")
                break
            guess = hist[-1] if len(hist) < 2 else 2 * hist[-1] - hist[-2]
            with np.errstate(all="ignore"):
                res = solve_reduced(st, guess, settings.solve)
            jump = float(np.max(np.abs(res.theta - hist[-1]))) / max(1.0, float(np.max(np.abs(hist[-1]))))
            if not res.success or jump > settings.max_jump:
                stops.append(f"lost at K = {K} (‖∇J‖ = {res.grad_norm:.2e}, step {jump:.2g})")
                break
            hist = [hist[-1], res.theta]
            if K in wanted:
                recorded[K] = family_point(st, res.theta, res.grad_norm, settings.null_rtol)
    fam.points = [recorded[k] for k in sorted(recorded)]
    fam.stopped = "; ".join(stops) or None
    return fam


def plot_family(families, path=None, fits: bool = True):
    """Figure: K·J(K) (with the 1/√K fit), λ_min and Morse index against K for each family.

    Saved to ``path`` (PNG) and closed when given; else the matplotlib Figure is returned.
    """
    import matplotlib.pyplot as plt

    if isinstance(families, Family):
        families = [families]
    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    for fam in families:
        if not fam.points:
            continue
        K = fam.K
        line, = ax[0].plot(K, fam.loss, ".", ms=3, label=fam.pattern)
        if fits and len(K) >= 8:
            try:
                f = fam.fit(K_min=min(20, int(K[len(K) // 2])))
                kk = np.geomspace(max(K.min(), f["K_min"]), K.max(), 400)
                series = sum(c * kk ** (-i / 2) for i, c in enumerate(f["coefficients"]))
                tk = f["quantity"] == "K*J"
                ax[0].plot(kk, series / kk if tk else series, "-", lw=0.9, color=line.get_color(),
                           label=("fit: K·J → " if tk else "fit: J → ") + f"{f['coefficients'][0]:.4f}")
            except ValueError:
                pass
        ax[1].plot(K, fam.lambda_min, ".", ms=3, color=line.get_color(), label=fam.pattern)
        ax[2].step(K, fam.index, where="mid", color=line.get_color(), label=fam.pattern)
    ax[0].set(xscale="log", yscale="log", xlabel="K", ylabel="J(K)",
              title="loss (fits: power series in 1/√K)")
    ax[1].set(xscale="log", xlabel="K", ylabel="λ_min", title="smallest Hessian eigenvalue")
    ax[1].axhline(0, color="k", lw=0.5)
    ax[2].set(xscale="log", xlabel="K", ylabel="Morse index", title="index (0: minimum)")
    from matplotlib.ticker import NullFormatter
    for a in ax:
        a.legend(fontsize=7)
        a.xaxis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
