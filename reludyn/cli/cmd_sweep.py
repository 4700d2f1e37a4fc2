"""``reludyn sweep``: critical-point catalogues over a grid of problems, locally or on Dask."""
from __future__ import annotations

import argparse

from .cmd_basins import add_executor_args, executor_from_args
from .common import locked, nonneg_int_arg, number_list_arg, output_dir_arg, positive_int_arg


_int_list = number_list_arg(int, lambda v: v >= 1, "positive integers")
_float_list = number_list_arg(float, lambda v: abs(v) < float("inf"), "finite numbers")


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="catalogue the critical points of every problem on a grid of K, M, d or teacher angles",
        description="One critical-point catalogue per problem of the grid (orthonormal or "
        "Gaussian teachers over K x M x d, or two planar unit teacher rows at angles 0 and phi), "
        "run through the resumable executor: embedded, local processes (--workers) or a Dask "
        "cluster (--scheduler). Writes OUT/catalogues/<key>.json, OUT/sweep.json and per-task "
        "files; rerunning resumes and a finished sweep is not recomputed.",
    )
    g = p.add_argument_group("grid")
    g.add_argument("--teacher", choices=["orthonormal", "gaussian", "planar"], default="orthonormal")
    g.add_argument("-K", type=_int_list, default=[2], help="student widths, e.g. 2,3,4")
    g.add_argument("-M", type=_int_list, help="teacher rows (default: equal to each K)")
    g.add_argument("-d", type=_int_list, help="input dimensions (default: equal to each M)")
    g.add_argument("--angles", type=_float_list,
                   help="planar: angles phi (radians) of the second teacher row")
    g.add_argument("--teacher-seed", type=nonneg_int_arg, default=0, help="gaussian teacher seed")
    s = p.add_argument_group("catalogues")
    s.add_argument("-n", "--n-seeds", type=positive_int_arg, default=100, help="seeds per problem")
    s.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of every random draw")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, type=output_dir_arg,
                   help="output directory")
    add_executor_args(p)
    p.set_defaults(func=locked(run, "out"))


def run(args: argparse.Namespace) -> int:
    from ..critical.sweep import catalogue_sweep, format_sweep, planar_grid, problem_grid

    if args.teacher == "planar":
        if not args.angles:
            raise ValueError("--teacher planar needs --angles PHI[,PHI...]")
        problems = [p for K in args.K for p in planar_grid(args.angles, K=K)]
    else:
        if args.angles:
            raise ValueError("--angles is only used with --teacher planar")
        problems = []
        for K in args.K:
            for M in (args.M or [K]):
                problems += problem_grid([K], [M], args.d or [M], args.teacher, args.teacher_seed)
    summaries = catalogue_sweep(problems, args.out, n_seeds=args.n_seeds, seed=args.seed,
                                executor=executor_from_args(args))
    print(format_sweep(summaries))
    return 0
