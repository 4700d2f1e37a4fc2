"""Beyond the paper (i): a census of spurious local minima.

K = M = d = 6..20, orthonormal teacher, Xavier N(0, 1/d) starts, population GD with η = 0.1
until the largest row gradient norm is below 1.6e-10 (reludyn.basins.basin_fractions);
every converged end is matched, modulo the symmetries of J, to a catalogue entry
(reludyn.critical.Catalogue: Newton-polished and classified by its Hessian when new).
Reported per size: the fraction of starts ending at a spurious minimum (95% Wilson interval),
the distinct spurious minima with loss, Hessian λ_min and hit counts; the same with one and
two extra student rows (K = M + 1, M + 2), where GD approaches the (degenerate) global minima
sublinearly: runs stopped by the step budget are classified by their loss.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from analyses import common
from reludyn import Problem

NAME = "beyond_i_spurious_census"
SPURIOUS = ("spurious_min",)


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=common.int_list, default=None, help="M = d values (default 6-20; --fast 6-10)")
    p.add_argument("--extra-sizes", type=common.int_list, default=None,
                   help="M values for K = M+1, M+2 (default 6-10; --fast 6,8)")
    p.add_argument("--n", type=int, default=None, help="starts per size (default 1000; --fast 200)")
    p.add_argument("--n-extra", type=int, default=None, help="starts per over-parameterized size (default 300; --fast 100)")
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=1.6e-10, help="stop: largest row gradient norm (default 1.6e-10)")
    p.add_argument("--max-steps", type=int, default=200_000, help="step budget for K = M (default 200000)")
    p.add_argument("--max-steps-extra", type=int, default=None,
                   help="step budget for K > M (default 50000; --fast 20000)")
    p.add_argument("--global-loss", type=float, default=1e-8,
                   help="a budget-stopped run with J below this counts as reaching a global minimum")
    p.add_argument("--work-dir", default=None, help="keep per-chunk results here and resume from them")
    return p.parse_args(argv)


def census(M: int, K: int, n: int, args) -> dict:
    from reludyn.basins import basin_fractions
    from reludyn.critical import Catalogue
    from reludyn.dynamics import GDSettings
    from reludyn.runner import Executor

    pb = Problem.orthonormal(M, M, K=K)
    cat = Catalogue(pb)
    cat.add(pb.teacher_padded())
    work = None if args.work_dir is None else Path(args.work_dir) / f"M{M}_K{K}"
    budget = args.max_steps if K == M else args.max_steps_extra
    res = basin_fractions(pb, cat, n=n, init="xavier", seed=args.seed * 1000 + 10 * M + (K - M),
                          dynamics=GDSettings(eta=args.eta, tol=args.tol, max_steps=budget),
                          executor=Executor(chunk=50, out_dir=work, progress=not args.quiet))
    kind = np.array([cat.entries[i].kind if i >= 0 else "none" for i in res.labels])
    entry_loss = np.array([cat.entries[i].loss if i >= 0 else np.nan for i in res.labels])
    unassigned = res.labels < 0
    near_global = unassigned & (res.loss <= args.global_loss)
    # for K > M the teacher padded with a zero row is a global minimum where J is not
    # differentiable (kind "nondifferentiable"); count every J = 0 end as global
    at_global = (~unassigned & (entry_loss <= args.global_loss)) | near_global
    spur = np.isin(kind, SPURIOUS)
    undecided = unassigned & ~near_global
    k = int(spur.sum())
    minima = []
    for row in res.table:
        e = cat.entries[row["entry"]]
        if e.kind in SPURIOUS or e.kind == "degenerate":
            ev = np.asarray(e.eigenvalues)
            minima.append({"entry": row["entry"], "kind": e.kind, "loss": float(e.loss),
                           "lambda_min": float(ev[0]) if ev.size else None,
                           "lambda_min_nonzero": float(ev[np.abs(ev) > 1e-7 * np.abs(ev).max()][0])
                           if ev.size else None,
                           "nullity": int(e.nullity), "hits": int(row["count"]),
                           "fraction": row["fraction"], "orbit_size": e.orbit_size})
    minima.sort(key=lambda m: m["loss"])
    return {"M": M, "K": K, "d": M, "n": n, "max_steps": budget,
            "spurious": k, "fraction": k / n, "wilson95": common.wilson(k, n),
            "global": int(at_global.sum()),
            "degenerate": int(np.sum((kind == "degenerate") & ~at_global)),
            "saddle": int(np.sum(kind == "saddle")), "undecided": int(undecided.sum()),
            "other": int(np.sum(~unassigned & ~at_global & ~spur & ~np.isin(kind, ("degenerate", "saddle")))),
            "undecided_max_loss": float(res.loss[undecided].max()) if undecided.any() else None,
            "reasons": {str(a): int(b) for a, b in zip(*np.unique(res.reason, return_counts=True))},
            "median_steps": float(np.median(res.time)), "minima": minima}


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    sizes = args.sizes or (list(range(6, 11)) if args.fast else list(range(6, 21)))
    extra = args.extra_sizes if args.extra_sizes is not None else ([6, 8] if args.fast else list(range(6, 11)))
    n = args.n or (200 if args.fast else 1000)
    n_extra = args.n_extra or (100 if args.fast else 300)
    if args.max_steps_extra is None:
        args.max_steps_extra = 20_000 if args.fast else 50_000
    if min(sizes + extra, default=2) < 2:
        raise ValueError("sizes must be >= 2")
    rows = []
    for M in sizes:
        rows.append(census(M, M, n, args))
        common.log(args, f"  K = M = {M}: spurious {rows[-1]['fraction']:.3f}, "
                   f"{len(rows[-1]['minima'])} distinct")
    for M in extra:
        for k_extra in (1, 2):
            rows.append(census(M, M + k_extra, n_extra, args))
            r = rows[-1]
            common.log(args, f"  M = {M}, K = {M + k_extra}: spurious {r['fraction']:.3f}, "
                       f"undecided {r['undecided']}")

    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4.2))
    for ke, mk in zip((0, 1, 2), "osd"):
        sel = [r for r in rows if r["K"] - r["M"] == ke]
        if not sel:
            continue
        f = np.array([r["fraction"] for r in sel])
        lo = f - np.array([r["wilson95"][0] for r in sel])
        hi = np.array([r["wilson95"][1] for r in sel]) - f
        a0.errorbar([r["M"] + 0.1 * ke for r in sel], f, yerr=[np.maximum(lo, 0), np.maximum(hi, 0)],
                    fmt=mk + "-", ms=4,
                    capsize=2, label=["K = M", "K = M + 1", "K = M + 2"][ke])
    a0.set_xlabel("M = d (orthonormal teacher)")
    a0.set_ylabel("fraction of Xavier starts → spurious min")
    a0.set_title("GD η = 0.1; bars: 95% Wilson")
    a0.legend(fontsize=8)
    a0.grid(alpha=0.3)
    for r in rows:
        if r["K"] != r["M"]:
            continue
        for m in r["minima"]:
            a1.scatter(r["M"], m["loss"], s=8 + 150 * m["fraction"], alpha=0.6,
                       c="tab:red" if m["kind"] == "spurious_min" else "tab:gray")
    a1.set_yscale("log")
    a1.set_xlabel("K = M = d")
    a1.set_ylabel("loss J of the spurious minimum")
    a1.set_title("distinct spurious minima (area ∝ basin fraction)")
    a1.grid(alpha=0.3)
    fig1 = common.savefig(fig, out, "beyond_i_spurious_census.png")

    sq = [r for r in rows if r["K"] == r["M"]]
    first = next((r["M"] for r in sq if r["spurious"] > 0), None)
    over = [r for r in rows if r["K"] > r["M"]]
    measured = ("K = M: spurious fraction " + ", ".join(
        f"{r['M']}: {r['fraction']:.3f} ({len(r['minima'])})" for r in sq)
        + " (in parentheses: distinct minima)")
    if over:
        measured += ("; K > M: " + ", ".join(
            f"{r['M']}+{r['K'] - r['M']}: {r['fraction']:.3f}" for r in over)
            + f" (undecided {sum(r['undecided'] for r in over)})")
    return common.finish(
        out, NAME, claim="i", title="census of spurious minima (K = M = d, Xavier, GD)",
        figures=[fig1], measured=measured, verdict=common.MEASURED,
        numbers={"rows": rows, "first_size_with_spurious": first, "eta": args.eta, "tol": args.tol},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
