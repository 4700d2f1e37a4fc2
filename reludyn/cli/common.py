"""Options shared by commands: how to describe the problem (teacher and K), checked
numbers and lists, outputs (checked writable at parse time, locked for the whole run)."""
from __future__ import annotations

import argparse
import functools

from ..io import check_writable, output_lock
from ..problem import Problem


def _number_arg(cast, ok, expected: str):
    """An argparse type: ``cast`` the text and require ``ok(value)``, else say what was expected."""

    def parse(text: str):
        try:
            v = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return v

    parse.__name__ = expected.replace(" ", "_")
    return parse


positive_int_arg = _number_arg(int, lambda v: v >= 1, "a positive integer")
nonneg_int_arg = _number_arg(int, lambda v: v >= 0, "an integer >= 0")
positive_float_arg = _number_arg(float, lambda v: 0 < v < float("inf"), "a positive finite number")
nonneg_float_arg = _number_arg(float, lambda v: 0 <= v < float("inf"), "a finite number >= 0")
finite_float_arg = _number_arg(float, lambda v: abs(v) < float("inf"), "a finite number")
grid_arg = _number_arg(int, lambda v: v >= 5, "a grid size >= 5 points per axis")


def number_list_arg(cast, ok, expected: str, ranges: bool = False):
    """An argparse type for comma-separated numbers, each cast and required to satisfy ``ok``.

    With ``ranges`` (integers), a single "A-B" means A, A+1, ..., B.
    """

    def parse(text: str):
        items = text.split(",")
        if any(not x.strip() for x in items):  # "2,,3", "2," and "" are typos, not lists
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {expected} without empty items, got {text!r}")
        try:
            a, sep, b = text.partition("-")
            if ranges and sep and a.strip().isdigit() and b.strip().isdigit():
                vals = list(range(int(a), int(b) + 1))
            else:
                vals = [cast(x) for x in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {expected}, got {text!r}") from None
        if not vals or not all(ok(v) for v in vals):
            raise argparse.ArgumentTypeError(f"expected comma-separated {expected}, got {text!r}")
        return vals

    return parse


def _out_arg(kind: str, what: str):
    """An argparse type: the output path, refused at parse time if it cannot be written."""

    def parse(text: str) -> str:
        try:
            check_writable(text, what, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    parse.__name__ = f"writable {kind}"
    return parse


output_file_arg = _out_arg("file", "output")
output_dir_arg = _out_arg("dir", "output directory")


def locked(run, attr: str = "out"):
    """Wrap a command's ``run(args)`` so it holds :func:`reludyn.io.output_lock` on
    ``args.<attr>`` for the whole run: a second writer of the same output is refused at
    once (one line, exit 2). Use as ``p.set_defaults(func=locked(run, "output"))``. An
    optional output left unset (None) is not locked here (the runner still locks its run
    directory)."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace):
        target = getattr(args, attr)
        if target is None:
            return run(args)
        with output_lock(target, reentrant=True):
            return run(args)

    return wrapper


SMOKE_ENV = "RELUDYN_SMOKE"
SMOKE_DIVISOR = 20
_COUNT_OPTIONS = ("n_init", "n", "n_seeds")  # -n of train, basins, catalogue/sweep


def apply_smoke(args: argparse.Namespace) -> None:
    """With the environment variable RELUDYN_SMOKE=1, divide the count options (-n of train,
    catalogue, basins, sweep) by 20 (at least 2 remain), so a documented command runs as
    printed at a reduced size (the README chain test does this); a note goes to stderr."""
    import os
    import sys

    flag = os.environ.get(SMOKE_ENV, "").strip()
    if flag in ("", "0"):
        return
    if flag != "1":
        raise ValueError(f"{SMOKE_ENV} must be 1 (smoke-test sizes) or 0, got {flag!r}")
    for name in _COUNT_OPTIONS:
        v = getattr(args, name, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 2:
            setattr(args, name, max(2, -(-v // SMOKE_DIVISOR)))
            print(f"{SMOKE_ENV}=1: {name} {v} -> {getattr(args, name)}", file=sys.stderr)


PROBLEM_SIZES_HELP = ("-K alone means K = M = d (as Problem.orthonormal(K)); otherwise M defaults "
                      "to d, then K, then 2; d to M; K to M")


def add_problem_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("problem", PROBLEM_SIZES_HELP)
    g.add_argument("--teacher", choices=["orthonormal", "gaussian", "file"], default="orthonormal",
                   help="teacher rows: first M rows of I_d, i.i.d. N(0,1) (seeded by "
                        "--teacher-seed), or read from --teacher-file (default: orthonormal)")
    g.add_argument("--teacher-file", help=".npy/.csv/.json file of teacher rows (with --teacher file)")
    g.add_argument("--teacher-seed", type=nonneg_int_arg, default=None,
                   help="seed of a gaussian teacher (default 0; only with --teacher gaussian)")
    g.add_argument("-K", type=positive_int_arg, help="student rows (default M)")
    g.add_argument("-M", type=positive_int_arg, help="teacher rows (default d, else K, else 2)")
    g.add_argument("-d", type=positive_int_arg, help="input dimension (default M)")


def problem_from_args(args: argparse.Namespace) -> Problem:
    """The problem the options describe; conflicting options are refused (ValueError).

    Sizes: ``-K`` alone gives K = M = d (like ``Problem.orthonormal(K)``); otherwise
    M = -M, else -d, else -K, else 2; d = -d, else M; K = -K, else M. With
    ``--teacher file`` the file fixes M and d, and -M/-d must agree with it.
    """
    seed = getattr(args, "teacher_seed", None)
    if seed is not None and args.teacher != "gaussian":
        raise ValueError(f"--teacher-seed only applies to --teacher gaussian, "
                         f"not --teacher {args.teacher}")
    if args.teacher == "file":
        if not args.teacher_file:
            raise ValueError("--teacher file needs --teacher-file PATH")
        problem = Problem.from_file(args.teacher_file, K=args.K)
        for opt, given, actual in (("-M", args.M, problem.M), ("-d", args.d, problem.d)):
            if given is not None and given != actual:
                raise ValueError(f"{opt} {given} disagrees with the teacher file "
                                 f"{args.teacher_file!r}, which has {opt[1]} = {actual} "
                                 f"(shape {problem.M} x {problem.d}); drop {opt}")
        return problem
    if args.teacher_file:
        raise ValueError("--teacher-file is only used with --teacher file")
    M = args.M or args.d or args.K or 2
    d = args.d or M
    if args.teacher == "orthonormal":
        return Problem.orthonormal(M, d, K=args.K or M)
    return Problem.gaussian(M, d, K=args.K or M, seed=0 if seed is None else seed)
