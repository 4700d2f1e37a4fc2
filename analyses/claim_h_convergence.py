"""Claim h: the author's convergence run. Gaussian teacher (d = 100, K = M = 50, entries
N(0, 1)), start = teacher + 0.5·N(0, 1) noise, population gradient descent with step 0.01.

Plots the squared error ‖w_j − w*_j‖² per row and in total for 1000 iterations, then runs
until the total squared error is below 1e-10 and compares the measured asymptotic rate with
the one predicted by the Hessian at the teacher, (1 − η λ_min)² per step. The loss is the
per-sample J (the paper's N-sample sums would multiply the gradient, i.e. the step, by N).
"""
from __future__ import annotations

import math
import time

import numpy as np

from analyses import common
from reludyn import Problem, hessian
from reludyn import grad as pgrad

NAME = "claim_h_convergence"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("-d", type=int, default=100, help="input dimension (default 100)")
    p.add_argument("-K", type=int, default=50, help="student = teacher rows (default 50)")
    p.add_argument("--eta", type=float, default=0.01, help="step size (default 0.01)")
    p.add_argument("--noise", type=float, default=0.5, help="start = teacher + noise·N(0,1) (default 0.5)")
    p.add_argument("--iters", type=int, default=1000, help="iterations of the first plot (default 1000)")
    p.add_argument("--target", type=float, default=1e-10, help="total squared error to reach (default 1e-10)")
    p.add_argument("--max-iter", type=int, default=None,
                   help="budget of the long run (default 200000; --fast 80000)")
    return p.parse_args(argv)


def run(problem: Problem, W0: np.ndarray, eta: float, iters: int, target: float, max_iter: int):
    """Plain population GD W ← W − η∇J. Returns (row errors (iters+1, K), total error per step, W)."""
    V = problem.V
    W = W0.copy()
    rows = np.empty((iters + 1, W.shape[0]))
    total = [float(((W - V) ** 2).sum())]
    rows[0] = ((W - V) ** 2).sum(1)
    k = 0
    while k < max_iter and (k < iters or total[-1] > target):
        W = W - eta * pgrad(W, V)
        k += 1
        e = ((W - V) ** 2).sum(1)
        if k <= iters:
            rows[k] = e
        total.append(float(e.sum()))
        if not math.isfinite(total[-1]):
            break
    return rows[: min(k, iters) + 1], np.array(total), W


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    max_iter = args.max_iter or (80_000 if args.fast else 200_000)
    if args.K < 1 or args.d < args.K or args.eta <= 0 or args.iters < 1:
        raise ValueError("need K >= 1, d >= K, eta > 0, iters >= 1")
    pb = Problem.gaussian(args.K, args.d, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    W0 = pb.V + args.noise * rng.standard_normal(pb.V.shape)
    rows, total, W = run(pb, W0, args.eta, args.iters, args.target, max_iter)
    common.log(args, f"  {len(total) - 1} iterations, final squared error {total[-1]:.3e}")

    # the ensemble GD of reludyn.dynamics (one jitted loop) must give the same iterates
    from reludyn.dynamics.gd import gradient_descent

    Wg = gradient_descent(pb, W0, args.eta, tol=0.0, max_steps=args.iters).W[0]
    Wl = W0.copy()
    for _ in range(args.iters):
        Wl = Wl - args.eta * pgrad(Wl, pb.V)
    gd_vs_loop = float(np.max(np.abs(Wg - Wl)))
    lam = np.linalg.eigvalsh(hessian(pb.V, pb.V))
    lam_min, lam_max = float(lam[0]), float(lam[-1])
    pred_rate = 2 * math.log(abs(1 - args.eta * lam_min))  # per step, of the squared error
    reached = bool(total[-1] <= args.target)
    n_reach = int(len(total) - 1) if reached else None
    # measured rate over the last decade above the target
    tail = np.flatnonzero(total <= 1e3 * args.target) if reached else np.arange(len(total) // 2, len(total))
    lo = tail[0] if tail.size else len(total) // 2
    meas_rate = float(np.polyfit(np.arange(lo, len(total)), np.log(total[lo:]), 1)[0]) \
        if len(total) - lo > 2 else float("nan")
    monotone = bool(np.all(np.diff(rows.sum(1)) <= 1e-12 * rows.sum(1)[:-1]))

    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 4))
    a0.semilogy(rows, color="tab:blue", lw=0.4, alpha=0.5)
    a0.semilogy(rows.sum(1), color="k", lw=2, label="total")
    a0.plot([], [], color="tab:blue", lw=0.6, label="each row ‖w_j − w*_j‖²")
    a0.set_xlabel("iteration")
    a0.set_ylabel("squared error")
    a0.set_title(f"first {args.iters} iterations (d={args.d}, K={args.K}, η={args.eta})")
    a0.legend(fontsize=8)
    it = np.arange(len(total))
    a1.semilogy(it, total, "k", lw=1.5, label="total squared error")
    if reached:
        a1.semilogy(it[lo:], total[lo] * np.exp(pred_rate * (it[lo:] - lo)), "r--", lw=1,
                    label=f"predicted (1 − ηλ_min)^2k, λ_min = {lam_min:.4f}")
    a1.axhline(args.target, color="0.5", ls=":", lw=1)
    a1.set_xlabel("iteration")
    a1.set_title("until the error is below %.0e" % args.target)
    a1.legend(fontsize=8)
    fig1 = common.savefig(fig, out, "claim_h_convergence.png")

    ok = reached and monotone and gd_vs_loop < 1e-9
    measured = (f"total squared error {total[0]:.1f} → {rows.sum(1)[-1]:.2f} after {args.iters} it., "
                f"monotone: {monotone}; reaches {args.target:.0e} after "
                f"{n_reach if reached else f'> {max_iter}'} iterations; asymptotic rate "
                f"{meas_rate:.3e}/it. vs predicted 2 log(1 − ηλ_min) = {pred_rate:.3e}; "
                f"reludyn.dynamics GD = plain loop to {gd_vs_loop:.0e}")
    return common.finish(
        out, NAME, claim="h", title="author's convergence run d=100, K=50, η=0.01",
        figures=[fig1], measured=measured,
        verdict=common.REPRODUCED if ok else common.NOT_REPRODUCED,
        numbers={"d": args.d, "K": args.K, "eta": args.eta, "noise": args.noise,
                 "initial_error": total[0], "error_after_iters": float(rows.sum(1)[-1]),
                 "iterations_to_target": n_reach, "final_error": float(total[-1]),
                 "monotone_first_iters": monotone, "lambda_min_at_teacher": lam_min,
                 "lambda_max_at_teacher": lam_max, "stable_step_bound_2_over_lmax": 2 / lam_max,
                 "measured_rate": meas_rate, "dynamics_gd_vs_plain_loop": gd_vs_loop, "predicted_rate": pred_rate,
                 "total_error_every_100": total[::100].tolist()},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
