"""Claim c: the heat map of L_12 over (teacher angle φ, e_2 angle θ) with the line φ = θ, and a
measured statement of where the sign of L_12 changes.

e_1 = (1, 0), e_2 = (cos θ, sin θ) with θ on a grid of [0, π], teacher direction
(cos φ, sin φ) with φ on a grid of (0, 2π); NaN where M_r is singular (e_2 = e_1). The
measurement: on every grid point L_12 > 0 exactly when 0 < φ < θ (the teacher inside the
cone of e_1, e_2), L_12 < 0 when φ > θ; so the sign changes on the line φ = θ and at φ = 0
(≡ 2π) and nowhere else. At θ = π (e_2 = −e_1) L_12 vanishes identically.
"""
from __future__ import annotations

import time

import numpy as np

from analyses import common
from analyses.claim_b_l_function import l_curves

NAME = "claim_c_l_heatmap"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--n-theta", type=int, default=None, help="θ grid size (default 400; --fast 60)")
    p.add_argument("--n-phi", type=int, default=None, help="φ grid size (default 800; --fast 120)")
    return p.parse_args(argv)


def heatmap(n_theta: int, n_phi: int):
    """(theta (n_theta,), phi (n_phi,), L12 (n_theta, n_phi)) with NaN rows where M_r is singular."""
    theta = np.linspace(0, np.pi, n_theta)
    phi = np.linspace(0, 2 * np.pi, n_phi + 2)[1:-1]  # open interval (0, 2π)
    L = np.full((n_theta, n_phi), np.nan)
    for i, th in enumerate(theta):
        L[i] = l_curves(th, phi)[0]
    return theta, phi, L


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    n_theta = args.n_theta or (60 if args.fast else 400)
    n_phi = args.n_phi or (120 if args.fast else 800)
    if n_theta < 3 or n_phi < 3:
        raise ValueError("--n-theta and --n-phi must be >= 3")
    theta, phi, L = heatmap(n_theta, n_phi)

    nan_rows = np.flatnonzero(np.all(np.isnan(L), axis=1))
    ok_rows = np.setdiff1d(np.arange(n_theta), nan_rows)
    TH, PH = np.meshgrid(theta, phi, indexing="ij")
    scale = np.nanmax(np.abs(L))
    tol = 1e-10 * scale
    predicted = np.where(PH < TH, 1, -1)
    on_line = np.abs(PH - TH) < 1e-12
    sgn = np.where(L > tol, 1, np.where(L < -tol, -1, 0))
    # θ = π (e_2 = −e_1): M_r is regular but L12 vanishes identically; report it apart
    zero_rows = [i for i in ok_rows if np.all(np.abs(L[i]) <= tol)]
    sign_rows = np.setdiff1d(ok_rows, zero_rows)
    valid = np.isin(np.arange(n_theta), sign_rows)[:, None] & ~on_line
    agree = int(np.sum((sgn == predicted) & valid))
    total = int(valid.sum())
    # observed sign-change locations along φ, per θ row: where sgn flips between neighbours
    flips = []
    for i in sign_rows:
        s = sgn[i]
        idx = np.flatnonzero(s[:-1] * s[1:] < 0)
        flips += [abs(0.5 * (phi[k] + phi[k + 1]) - theta[i]) for k in idx]
    max_flip_dev = float(max(flips)) if flips else float("nan")
    min_margin = float(np.nanmin(np.abs(L[valid]))) if total else float("nan")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    vmax = float(np.nanmax(np.abs(L)))
    im = ax.imshow(L, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                   extent=[phi[0], phi[-1], theta[0], theta[-1]], interpolation="nearest")
    ax.plot([0, np.pi], [0, np.pi], "k-", lw=1, label="φ = θ")
    ax.set_xlabel("teacher angle φ")
    ax.set_ylabel("angle θ of e2")
    ax.set_title(f"Claim c: L12(φ, θ), {n_theta}×{n_phi} grid (white: NaN, M_r singular)")
    ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(im, ax=ax, label="L12")
    suffix = "_fast" if args.fast else ""
    fig1 = common.savefig(fig, out, f"claim_c_L12_heatmap{suffix}.png")

    ok = agree == total and total > 0
    measured = (f"sign(L12) = +1 iff 0 < φ < θ on {agree}/{total} grid points off the line "
                f"(sign flips only across φ = θ, max offset {max_flip_dev:.3f} rad = half a grid "
                f"step ≤ {np.pi / (n_phi + 1):.3f}); NaN rows at θ = "
                f"{', '.join(f'{theta[i]:.3f}' for i in nan_rows)}; L12 ≡ 0 (|L12| ≤ {tol:.0e}) at θ = "
                f"{', '.join(f'{theta[i]:.3f}' for i in zero_rows) or 'none'}")
    return common.finish(
        out, NAME + suffix, claim="c", title="L12 heat map over (φ, θ), sign change on φ = θ",
        figures=[fig1], measured=measured, verdict=common.REPRODUCED if ok else common.NOT_REPRODUCED,
        numbers={"n_theta": n_theta, "n_phi": n_phi, "agree": agree, "total": total,
                 "nan_theta_rows": [float(theta[i]) for i in nan_rows],
                 "identically_zero_theta_rows": [float(theta[i]) for i in zero_rows],
                 "max_flip_offset_from_line": max_flip_dev, "min_abs_L12_off_line": min_margin,
                 "max_abs_L12": float(vmax)},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
