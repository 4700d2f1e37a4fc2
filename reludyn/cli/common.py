"""Options shared by commands: how to describe the problem (teacher and K)."""
from __future__ import annotations

import argparse

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


def number_list_arg(cast, ok, expected: str, ranges: bool = False):
    """An argparse type for comma-separated numbers, each cast and required to satisfy ``ok``.

    With ``ranges`` (integers), a single "A-B" means A, A+1, ..., B.
    """

    def parse(text: str):
        try:
            a, sep, b = text.partition("-")
            if ranges and sep and a.strip().isdigit() and b.strip().isdigit():
                vals = list(range(int(a), int(b) + 1))
            else:
                vals = [cast(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {expected}, got {text!r}") from None
        if not vals or not all(ok(v) for v in vals):
            raise argparse.ArgumentTypeError(f"expected comma-separated {expected}, got {text!r}")
        return vals

    return parse


def add_problem_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("problem")
    g.add_argument("--teacher", choices=["orthonormal", "gaussian", "file"], default="orthonormal",
                   help="teacher rows: first M rows of I_d, i.i.d. N(0,1) (seeded by "
                        "--teacher-seed), or read from --teacher-file (default: orthonormal)")
    g.add_argument("--teacher-file", help=".npy/.csv/.json file of teacher rows (with --teacher file)")
    g.add_argument("--teacher-seed", type=nonneg_int_arg, default=0, help="seed of a gaussian teacher")
    g.add_argument("-K", type=positive_int_arg, help="student rows (default M)")
    g.add_argument("-M", type=positive_int_arg, help="teacher rows (default d, or 2)")
    g.add_argument("-d", type=positive_int_arg, help="input dimension (default M)")


def problem_from_args(args: argparse.Namespace) -> Problem:
    if args.teacher == "file":
        if not args.teacher_file:
            raise ValueError("--teacher file needs --teacher-file PATH")
        return Problem.from_file(args.teacher_file, K=args.K)
    if args.teacher_file:
        raise ValueError("--teacher-file is only used with --teacher file")
    M = args.M or args.d or 2
    d = args.d or M
    if args.teacher == "orthonormal":
        return Problem.orthonormal(M, d, K=args.K or M)
    return Problem.gaussian(M, d, K=args.K or M, seed=args.teacher_seed)
