"""``reludyn family``: follow a critical point of given isotropy through K (V = I_K, d = K)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import CLIError
from .common import locked, nonneg_int_arg, output_file_arg, positive_int_arg


def _k_range(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition(":")
    try:
        a = int(lo)
        b = int(hi) if sep else a
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K range LO:HI (e.g. 6:1000), got {text!r}") from None
    if a < 1 or b < a:
        raise argparse.ArgumentTypeError(f"K range needs 1 <= LO <= HI, got {text!r}")
    return a, b


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def register(sub) -> None:
    p = sub.add_parser(
        "family",
        help="follow a symmetric critical point through K in its fixed-point subspace",
        description="Find the critical points of J in the fixed-point subspace of the isotropy "
        "Δ(S_p1×…×S_pr) (orthonormal teacher, d = K) at the first K, pick one, and follow it "
        "K by K (reduced Newton, warm start), recording its loss, λ_min, Morse index (from the "
        "isotypic decomposition of the Hessian) and the K where the index changes; fit K·J(K) "
        "by a power series in 1/√K. Prints a table, writes JSON and a figure.",
    )
    p.add_argument("--isotropy", required=True,
                   help="block pattern, K substituted: 'K-1,1' (type A), 'K', 'K-2,1,1', ...")
    p.add_argument("--K", dest="K_range", type=_k_range, required=True, metavar="LO:HI",
                   help="range of widths K to record, e.g. 6:1000")
    p.add_argument("--start-K", type=positive_int_arg, default=None,
                   help="K at which the start is found (default: LO)")
    p.add_argument("--theta", type=_floats, default=None,
                   help="start parameters (α_1..α_r, then β_ab row-major) instead of a search")
    p.add_argument("--select", type=nonneg_int_arg, default=0,
                   help="which non-global critical point of the search to follow, by loss "
                        "(default 0: lowest)")
    p.add_argument("--n-starts", type=positive_int_arg, default=64, help="search starts (default 64)")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of the search starts")
    p.add_argument("--every", type=positive_int_arg, default=1, help="print every n-th K")
    p.add_argument("-o", "--out", "--output", dest="out", default=None, type=output_file_arg, help="JSON output (default: none)")
    p.add_argument("--figure", default=None, help="figure (.png/.pdf/.svg; default: next to --out)")
    p.set_defaults(func=locked(run, "out"))


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import io as rio
    from ..critical.family import follow_family, plot_family
    from ..critical.fixedpoint import BlockStructure, find_reduced_critical_points, parse_blocks

    # file names are checked before the (possibly long) computation
    if args.out and Path(args.out).suffix.lower() != ".json":
        raise CLIError(f"--out must end in .json, got {args.out!r}")
    fig = args.figure or (str(Path(args.out).with_suffix(".png")) if args.out else None)
    if fig and Path(fig).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise CLIError(f"--figure {fig!r}: use a .png, .pdf or .svg file name")
    lo, hi = args.K_range
    K0 = args.start_K or lo
    try:
        blocks = parse_blocks(args.isotropy, K0)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    st = BlockStructure(blocks)
    if args.theta is not None:
        if len(args.theta) != st.dim:
            raise CLIError(f"--theta needs {st.dim} numbers for {st.label}, got {len(args.theta)}")
        theta = np.asarray(args.theta)
    else:
        found = [r for r in find_reduced_critical_points(st, args.n_starts, args.seed)
                 if r.loss > 1e-10]
        if not found:
            raise CLIError(f"no non-global critical point found in Fix({st.label}) at K = {K0}")
        print(f"critical points in Fix({st.label}) at K = {K0} (non-global, by loss):")
        for i, r in enumerate(found):
            print(f"  [{i}] J = {r.loss:.10f}  theta = {np.array2string(r.theta, precision=6)}")
        if args.select >= len(found):
            raise CLIError(f"--select {args.select}: only {len(found)} points found")
        theta = found[args.select].theta
    t0 = time.perf_counter()
    try:
        fam = follow_family((K0, theta), range(lo, hi + 1), pattern=args.isotropy)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    wall = time.perf_counter() - t0
    print(fam.table(every=args.every))
    d = fam.to_dict()
    if "fit" in d:
        c = d["fit"]["coefficients"]
        q = "K·J(K)" if d["fit"]["quantity"] == "K*J" else "J(K)"
        print(f"fit {q} = " + " + ".join(f"{v:.6g}·K^(-{i}/2)" for i, v in enumerate(c))
              + f"  (K >= {d['fit']['K_min']})")
    first = fam.first_minimum_K()
    print(f"minimum from K = {first}" if first is not None else "not a minimum at the largest K")
    print(f"followed {len(fam.points)} widths in {wall:.1f} s")
    if args.out:
        rio.write_json(Path(args.out), d)
        print(f"wrote {args.out}")
    if fig:
        plot_family(fam, fig)
        print(f"wrote {fig}")
    return 0
