"""Beyond the paper (m): the Safran–Yehudai–Shamir census, k = n, with certified early assignment.

Protocol of Safran, Yehudai & Shamir (COLT 2021): orthonormal teacher V = I_k, K = M = d = k,
500 starts W₀ = N(0, 1)/√k, gradient descent with the fixed step 5/k, stop at Frobenius
‖∇J‖ <= 1e-12; a run is global iff ‖WᵀW − I‖_F < 1e-6. Runs go through the resumable
runner (reludyn.runner: one task per chunk of starts, saved as it finishes, an interrupted
census resumes without recomputing finished chunks; --scheduler tcp://host:8786 sends the
chunks to a Dask cluster), optionally (--early-assign) with certified early assignment
(reludyn.critical.early), on a GPU with --device cuda (one thread block per run; the device
is part of the chunks' fingerprint, so a GPU work directory is not resumed on the CPU).
Per k: the global fraction with its 95% Wilson interval against the published count
(two-proportion z-test, within sampling error iff |z| < 1.96), the distinct spurious minima
(matched modulo the symmetries of J by reludyn.critical.Catalogue), the lowest and the most
frequent spurious loss with their row-block sizes (rows clustered by their sorted entries),
stop reasons and the wall time.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from analyses import common
from reludyn import Problem
from reludyn.io import read_json, write_json

NAME = "beyond_m_sys_census"
# Safran, Yehudai & Shamir (COLT 2021): runs of 500 reaching the global minimum
PUBLISHED = {7: 473, 10: 340, 15: 110, 20: 29, 25: 7, 30: 2, **{k: 0 for k in range(31, 38)}}
PUBLISHED_N = 500


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=common.int_list, default=None,
                   help="k values (default 6-50; --fast 6-8)")
    p.add_argument("--n", type=int, default=None, help="starts per k (default 500; --fast 40)")
    p.add_argument("--max-steps", type=int, default=1_000_000, help="GD step budget per run")
    p.add_argument("--chunk", type=int, default=50, help="starts per saved task (default 50)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address tcp://host:8786 (chunks run on its workers)")
    p.add_argument("--work-dir", default=None,
                   help="run directory of the chunks (default OUT_DIR/beyond_m_sys_census.work); "
                   "rerunning with the same one resumes")
    p.add_argument("--early-assign", action="store_true",
                   help="certified early assignment (off by default: with 500 starts and "
                   "10+ distinct minima per k, certifying them costs more than the tails it "
                   "saves at step 5/k; see REPRODUCTION.md section m)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where gradient descent runs (cuda: one thread block per run, needs "
                   "numba-cuda and a GPU; use --chunk 500 to give the GPU every run of a k at once)")
    p.add_argument("--catalogue-max-k", type=int, default=30,
                   help="above this k, spurious minima are told apart by loss only (default 30)")
    args = p.parse_args(argv)
    if args.n is not None and args.n < 1:
        p.error("--n must be positive")
    return args


def blocks(W: np.ndarray, tol: float = 1e-6) -> list[int]:
    """Sizes (descending) of the groups of rows of W equal up to a permutation of their
    entries (a cheap stand-in for the isotropy: type A gives [k − 1, 1])."""
    keys = np.sort(W, axis=1)
    labels = -np.ones(len(W), dtype=int)
    n = 0
    for i in range(len(W)):
        if labels[i] < 0:
            same = (labels < 0) & (np.max(np.abs(keys - keys[i]), axis=1) <= tol)
            labels[same] = n
            n += 1
    return sorted(np.bincount(labels).tolist(), reverse=True)


def two_proportion_z(a: int, n: int, b: int, m: int) -> float:
    """z statistic of a/n against b/m (pooled); 0 when both are 0 or 1."""
    p = (a + b) / (n + m)
    s = math.sqrt(p * (1 - p) * (1 / n + 1 / m))
    return 0.0 if s == 0 else (a / n - b / m) / s


def gd_timing(kdir: Path, before: int, n_chunks: int, seconds: float, spec: dict):
    """(GD seconds of the run that computed k's chunks, how this run got them).

    A run that computed every chunk records its time in ``kdir/timing.json`` with the
    settings it ran (``spec``); a later run that finds every chunk done ("resumed") reports
    that recorded time when the settings agree, so per-k times survive the resumes of a
    census split over several invocations.  A partly resumed k ("partial") reports this
    run's time, which covers only the chunks it computed.
    """
    path = kdir / "timing.json"
    if before == 0:
        write_json(path, dict(spec, seconds_gd=round(seconds, 3)))
        return seconds, "computed"
    if before >= n_chunks and path.exists():
        try:
            rec = read_json(path, "census timing file")
        except (OSError, ValueError):
            rec = {}
        rec = rec if isinstance(rec, dict) else {}
        if {k: rec.get(k) for k in spec} == spec and isinstance(rec.get("seconds_gd"), (int, float)):
            return float(rec["seconds_gd"]), "resumed"
    return seconds, "partial" if before < n_chunks else "resumed (time of this run)"


def census(k: int, n: int, args, work: Path) -> dict:
    from reludyn.critical import Catalogue
    from reludyn.critical import early  # noqa: F401  (registers the certified assigner)
    from reludyn.dynamics import GDSettings, run_chunked
    from reludyn.runner import Executor

    t0 = time.perf_counter()
    pb = Problem.orthonormal(k)
    rng = np.random.default_rng([args.seed, k])
    W0 = rng.normal(size=(n, k, k)) / math.sqrt(k)
    early = args.early_assign
    dyn = GDSettings(eta=5.0 / k, tol=1e-12, norm="fro", max_steps=args.max_steps,
                     early_assign=early, device=args.device)
    kdir = work / f"k{k:03d}"
    ex = Executor(workers=args.workers, scheduler=args.scheduler, chunk=args.chunk,
                  out_dir=kdir, progress=not args.quiet)
    before = len(list((kdir / "tasks").glob("*.npz")))
    ends = run_chunked(pb, W0, dyn, ex, label=f"SYS k={k}", key="chunk")
    t_gd = t_run = time.perf_counter() - t0
    t_gd, gd_run = gd_timing(kdir, before, math.ceil(n / args.chunk), t_gd,
                             {"k": k, "n": n, "chunk": args.chunk, "seed": args.seed,
                              "max_steps": args.max_steps, "early_assign": early,
                              **({"device": args.device} if args.device != "cpu" else {})})
    I = np.eye(k)
    dev = np.linalg.norm(np.einsum("nji,njk->nik", ends.W, ends.W) - I, axis=(1, 2))
    is_global = dev < 1e-6
    stopped = np.isin(ends.reason, ("converged", "assigned"))
    spur_idx = np.flatnonzero(stopped & ~is_global)
    entries: dict = {}
    if k <= args.catalogue_max_k:
        cat = Catalogue(pb)
        for i in spur_idx:
            e = cat.assign(ends.W[i])
            key = ("entry", -1 if e is None else e)
            entries.setdefault(key, []).append(int(i))
        kinds = {key: (cat.entries[key[1]].kind if key[1] >= 0 else "unmatched") for key in entries}
    else:
        for i in spur_idx:
            entries.setdefault(("loss", round(float(ends.loss[i]), 9)), []).append(int(i))
        kinds = {key: "spurious_min" for key in entries}
    minima = []
    for key, idx in entries.items():
        W = ends.W[idx[0]]
        minima.append({"loss": float(np.median(ends.loss[idx])), "hits": len(idx),
                       "kind": kinds[key], "blocks": blocks(W)})
    minima.sort(key=lambda m: m["loss"])
    spurious = [m for m in minima if m["kind"] == "spurious_min"]
    g = int(is_global.sum())
    row = {"k": k, "n": n, "eta": 5.0 / k, "global": g, "global_fraction": g / n,
           "wilson95": common.wilson(g, n), "spurious_runs": int(len(spur_idx)),
           "distinct_spurious": len(spurious), "minima": minima,
           "reasons": {str(a): int(b) for a, b in zip(*np.unique(ends.reason, return_counts=True))},
           "median_steps": float(np.median(ends.time)), "seconds_gd": round(t_gd, 2),
           "gd_run": gd_run,
           "seconds": round(t_gd + time.perf_counter() - t0 - t_run, 2)}
    if spurious:
        low = spurious[0]
        freq = max(spurious, key=lambda m: m["hits"])
        row["lowest_spurious"] = {"loss": low["loss"], "hits": low["hits"], "blocks": low["blocks"]}
        row["most_frequent_spurious"] = {"loss": freq["loss"], "hits": freq["hits"],
                                         "blocks": freq["blocks"]}
    if k in PUBLISHED:
        b = PUBLISHED[k]
        z = two_proportion_z(g, n, b, PUBLISHED_N)
        row["published"] = {"global": b, "n": PUBLISHED_N, "fraction": b / PUBLISHED_N,
                            "wilson95": common.wilson(b, PUBLISHED_N), "z": z,
                            "within_sampling_error": bool(abs(z) < 1.96)}
    return row


def table(rows: list[dict]) -> str:
    """Markdown table of the per-k rows."""
    head = ("| k | global / n | 95% Wilson | published | z | distinct spurious | lowest spurious J "
            "(blocks) | most frequent J (hits, blocks) | reasons | time (s) |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    out = []
    for r in rows:
        pub = r.get("published")
        lo, hi = r["wilson95"]
        low = r.get("lowest_spurious")
        freq = r.get("most_frequent_spurious")
        out.append("| {} | {}/{} | [{:.3f}, {:.3f}] | {} | {} | {} | {} | {} | {} | {:.1f} |".format(
            r["k"], r["global"], r["n"], lo, hi,
            f"{pub['global']}/{pub['n']}" if pub else "–",
            f"{pub['z']:+.2f}{'' if pub['within_sampling_error'] else ' (!)'}" if pub else "–",
            r["distinct_spurious"],
            f"{low['loss']:.8f} {low['blocks']}" if low else "–",
            f"{freq['loss']:.8f} ({freq['hits']}, {freq['blocks']})" if freq else "–",
            ", ".join(f"{a} {b}" for a, b in sorted(r["reasons"].items())), r["seconds"]))
    return head + "\n".join(out) + "\n"


def plot(rows: list[dict], n: int, out: Path) -> str:
    """Global fraction against k (with the published counts) and wall time per k."""
    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4.2))
    ks = np.array([r["k"] for r in rows])
    f = np.array([r["global_fraction"] for r in rows])
    lo = np.array([r["wilson95"][0] for r in rows])
    hi = np.array([r["wilson95"][1] for r in rows])
    a0.errorbar(ks, f, yerr=[np.maximum(f - lo, 0), np.maximum(hi - f, 0)], fmt="o-", ms=4,
                capsize=2, label=f"reludyn ({n} starts)")
    pk = sorted(PUBLISHED)
    a0.plot(pk, [PUBLISHED[k] / PUBLISHED_N for k in pk], "s", color="tab:red", ms=5,
            label="Safran, Yehudai & Shamir (500)")
    a0.set_xlabel("k = n")
    a0.set_ylabel("fraction of runs → global minimum")
    a0.set_title("GD step 5/k, ‖∇J‖_F ≤ 1e-12; bars: 95% Wilson")
    a0.legend(fontsize=8)
    a0.grid(alpha=0.3)
    a1.plot(ks, [r["seconds"] for r in rows], "o-", ms=4)
    a1.set_xlabel("k = n")
    a1.set_ylabel("wall time per k (s)")
    a1.set_yscale("log")
    a1.grid(alpha=0.3)
    return common.savefig(fig, out, f"{NAME}.png")


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    sizes = args.sizes or (list(range(6, 9)) if args.fast else list(range(6, 51)))
    n = args.n or (40 if args.fast else 500)
    if min(sizes) < 2:
        raise ValueError("sizes must be >= 2")
    work = Path(args.work_dir) if args.work_dir else out / f"{NAME}.work"
    rows = []
    for k in sizes:
        rows.append(census(k, n, args, work))
        r = rows[-1]
        common.log(args, f"  k = {k}: global {r['global']}/{n}, {r['distinct_spurious']} distinct "
                   f"spurious, {r['seconds']:.1f} s")
        # the table so far, after every k (a long census can be read while it runs)
        (out / f"{NAME}.md").write_text(table(rows))

    fig1 = plot(rows, n, out)
    comp = [r for r in rows if "published" in r]
    measured = "global/n: " + ", ".join(f"k={r['k']}: {r['global']}/{r['n']}" for r in rows)
    if comp:
        bad = [r["k"] for r in comp if not r["published"]["within_sampling_error"]]
        measured += ("; vs published: all within sampling error" if not bad
                     else f"; outside sampling error at k = {bad}")
    return common.finish(
        out, NAME, claim="m", title="Safran–Yehudai–Shamir census (k = n, step 5/k, tol 1e-12)",
        figures=[fig1], measured=measured, verdict=common.MEASURED,
        numbers={"rows": rows, "sizes": sizes, "n": n, "early_assign": args.early_assign,
                 "device": args.device, "published": {str(k): v for k, v in PUBLISHED.items()}},
        t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
