"""Gradient-descent ensemble benchmark: the spurious-minima protocol.

K = M = d = 10, orthonormal teacher, Xavier N(0, 1/d) initialization, η = 0.1,
stop when the largest row gradient norm is < 1e-10 (budget 10⁶ steps),
1000 initializations. Reports the wall time of ``reludyn.gradient_descent``
(one jitted prange loop) and, in the same process, two baselines run on a
subset of the same initializations:

* ``numpy``: a plain NumPy loop (vectorized per step, independent of reludyn);
* ``numba_serial``: a straightforward single-threaded Numba loop calling
  ``reludyn.kernels.grad_kernel`` once per step.

Times are medians of ``--repeats``; ratios compare per-step costs measured in
this process (baseline seconds per step / ensemble seconds per step), and the
baselines' projected time for all runs is their per-step cost times the
ensemble's total step count. The baselines' end points are checked against the
ensemble's (same step counts, W to 1e-8).

    python benchmarks/bench_ensemble.py [--n 1000] [--subset 20] [--repeats 3] [--json out.json]

``--device cuda`` instead times ``gradient_descent(..., device="cuda")`` (one
thread block per run, :mod:`reludyn.dynamics.cuda_gd`) against the CPU kernel on
the same initializations in this process, and checks that both reach the same end
points (per run: the same reason, steps within 2 and W within 1e-8, or at least the same
end loss: the device's fused multiply-adds round differently, and a run lingering at a
saddle may leave it the other way). Without a GPU it says so and exits 0; on
Numba's simulator it only checks a few short runs (its timings mean nothing).

    python benchmarks/bench_ensemble.py --device cuda [--k 10] [--n 1000] [--repeats 3] [--json out.json]

``--early`` times certified early assignment (``early_assign``, :mod:`reludyn.critical.early`)
against full runs on the same starts, Safran–Shamir protocol at ``--k`` (N(0, 1/k) starts,
η = 0.1, max-row tol 1.6e-10): "cold" includes certifying each minimum (a fresh assigner),
"warm" reuses the certified balls (as every chunk after the first of a census does). Each
end point of both is mapped to a catalogue entry (``Catalogue.assign``); the per-entry
counts must be equal and every unassigned run must equal its full run bit for bit.

    python benchmarks/bench_ensemble.py --early [--k 10] [--n 1000] [--repeats 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import numba
from numba import njit

from reludyn import Problem, kernels
from reludyn.dynamics.gd import gradient_descent
from reludyn.dynamics.init import xavier_init

ETA, TOL, BUDGET = 0.1, 1e-10, 10**6
SS_TOL = 1.6e-10  # the Safran–Shamir protocol's max-row tolerance (--early, --device cuda)


def numpy_grad(W, V):
    """∇J (K, d) with plain NumPy: angles via atan2(‖e_v − c e_u‖, c) (accurate near 0 and π)."""
    a = np.linalg.norm(W, axis=1)
    b = np.linalg.norm(V, axis=1)
    EW = W / a[:, None]
    EV = V / b[:, None]
    E = np.vstack([EW, EV])
    C = np.clip(EW @ E.T, -1.0, 1.0)
    S = np.linalg.norm(E[None, :, :] - C[:, :, None] * EW[:, None, :], axis=2)
    T = np.arctan2(S, C)
    K = W.shape[0]
    Tww, Twv = T[:, :K].copy(), T[:, K:]
    Sww, Swv = S[:, :K].copy(), S[:, K:]
    np.fill_diagonal(Tww, 0.0)
    np.fill_diagonal(Sww, 0.0)
    radial = Sww @ a - Swv @ b
    return ((np.pi - Tww) @ W - (np.pi - Twv) @ V + radial[:, None] * EW) / (2 * np.pi)


def numpy_run(W, V):
    W = W.copy()
    for t in range(BUDGET + 1):
        G = numpy_grad(W, V)
        if np.sqrt((G * G).sum(axis=1).max()) < TOL:
            return W, t
        W -= ETA * G
    return W, BUDGET


@njit(cache=True)
def numba_serial_run(W0, V):
    W = W0.copy()
    G = np.empty_like(W)
    for t in range(BUDGET + 1):
        kernels.grad_kernel(W, V, G)
        best = 0.0
        for j in range(W.shape[0]):
            acc = 0.0
            for p in range(W.shape[1]):
                acc += G[j, p] * G[j, p]
            best = max(best, acc)
        if np.sqrt(best) < TOL:
            return W, t
        for j in range(W.shape[0]):
            for p in range(W.shape[1]):
                W[j, p] -= ETA * G[j, p]
    return W, BUDGET


def timed(fn, repeats):
    """(median wall s, median CPU s of this process, last output)."""
    ts, cs, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ts), statistics.median(cs), out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="initializations (default 1000)")
    ap.add_argument("--subset", type=int, default=20, help="baseline subset size (default 20)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats, median reported (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cuda: time the GPU ensemble against the CPU kernel (default cpu)")
    ap.add_argument("--early", action="store_true",
                    help="time early assignment against full runs (Safran–Shamir protocol)")
    ap.add_argument("--k", type=int, default=10, help="--early, --device cuda: K = M = d (default 10)")
    args = ap.parse_args(argv)
    if args.early:
        return early_main(args)
    if args.device == "cuda":
        return device_main(args)

    p = Problem.orthonormal(10)
    V = np.array(p.V, order="C")
    W0 = xavier_init(p, args.n, seed=args.seed)
    sub = W0[: args.subset]

    # warm up (compile, or load from the cache) outside the timings
    gradient_descent(p, W0[:2], ETA, tol=TOL, max_steps=10)
    numba_serial_run(W0[0], V)

    t_ens, c_ens, res = timed(lambda: gradient_descent(p, W0, ETA, tol=TOL, max_steps=BUDGET),
                       args.repeats)
    total_steps = int(res.steps.sum())
    per_step_ens = t_ens / total_steps

    # the same kernel on one thread, on the baselines' subset (kernel cost without parallelism)
    n_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t_1, c_1, res1 = timed(lambda: gradient_descent(p, sub, ETA, tol=TOL, max_steps=BUDGET),
                               args.repeats)
    finally:
        numba.set_num_threads(n_threads)
    sub_steps = int(res1.steps.sum())

    t_np, c_np, np_out = timed(lambda: [numpy_run(W, V) for W in sub], 1)
    np_steps = sum(s for _, s in np_out)
    t_nb, c_nb, nb_out = timed(lambda: [numba_serial_run(W, V) for W in sub], args.repeats)
    nb_steps = sum(s for _, s in nb_out)
    # baselines must reach the same end points
    for name, out in (("numpy", np_out), ("numba_serial", nb_out)):
        for i, (W, s) in enumerate(out):
            if abs(int(s) - int(res.steps[i])) > 2 or np.abs(W - res.W[i]).max() > 1e-8:
                raise SystemExit(f"{name} run {i} disagrees with the ensemble: steps {s} vs "
                                 f"{res.steps[i]}, max |ΔW| {np.abs(W - res.W[i]).max():.2e}")

    out = {
        "protocol": {"K": 10, "M": 10, "d": 10, "teacher": "orthonormal", "init": "xavier",
                     "eta": ETA, "tol_max_row": TOL, "budget": BUDGET, "n": args.n,
                     "seed": args.seed},
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0],
        "ensemble": {"wall_s": t_ens, "cpu_s": c_ens, "inits_per_s": args.n / t_ens,
                     "total_steps": total_steps, "cpu_us_per_step": 1e6 * c_ens / total_steps,
                     "us_per_step": 1e6 * per_step_ens, "reasons": res.counts(),
                     "global_min": int(np.sum(res.loss < 1e-3)),
                     "median_steps": float(np.median(res.steps)), "max_steps": int(res.steps.max())},
        "ensemble_1_thread_subset": {"subset": args.subset, "wall_s": t_1, "cpu_s": c_1,
                                     "steps": sub_steps, "us_per_step": 1e6 * t_1 / sub_steps,
                                     "cpu_us_per_step": 1e6 * c_1 / sub_steps},
        "numpy": {"subset": args.subset, "wall_s": t_np, "cpu_s": c_np, "steps": int(np_steps),
                  "cpu_us_per_step": 1e6 * c_np / np_steps,
                  "us_per_step": 1e6 * t_np / np_steps,
                  "projected_s_for_n": t_np / np_steps * total_steps,
                  "ratio_per_step": (t_np / np_steps) / per_step_ens},
        "numba_serial": {"subset": args.subset, "wall_s": t_nb, "cpu_s": c_nb, "steps": int(nb_steps),
                         "cpu_us_per_step": 1e6 * c_nb / nb_steps,
                         "ratio_cpu_per_step_vs_1_thread": (c_nb / nb_steps) / (c_1 / sub_steps),
                         "us_per_step": 1e6 * t_nb / nb_steps,
                         "projected_s_for_n": t_nb / nb_steps * total_steps,
                         "ratio_per_step": (t_nb / nb_steps) / per_step_ens},
    }
    # the step against its arithmetic floor (issue 12): the two K × (K + M) × d products,
    # 4·K·N·d flops (8000 at K = M = d = 10), at 16 Gflop/s per core (4-wide AVX2 mul + add,
    # no FMA contraction) -> 0.5 µs; the arccos/sqrt/div pass is bound by the divider on top
    floor_us = 4 * 10 * 20 * 10 / 16e3
    out["step_vs_floor"] = {"floor_us_per_step": floor_us,
                            "cpu_us_per_step_1_thread": out["ensemble_1_thread_subset"]["cpu_us_per_step"],
                            "over_floor": out["ensemble_1_thread_subset"]["cpu_us_per_step"] / floor_us}
    e = out["ensemble"]
    print(f"ensemble: {args.n} inits in {e['wall_s']:.2f} s (median of {args.repeats}), "
          f"{e['inits_per_s']:.0f} inits/s, {total_steps} steps, {e['us_per_step']:.2f} µs/step "
          f"(wall), {e['cpu_us_per_step']:.2f} µs CPU/step; reasons {e['reasons']}, "
          f"global min {e['global_min']}")
    b1 = out["ensemble_1_thread_subset"]
    print(f"ensemble on 1 thread, {args.subset} inits: {b1['us_per_step']:.2f} µs/step "
          f"({b1['cpu_us_per_step']:.2f} µs CPU)")
    for k in ("numpy", "numba_serial"):
        b = out[k]
        print(f"{k}: {b['us_per_step']:.2f} µs/step ({b['cpu_us_per_step']:.2f} µs CPU) on "
              f"{b['subset']} inits -> projected {b['projected_s_for_n']:.1f} s for {args.n}; "
              f"ensemble is {b['ratio_per_step']:.1f}x faster per step (wall)")
    f = out["step_vs_floor"]
    print(f"step on one core: {f['cpu_us_per_step_1_thread']:.2f} µs CPU vs a {f['floor_us_per_step']:.2f} µs "
          f"flop floor ({f['over_floor']:.1f}x)")
    print(f"cpus {out['cpu_count']}, 1-min load average {out['load_avg_1min']:.2f} "
          "(other processes share the cores when this exceeds the core count)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


def _agree(dev, cpu) -> dict:
    """End-point agreement between a device and a CPU ensemble on the same starts: runs with
    the same reason, steps within 2 and W within 1e-8 ("same run"), runs ending at the same
    loss to 1e-9 (the same critical value), and the largest differences. The device's fused
    multiply-adds round differently, so a run that lingers near a saddle can leave it the
    other way: such runs are counted, not hidden."""
    n = len(cpu)
    if n == 0:
        return {"runs": 0}
    dW = np.abs(dev.W - cpu.W).reshape(n, -1).max(axis=1)
    dsteps = np.abs(dev.steps - cpu.steps)
    same_run = (dev.reason == cpu.reason) & (dsteps <= 2) & (dW <= 1e-8)
    same_loss = np.abs(dev.loss - cpu.loss) <= 1e-9 * np.maximum(1.0, np.abs(cpu.loss))
    return {"runs": n, "same_run": int(same_run.sum()), "same_loss": int(same_loss.sum()),
            "same_reason": int((dev.reason == cpu.reason).sum()),
            "max_abs_dW_same_run": float(dW[same_run].max()) if same_run.any() else None,
            "max_abs_dsteps_same_run": int(dsteps[same_run].max()) if same_run.any() else None}


def device_main(args) -> dict:
    """--device cuda: the device ensemble against the CPU kernel on the same starts."""
    from reludyn.dynamics import cuda_gd  # imports numba.cuda only here

    if not cuda_gd.available():
        print(f"bench_ensemble --device cuda: skipped, {cuda_gd.NO_CUDA}")
        return {"skipped": cuda_gd.NO_CUDA}
    k = args.k
    p = Problem.orthonormal(k)
    n, budget, repeats = args.n, BUDGET, args.repeats
    if cuda_gd.simulator():
        n, budget, repeats = min(n, 2), 30, 1
        sys.setswitchinterval(1e-4)  # the simulator polls its threads between barriers
        print("bench_ensemble --device cuda: on Numba's CUDA simulator; checking 2 runs of 30 "
              "steps only (simulator timings mean nothing)")
    W0 = xavier_init(p, n, seed=args.seed)
    from numba import cuda
    name = "simulator" if cuda_gd.simulator() else cuda.get_current_device().name
    name = name.decode() if isinstance(name, bytes) else str(name)

    def dev():
        return gradient_descent(p, W0, ETA, tol=SS_TOL, max_steps=budget, device="cuda")

    def cpu():
        return gradient_descent(p, W0, ETA, tol=SS_TOL, max_steps=budget)

    # warm up (compile) outside the timings
    gradient_descent(p, W0[:2], ETA, tol=SS_TOL, max_steps=10, device="cuda")
    gradient_descent(p, W0[:2], ETA, tol=SS_TOL, max_steps=10)
    t_dev, _, r_dev = timed(dev, repeats)
    t_cpu, _, r_cpu = timed(cpu, repeats)
    agree = _agree(r_dev, r_cpu)
    steps = int(r_cpu.steps.sum())
    out = {
        "protocol": {"K": k, "M": k, "d": k, "teacher": "orthonormal", "init": "xavier",
                     "eta": ETA, "tol_max_row": SS_TOL, "budget": budget, "n": n, "seed": args.seed},
        "device": name, "threads_per_block": cuda_gd.launch_threads(k, k, k),
        "cpu_threads": numba.get_num_threads(), "load_avg_1min": os.getloadavg()[0],
        "cuda": {"wall_s": t_dev, "inits_per_s": n / t_dev, "reasons": r_dev.counts()},
        "cpu": {"wall_s": t_cpu, "inits_per_s": n / t_cpu, "total_steps": steps,
                "us_per_step": 1e6 * t_cpu / max(steps, 1)},
        "ratio_cpu_over_cuda": t_cpu / t_dev, "agreement": agree,
    }
    print(f"k = {k}: cuda ({name}, {out['threads_per_block']} threads/block): {n} inits in {t_dev:.3f} s "
          f"(median of {repeats}); cpu ({out['cpu_threads']} threads): {t_cpu:.3f} s; "
          f"cpu/cuda = {out['ratio_cpu_over_cuda']:.2f}; {steps} steps; reasons "
          f"{r_dev.counts()}; same run {agree['same_run']}/{n}, same end loss "
          f"{agree['same_loss']}/{n}, same reason {agree['same_reason']}/{n} (same runs: max |ΔW| "
          f"{agree['max_abs_dW_same_run']}, max |Δsteps| {agree['max_abs_dsteps_same_run']})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


def early_main(args) -> dict:
    """Early assignment against full runs on the same starts (see the module docstring)."""
    from collections import Counter

    from reludyn.critical import Catalogue
    from reludyn.critical.early import CertifiedAssigner

    k, eta, tol, budget = args.k, ETA, SS_TOL, BUDGET
    device = args.device
    if device == "cuda":
        from reludyn.dynamics import cuda_gd
        if not cuda_gd.available() or cuda_gd.simulator():
            print("bench_ensemble --early --device cuda: skipped, needs a CUDA device (not the simulator)")
            return {"skipped": "no CUDA device"}
    p = Problem.orthonormal(k)
    W0 = xavier_init(p, args.n, seed=args.seed)
    gradient_descent(p, W0[:2], eta, tol=tol, max_steps=10, device=device)  # compile / load the cache
    warm = CertifiedAssigner(p, eta)
    gradient_descent(p, W0[:4], eta, tol=tol, max_steps=budget, early_assign=warm, device=device)

    cold_a = CertifiedAssigner(p, eta)
    t0 = time.perf_counter()
    gradient_descent(p, W0, eta, tol=tol, max_steps=budget, early_assign=cold_a, device=device)
    t_cold = time.perf_counter() - t0
    # alternate full and warm early runs (the machine's load drifts), medians of each
    spent = [0.0]
    real_assign = cold_a.assign

    def timed_assign(W, norm="max_row", tol=0.0):
        t = time.perf_counter()
        try:
            return real_assign(W, norm, tol)
        finally:
            spent[0] += time.perf_counter() - t

    cold_a.assign = timed_assign
    tf, te, cf, ce = [], [], [], []
    for _ in range(args.repeats):
        a_, b_, full = timed(lambda: gradient_descent(p, W0, eta, tol=tol, max_steps=budget,
                                                      device=device), 1)
        tf.append(a_)
        cf.append(b_)
        spent[0] = 0.0
        a_, b_, early = timed(lambda: gradient_descent(p, W0, eta, tol=tol, max_steps=budget,
                                                       early_assign=cold_a, device=device), 1)
        te.append(a_)
        ce.append(b_)
    t_full, c_full = statistics.median(tf), statistics.median(cf)
    t_warm, c_warm = statistics.median(te), statistics.median(ce)
    t_assign = spent[0]
    cat = Catalogue(p)
    ef = [cat.assign(w) for w in full.W]
    ee = [cat.assign(w) for w in early.W]
    a = early.reason == "assigned"
    same_unassigned = bool(np.array_equal(early.W[~a], full.W[~a])
                           and np.array_equal(early.steps[~a], full.steps[~a]))
    out = {"k": k, "n": args.n, "eta": eta, "tol": tol, "device": device,
           "threads": numba.get_num_threads(),
           "loadavg": os.getloadavg(),
           "full_s": t_full, "full_cpu_s": c_full, "assign_s_last_warm_run": t_assign,
           "full_s_all": tf, "early_warm_s_all": te, "early_cold_s": t_cold, "early_warm_s": t_warm,
           "early_warm_cpu_s": c_warm, "speedup_warm": t_full / t_warm, "speedup_cold": t_full / t_cold,
           "step_ratio": None,
           "steps_full": int(full.steps.sum()), "steps_early": int(early.steps.sum()),
           "assigned": int(a.sum()), "reasons_full": full.counts(), "reasons_early": early.counts(),
           "entries_full": dict(Counter(map(str, ef))), "entries_early": dict(Counter(map(str, ee))),
           "same_entry_every_start": ef == ee, "unassigned_bit_identical": same_unassigned,
           "certified_balls": [{"loss": b.loss, "radius": b.radius, "lambda": list(b.lam),
                                "seconds": b.seconds} for b in cold_a.balls],
           "assigner_stats": cold_a.stats}
    out["step_ratio"] = out["steps_full"] / out["steps_early"]
    print(f"k = {k}, {args.n} starts, device {device}, {out['threads']} CPU threads, "
          f"load {out['loadavg'][0]:.2f}")
    print(f"  full runs      {t_full:8.3f} s  ({out['steps_full']} steps)")
    print(f"  early (cold)   {t_cold:8.3f} s  (certifies {len(cold_a.balls)} minima)")
    print(f"  early (warm)   {t_warm:8.3f} s  ({out['steps_early']} steps, {out['assigned']} "
          f"assigned)  speed-up {out['speedup_warm']:.2f}x (steps {out['step_ratio']:.2f}x; "
          f"assigner {t_assign:.3f} s)")
    print(f"  same catalogue entry for every start: {out['same_entry_every_start']}; "
          f"unassigned runs bit-identical: {same_unassigned}")
    print(f"  entries: {out['entries_full']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, default=str)
    return out


if __name__ == "__main__":
    main()
