"""``reludyn catalogue``: find, deduplicate and classify critical points; write a catalogue.

Writes OUTPUT (JSON catalogue, rewritten as each task of --save-every seeds finishes;
the finished tasks are kept in OUTPUT stem + .chunks/ through :mod:`reludyn.runner`, so an
interrupted run resumes when rerun with the same options) and OUTPUT with
suffix .csv (one summary row per entry); prints a table sorted by loss, ending with the
Chao1 completeness estimate.  --until-saturated repeats rounds of -n seeds until few
entries are expected unseen (:func:`reludyn.critical.find_until_saturated`); --plot draws
the saturation curve (:mod:`reludyn.plots.saturation`).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import CLIError
from .common import add_problem_args, locked, nonneg_int_arg, output_file_arg, \
    positive_float_arg, positive_int_arg, problem_from_args


def _strategy_names() -> tuple[str, ...]:
    """The seed strategies selectable by name (read when used: the CLI starts without critical/)."""
    from ..critical.seeds import NAMED_STRATEGIES
    return NAMED_STRATEGIES


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
        if name not in _strategy_names():
            raise argparse.ArgumentTypeError(
                f"unknown strategy {name!r}; choose from {', '.join(_strategy_names())}")
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
        "grad J = 0 with the batched native Newton/Levenberg-Marquardt solver (SciPy's hybr, "
        "lm, least_squares as fallback) and a Newton polish, merge points "
        "related by the symmetries of J, classify each by its Hessian, and write a JSON "
        "catalogue plus a CSV summary. Rerunning with the same output resumes.",
    )
    add_problem_args(p)
    g = p.add_argument_group("seeds")
    g.add_argument("-n", "--n-seeds", type=nonneg_int_arg, default=100,
                   help="total seeds, split evenly over --strategies (default 100; for gd "
                        "a seed is one descent run, adding its end point and plateau points)")
    g.add_argument("--strategies", default=None,
                   help="comma-separated seed strategies, e.g. random,gd,in_plane (default: "
                        "all that apply to the problem; an unknown name lists them)")
    g.add_argument("--counts", type=_strategy_counts, default=None,
                   help="per-strategy counts NAME=COUNT,... (overrides -n and --strategies)")
    g.add_argument("--points", help=".npy file of extra user seeds, shape (n, K, d)")
    g.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of every random draw")
    s = p.add_argument_group("solver")
    s.add_argument("--methods", default="native,hybr,lm,lsq",
                   help="solvers tried in order: native (batched jitted Newton/LM on the "
                        "analytic Hessian), hybr, lm (scipy.optimize.root), lsq "
                        "(least_squares); with native first the others only get the seeds "
                        "it does not converge from (default native,hybr,lm,lsq)")
    s.add_argument("--tol", type=positive_float_arg, default=1e-10,
                   help="accept a point when |grad J| <= tol (default 1e-10)")
    s.add_argument("--dedup-tol", type=positive_float_arg, default=1e-6,
                   help="relative tolerance for merging symmetric copies (default 1e-6)")
    s.add_argument("--null-rtol", type=positive_float_arg, default=1e-7,
                   help="relative tolerance of a zero Hessian eigenvalue (default 1e-7)")
    s.add_argument("--max-nfev", type=positive_int_arg, default=300,
                   help="function-evaluation budget per solver call (default 300)")
    s.add_argument("--follow-modes", type=nonneg_int_arg, default=0, metavar="N",
                   help="after the seeds, follow the N softest Hessian modes of every "
                        "minimum found, both ways, to index-1 saddles (default 0: off)")
    s.add_argument("--workers", type=nonneg_int_arg, default=0,
                   help="processes for the solves; 0 = one per available core, at most 8 "
                        "(default 0; the catalogue does not depend on it)")
    o = p.add_argument_group("output")
    o.add_argument("-o", "--out", "--output", dest="output", type=output_file_arg,
                   default="catalogue.json", help="catalogue JSON path (checked writable, "
                   "locked against a second run writing it)")
    o.add_argument("--save-every", type=positive_int_arg, default=50,
                   help="seeds per task: the unit of parallel work and of resuming; the "
                        "catalogue is rewritten as tasks finish (default 50; the catalogue "
                        "does not depend on it)")
    o.add_argument("--fresh", action="store_true",
                   help="ignore an existing OUTPUT instead of resuming from it")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    c = p.add_argument_group("completeness")
    c.add_argument("--until-saturated", action="store_true",
                   help="repeat rounds of -n seeds (new seeds each round, derived from --seed) "
                        "until the Chao1 estimate of unseen entries falls below --unseen-below "
                        "or --max-seeds are spent; rerunning resumes")
    c.add_argument("--max-seeds", type=positive_int_arg, default=None,
                   help="seed budget over all rounds of --until-saturated (default 10 x -n)")
    c.add_argument("--unseen-below", type=positive_float_arg, default=None,
                   help="Chao1 threshold of --until-saturated (default 1: fewer than one "
                        "entry expected unseen)")
    c.add_argument("--plot", nargs="?", const="", default=None, metavar="PATH",
                   help="draw the saturation curve (distinct entries vs starts, per kind, "
                        "with the Chao1 asymptote) to PATH (.png/.svg/.pdf; default "
                        "OUTPUT stem + _saturation.png)")
    o.add_argument("--isotropy", action="store_true",
                   help="group the printed table by isotropy group (largest first)")
    p.set_defaults(func=locked(run, "output"))


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..critical import SeedSettings, SolverSettings, find_critical_points
    from ..critical.find import default_workers
    from ..runner import Executor

    problem = problem_from_args(args)
    out = Path(args.output)
    if out.suffix.lower() != ".json":
        raise CLIError(f"--output must end in .json, got {str(out)!r}")
    strategies = None
    if args.strategies:
        strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
        bad = [s for s in strategies if s not in _strategy_names()]
        if bad:
            raise CLIError(f"unknown strategies {bad}; choose from {', '.join(_strategy_names())}")
    if args.n_seeds == 0 and args.counts is None and not args.points:
        raise CLIError("-n 0 gives no seeds: use -n >= 1 (or --points FILE to solve only those)")
    from ..critical.solve import METHODS
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise CLIError(f"--methods: unknown solver(s) {bad}; choose from {', '.join(METHODS)}"
                       if bad else f"--methods is empty; choose from {', '.join(METHODS)}")
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
    plot = _plot_path(args, out)
    try:
        seeds = SeedSettings(n_seeds=n_seeds, seed=args.seed, strategies=strategies)
        solver = SolverSettings(methods=methods, tol=args.tol, dedup_tol=args.dedup_tol,
                                null_rtol=args.null_rtol, max_nfev=args.max_nfev,
                                follow_modes=args.follow_modes)
    except (TypeError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    # a task of --save-every seeds is the unit of parallel work and of resuming
    executor = Executor(workers=args.workers or default_workers(), chunk=args.save_every,
                        progress=not args.no_progress)
    t0 = time.perf_counter()
    if args.until_saturated:
        cat = _until_saturated(problem, args, points, out, seeds, solver, executor)
    else:
        if args.max_seeds is not None or args.unseen_below is not None:
            raise CLIError("--max-seeds and --unseen-below need --until-saturated")
        cat = find_critical_points(problem, seeds, solver=solver, executor=executor,
                                   points=points, out=out, resume=not args.fresh)
    wall = time.perf_counter() - t0
    csv_path = out.with_suffix(".csv")
    cat.to_csv(csv_path)
    prov = cat.provenance
    print(f"{problem!r}: {len(cat)} critical points from {prov['n_seed_points']} seed points "
          f"({prov['accepted']} accepted, {prov['rejected']} rejected) in {wall:.1f} s")
    print(cat.table(by_isotropy=args.isotropy))
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(cat.kinds().items()))
    print(f"\n{kinds}")
    if args.until_saturated:
        rounds = prov["rounds"]
        print(f"until saturated: {len(rounds)} rounds, {sum(r['n_seeds'] for r in rounds)} "
              f"seeds, stopped: {prov['stop']}")
    print(f"wrote {out} and {csv_path}")
    if plot is not None:
        from ..plots.saturation import draw_saturation
        try:
            draw_saturation(cat, plot)
        except ValueError as exc:
            raise CLIError(f"--plot: {exc}") from None
        print(f"wrote {plot}")
    return 0


def _plot_path(args, out: Path) -> Path | None:
    if args.plot is None:
        return None
    if args.plot == "":
        return out.with_name(out.stem + "_saturation.png")
    path = Path(args.plot)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CLIError(f"--plot must end in .png, .svg or .pdf, got {str(path)!r}")
    return path


def _until_saturated(problem, args, points, out: Path, seeds, solver, executor):
    from ..critical.saturate import DEFAULT_UNSEEN_BELOW, SaturationSettings, \
        find_until_saturated

    if args.counts is not None:
        raise CLIError("--until-saturated takes -n (seeds per round) and --strategies, "
                       "not --counts")
    if args.n_seeds == 0:
        raise CLIError("--until-saturated needs -n >= 1 seeds per round")
    settings = SaturationSettings(
        round_seeds=args.n_seeds, max_seeds=args.max_seeds,
        unseen_below=DEFAULT_UNSEEN_BELOW if args.unseen_below is None else args.unseen_below)
    return find_until_saturated(problem, settings, seeds=seeds, solver=solver,
                                executor=executor, points=points, out=out,
                                resume=not args.fresh)
