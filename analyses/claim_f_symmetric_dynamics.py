"""Claim f (paper claim 6): the symmetric 2-D dynamics. Orthonormal teacher w*_j = e_j (d = K),
student w_j = x e_j + y Σ_{k≠j} e_k; K ∈ {2, 5, 10}, start (x, y) = (0.001, 0), step 0.01,
1000 iterations.

The iteration runs in the full K·d weight space with the closed-form gradient, so that the
claim "the family is invariant" is measured (the largest deviation from the family) rather
than assumed. Plots the error (x − 1)² + (K − 1)y² against the iteration and the (x, y)
trajectories with the diagonal and, for each K, the line through (1, 0) and (x_s, x_s).
On the diagonal (start x = y = 0.001) the iteration runs to convergence and the measured
fixed point is compared with x_s = (√(K−1) − arccos(1/√K) + π)/(πK).
"""
from __future__ import annotations

import time

import numpy as np

from analyses import common
from reludyn import grad, hessian, symmetric_saddle_x
from reludyn.dynamics.init import symmetric_point

NAME = "claim_f_symmetric_dynamics"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--Ks", type=common.int_list, default=[2, 5, 10], help="widths (default 2,5,10)")
    p.add_argument("--eta", type=float, default=0.01, help="step (default 0.01)")
    p.add_argument("--iters", type=int, default=1000, help="iterations (default 1000)")
    p.add_argument("--start", type=common.float_list, default=[0.001, 0.0], help="(x, y) start")
    p.add_argument("--max-iter", type=int, default=None,
                   help="budget of the runs to convergence (default 400000; --fast 100000)")
    return p.parse_args(argv)


def family_run(K, x0, y0, eta, iters, tol=None):
    """GD in full weight space from the symmetric point. Returns (xs, ys, max off-family deviation, W).

    With ``tol`` it runs up to ``iters`` steps or until ‖∇J‖_F < tol (recording only the end).
    """
    V = np.eye(K)
    W = symmetric_point(K, x0, y0)
    xs, ys = [W[0, 0]], [W[0, 1] if K > 1 else 0.0]
    dev = 0.0
    for k in range(iters):
        G = grad(W, V)
        if tol is not None and np.linalg.norm(G) < tol:
            break
        W = W - eta * G
        if tol is None:
            x, y = W[0, 0], (W[0, 1] if K > 1 else 0.0)
            dev = max(dev, float(np.max(np.abs(W - symmetric_point(K, x, y)))))
            xs.append(x)
            ys.append(y)
    return np.array(xs), np.array(ys), dev, W, k + 1


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    max_iter = args.max_iter or (100_000 if args.fast else 400_000)
    if len(args.start) != 2 or min(args.Ks) < 2:
        raise ValueError("--start takes two numbers x,y and every K must be >= 2")
    x0, y0 = args.start
    res = {}
    for K in args.Ks:
        xs, ys, dev, W, _ = family_run(K, x0, y0, args.eta, args.iters)
        err = (xs - 1) ** 2 + (K - 1) * ys**2
        # converge on the diagonal: the symmetric saddle
        _, _, _, Wd, nd = family_run(K, 0.001, 0.001, args.eta, max_iter, tol=1e-12)
        xd = float(np.mean(np.diag(Wd)))
        yd = float(np.mean(Wd[~np.eye(K, dtype=bool)]))
        ev = np.linalg.eigvalsh(hessian(Wd, np.eye(K)))
        # and from the paper's start to the end
        _, _, _, We, ne = family_run(K, x0, y0, args.eta, max_iter, tol=1e-12)
        xs_f = symmetric_saddle_x(K)
        res[K] = {"xs": xs, "ys": ys, "err": err, "family_deviation": dev,
                  "err_final_iters": float(err[-1]),
                  "diag_fixed_point": [xd, yd], "x_s": xs_f, "diag_abs_error": abs(xd - xs_f) + abs(yd - xs_f),
                  "diag_iters": nd, "diag_hessian_negative": int(np.sum(ev < -1e-9)),
                  "diag_hessian_min": float(ev[0]),
                  "end_from_start": [float(We[0, 0]), float(We[0, 1])], "end_iters": ne,
                  "end_dist_to_teacher": float(np.linalg.norm(We - np.eye(K)))}
        common.log(args, f"  K = {K}: saddle ({xd:.6f}, {yd:.6f}) vs x_s = {xs_f:.6f}")

    # optional cross-check against the reduced (x, y) field of reludyn.dynamics.reduced
    reduced_check = None
    try:
        from reludyn.dynamics.reduced import symmetric_field
        diffs = []
        for K in args.Ks:
            for x, y in ((0.3, 0.1), (0.8, -0.05), (0.2, 0.2)):
                W = symmetric_point(K, x, y)
                G = grad(W, np.eye(K))
                fx, fy = symmetric_field(x, y, K)
                # the field is −∂J/∂(row) restricted to the family: compare up to sign
                a = np.array([fx, fy], dtype=float)
                b = np.array([G[0, 0], G[0, 1]])
                diffs.append(min(np.max(np.abs(a + b)), np.max(np.abs(a - b))))
        reduced_check = float(max(diffs))
    except ImportError:
        pass

    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 4.2))
    for K, r in res.items():
        line, = a0.semilogy(r["err"], label=f"K = {K}")
        a1.plot(r["xs"], r["ys"], color=line.get_color(), label=f"K = {K}")
        xs_f = r["x_s"]
        t = np.linspace(-0.1, 1.3, 2)
        a1.plot(1 + t * (xs_f - 1), t * xs_f, ":", color=line.get_color(), lw=1)
        a1.plot([xs_f], [xs_f], "x", color=line.get_color())
    a0.set_xlabel("iteration")
    a0.set_ylabel("(x − 1)² + (K − 1) y²")
    a0.set_title(f"start ({x0}, {y0}), η = {args.eta}")
    a0.legend(fontsize=8)
    lim = [-0.05, 1.05]
    a1.plot(lim, lim, "k--", lw=0.8, label="diagonal x = y")
    a1.plot([1], [0], "k*", ms=9, label="teacher (1, 0)")
    a1.set_xlim(-0.05, 1.05)
    a1.set_ylim(-0.05, 0.6)
    a1.set_xlabel("x")
    a1.set_ylabel("y")
    a1.set_title("trajectories; dotted: line through (1,0) and (x_s, x_s)")
    a1.legend(fontsize=7)
    fig1 = common.savefig(fig, out, "claim_f_symmetric.png")

    max_dev = max(r["family_deviation"] for r in res.values())
    max_sad = max(r["diag_abs_error"] for r in res.values())
    all_reach = all(r["end_dist_to_teacher"] < 1e-8 for r in res.values())
    saddles = all(r["diag_hessian_negative"] > 0 for r in res.values())
    ok = max_dev < 1e-12 and max_sad < 1e-8 and all_reach and saddles
    measured = (f"family kept to {max_dev:.0e}; diagonal fixed point − x_s ≤ {max_sad:.1e} for K = "
                f"{', '.join(map(str, args.Ks))} (a saddle: Hessian has negative eigenvalues); error "
                f"after {args.iters} it.: " + ", ".join(f"K={K}: {r['err_final_iters']:.3g}" for K, r in res.items())
                + "; reaches the teacher after " + ", ".join(f"{r['end_iters']}" for r in res.values()) + " it.")
    if reduced_check is not None:
        measured += f"; reduced field vs full gradient {reduced_check:.1e}"
    numbers = {K: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()
                   if k not in ("xs", "ys", "err")} | {"err_every_50": r["err"][::50].tolist()}
               for K, r in res.items()}
    return common.finish(
        out, NAME, claim="f", title="symmetric 2-D dynamics and the diagonal saddle x_s",
        figures=[fig1], measured=measured,
        verdict=common.REPRODUCED if ok else common.NOT_REPRODUCED,
        numbers={"per_K": {str(k): v for k, v in numbers.items()}, "eta": args.eta, "iters": args.iters,
                 "start": [x0, y0], "reduced_field_check": reduced_check},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
