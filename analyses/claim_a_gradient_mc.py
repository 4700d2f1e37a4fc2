"""Claim a (paper claim 1): the gating lemma and the analytical gradient equal their Monte-Carlo
expectations; the error falls like 1/√n.

For random (e, w) pairs (one at an obtuse angle) and a random student/teacher pair we draw n
Gaussian inputs for n = 10², …, 10^nmax, repeated over seeds, and plot the RMS error of the
Monte-Carlo mean against n on log-log axes next to the line σ/√n predicted from the sample
standard deviation (no fit). A bias in the closed form would show as a slope flatter than −½
and as standardized errors z = (MC − exact)/se whose mean square (pooled over the three
largest n) grows above 1.
"""
from __future__ import annotations

import math
import time

import numpy as np

from analyses import common
from reludyn import grad as exact_grad
from reludyn.montecarlo import mc_gating, mc_grad
from reludyn.paper import gating_expectation

NAME = "claim_a_gradient_mc"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("-d", type=int, default=5, help="input dimension (default 5)")
    p.add_argument("-K", type=int, default=3, help="student rows for the gradient check (default 3)")
    p.add_argument("--nmax", type=float, default=None,
                   help="log10 of the largest sample count (default 7; --fast 5)")
    p.add_argument("--reps", type=int, default=None, help="repetitions per n (default 5; --fast 4)")
    return p.parse_args(argv)


def _pairs(rng, d):
    """Three (e, w) pairs: random, obtuse (θ ≈ 2.5 rad), nearly aligned (θ ≈ 0.2 rad)."""
    out = []
    e = rng.standard_normal(d)
    out.append((e / np.linalg.norm(e), rng.standard_normal(d)))
    for theta in (2.5, 0.2):
        q, _ = np.linalg.qr(rng.standard_normal((d, 2)))
        e, u = q[:, 0], q[:, 1]
        out.append((e, 1.7 * (math.cos(theta) * e + math.sin(theta) * u)))
    return out


def one_relu_formula(w, ws):
    """The paper's K = M = 1 gradient ½(w − w*) + (θ w* − ‖w*‖ sin θ w/‖w‖)/(2π)."""
    nw, nws = np.linalg.norm(w), np.linalg.norm(ws)
    th = math.acos(np.clip(w @ ws / (nw * nws), -1, 1))
    return 0.5 * (w - ws) + (th * ws - nws * math.sin(th) * w / nw) / (2 * math.pi)


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    nmax = args.nmax if args.nmax is not None else (5.0 if args.fast else 7.0)
    reps = args.reps if args.reps is not None else (4 if args.fast else 5)
    if nmax < 2 or reps < 1 or args.d < 2 or args.K < 1:
        raise ValueError("need --nmax >= 2, --reps >= 1, -d >= 2, -K >= 1")
    ns = np.unique(np.round(np.logspace(2, nmax, int(round(2 * (nmax - 2))) + 1)).astype(int))
    rng = np.random.default_rng(args.seed)
    pairs = _pairs(rng, args.d)
    V = rng.standard_normal((args.K, args.d))
    W = V + 0.7 * rng.standard_normal((args.K, args.d))
    G = exact_grad(W, V)

    series = {}  # label -> (rms errors (len ns), predicted sigma_total, z^2 at largest n)
    for ip, (e, w) in enumerate(pairs):
        exact = gating_expectation(e, w)
        errs = np.zeros((len(ns), reps))
        z2 = []
        sig = 0.0
        for i, n in enumerate(ns):
            for r in range(reps):
                est = mc_gating(e, w, n=int(n), seed=args.seed * 1000 + 17 * r + i)
                errs[i, r] = np.linalg.norm(est.mean - exact)
                if i >= len(ns) - 3:  # pooled over the three largest n, where a bias would show
                    z2 += list(est.z(exact) ** 2)
                if i == len(ns) - 1:
                    sig = math.sqrt(float(np.sum(est.se**2)) * n)
        th = math.acos(np.clip(e @ w / np.linalg.norm(w), -1, 1))
        series[f"gating lemma, θ = {th:.2f}"] = (np.sqrt((errs**2).mean(1)), sig, float(np.mean(z2)))
        common.log(args, f"  gating pair {ip}: done")
    errs = np.zeros((len(ns), reps))
    z2 = []
    for i, n in enumerate(ns):
        for r in range(reps):
            est = mc_grad(W, V, n=int(n), seed=args.seed * 1000 + 31 * r + i)
            errs[i, r] = np.linalg.norm(est.mean - G)
            if i >= len(ns) - 3:
                z2 += list((est.z(G) ** 2).ravel())
            if i == len(ns) - 1:
                sig = math.sqrt(float(np.sum(est.se**2)) * n)
    series[f"gradient, K = M = {args.K}, d = {args.d}"] = (np.sqrt((errs**2).mean(1)), sig,
                                                          float(np.mean(z2)))
    common.log(args, "  gradient: done")

    # closed-form K = M = 1 special case against the kernel gradient (exact, no sampling)
    w1, ws1 = rng.standard_normal(args.d), rng.standard_normal(args.d)
    one_relu_err = float(np.max(np.abs(one_relu_formula(w1, ws1) - exact_grad(w1[None], ws1[None])[0])))

    slopes = {k: float(np.polyfit(np.log(ns), np.log(v[0]), 1)[0]) for k, v in series.items()}
    z2s = {k: v[2] for k, v in series.items()}

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for (k, (rms, sig, _)), mk in zip(series.items(), "osd^"):
        line, = ax.loglog(ns, rms, mk + "-", ms=4, label=f"{k} (slope {slopes[k]:.3f})")
        ax.loglog(ns, sig / np.sqrt(ns), ":", color=line.get_color(), lw=1)
    ax.plot([], [], "k:", label="σ/√n predicted from the sample s.d.")
    ax.set_xlabel("Monte-Carlo samples n")
    ax.set_ylabel("RMS ‖MC mean − closed form‖")
    ax.set_title(f"Claim a: closed forms vs Monte Carlo ({reps} seeds per n)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig1 = common.savefig(fig, out, "claim_a_mc_error.png")

    worst_slope = max(abs(s + 0.5) for s in slopes.values())
    worst_z2 = max(z2s.values())
    # one-sided: a wrong closed form makes z² grow like n; small z² is only sampling noise
    ok = worst_slope < 0.1 and worst_z2 < 2.0 and one_relu_err < 1e-12
    measured = (f"log-log slopes {', '.join(f'{s:.3f}' for s in slopes.values())} (1/√n: −0.5); "
                f"mean z² over the 3 largest n (≤ {ns[-1]:.0e}): {', '.join(f'{z:.2f}' for z in z2s.values())} "
                f"(unbiased: ≈1); K=M=1 formula vs kernel {one_relu_err:.1e}")
    return common.finish(
        out, NAME, claim="a", title="gating lemma and gradient = Monte-Carlo expectation",
        figures=[fig1], measured=measured, verdict=common.REPRODUCED if ok else common.NOT_REPRODUCED,
        numbers={"ns": ns.tolist(), "reps": reps, "d": args.d, "K": args.K,
                 "rms_error": {k: v[0].tolist() for k, v in series.items()},
                 "sigma_total": {k: v[1] for k, v in series.items()},
                 "slopes": slopes, "mean_z2_at_nmax": z2s, "one_relu_formula_max_abs_diff": one_relu_err},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
