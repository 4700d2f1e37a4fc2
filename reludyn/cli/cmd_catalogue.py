"""``reludyn catalogue``: find, deduplicate and classify critical points; write a catalogue.

Writes OUTPUT (JSON catalogue, rewritten every --save-every seeds, so an
interrupted run resumes when rerun with the same options) and OUTPUT with
suffix .csv (one summary row per entry); prints a table sorted by loss.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import CLIError
from .common import add_problem_args, nonneg_int_arg, positive_float_arg, positive_int_arg, \
    problem_from_args

_STRATS = ("random", "gd", "symmetric", "in_plane", "out_of_plane", "teacher_noise", "isotropy")


def _strategy_counts(text: str) -> dict:
    """'gd=200,random=100' -> {'gd': 200, 'random': 100}."""
    out = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, num = part.partition("=")
        name = name.strip()
        if not sep:
            raise argparse.ArgumentTypeError(f"expected NAME=COUNT, got {part!r}")
        if name not in _STRATS:
            raise argparse.ArgumentTypeError(
                f"unknown strategy {name!r}; choose from {', '.join(_STRATS)}")
        try:
            n = int(num)
        except ValueError:
            raise argparse.ArgumentTypeError(f"count of {name!r} must be an integer, "
                                             f"got {num!r}") from None
        if n < 0:
            raise argparse.ArgumentTypeError(f"count of {name!r} must be >= 0, got {n}")
        out[name] = n
    if not out:
        raise argparse.ArgumentTypeError("no NAME=COUNT pairs given")
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "catalogue",
        help="find and classify critical points (minima, saddles, degenerate sets)",
        description="Seed the solvers (random starts, gradient-descent end and plateau points, "
        "symmetric fixed-point subspaces, in-/out-of-plane points, noisy teacher), solve "
        "grad J = 0 with SciPy (hybr, lm, least_squares) and a Newton polish, merge points "
        "related by the symmetries of J, classify each by its Hessian, and write a JSON "
        "catalogue plus a CSV summary. Rerunning with the same output resumes.",
    )
    add_problem_args(p)
    g = p.add_argument_group("seeds")
    g.add_argument("-n", "--n-seeds", type=nonneg_int_arg, default=100,
                   help="total seeds, split evenly over --strategies (default 100; for gd "
                        "a seed is one descent run, adding its end point and plateau points)")
    g.add_argument("--strategies", default=None,
                   help=f"comma-separated subset of {','.join(_STRATS)} (default: all that "
                        "apply to the problem)")
    g.add_argument("--counts", type=_strategy_counts, default=None,
                   help="per-strategy counts NAME=COUNT,... (overrides -n and --strategies)")
    g.add_argument("--points", help=".npy file of extra user seeds, shape (n, K, d)")
    g.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of every random draw")
    s = p.add_argument_group("solver")
    s.add_argument("--methods", default="hybr,lm,lsq",
                   help="solvers tried in order: hybr, lm (scipy.optimize.root), lsq "
                        "(least_squares) (default hybr,lm,lsq)")
    s.add_argument("--tol", type=positive_float_arg, default=1e-10,
                   help="accept a point when |grad J| <= tol (default 1e-10)")
    s.add_argument("--dedup-tol", type=positive_float_arg, default=1e-6,
                   help="relative tolerance for merging symmetric copies (default 1e-6)")
    s.add_argument("--null-rtol", type=positive_float_arg, default=1e-7,
                   help="relative tolerance of a zero Hessian eigenvalue (default 1e-7)")
    s.add_argument("--max-nfev", type=positive_int_arg, default=300,
                   help="function-evaluation budget per solver call (default 300)")
    s.add_argument("--workers", type=nonneg_int_arg, default=0,
                   help="processes for the solves; 0 = one per available core, at most 8 "
                        "(default 0; the catalogue does not depend on it)")
    o = p.add_argument_group("output")
    o.add_argument("-o", "--output", default="catalogue.json", help="catalogue JSON path")
    o.add_argument("--save-every", type=positive_int_arg, default=50,
                   help="rewrite the catalogue every this many seeds (default 50)")
    o.add_argument("--fresh", action="store_true",
                   help="ignore an existing OUTPUT instead of resuming from it")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    o.add_argument("--isotropy", action="store_true",
                   help="group the printed table by isotropy group (largest first)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..critical import find_critical_points
    from ..critical.find import default_workers

    problem = problem_from_args(args)
    out = Path(args.output)
    if out.suffix.lower() != ".json":
        raise CLIError(f"--output must end in .json, got {str(out)!r}")
    strategies = None
    if args.strategies:
        strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
        bad = [s for s in strategies if s not in _STRATS]
        if bad:
            raise CLIError(f"unknown strategies {bad}; choose from {', '.join(_STRATS)}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    points = None
    if args.points:
        path = Path(args.points)
        if not path.is_file():
            raise CLIError(f"--points file {str(path)!r} does not exist")
        try:
            points = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise CLIError(f"cannot read --points {str(path)!r}: {exc}") from None
    n_seeds = args.counts if args.counts is not None else args.n_seeds
    t0 = time.perf_counter()
    cat = find_critical_points(
        problem, strategies=strategies, n_seeds=n_seeds, seed=args.seed, points=points,
        methods=methods, tol=args.tol, dedup_tol=args.dedup_tol, null_rtol=args.null_rtol,
        max_nfev=args.max_nfev, workers=args.workers or default_workers(),
        progress=not args.no_progress, out=out, resume=not args.fresh,
        save_every=args.save_every)
    wall = time.perf_counter() - t0
    csv_path = out.with_suffix(".csv")
    cat.to_csv(csv_path)
    prov = cat.provenance
    print(f"{problem!r}: {len(cat)} critical points from {prov['n_seed_points']} seed points "
          f"({prov['accepted']} accepted, {prov['rejected']} rejected) in {wall:.1f} s")
    print(cat.table(by_isotropy=args.isotropy))
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(cat.kinds().items()))
    print(f"\n{kinds}\nwrote {out} and {csv_path}")
    return 0
