"""``reludyn reproduce [--fast]``: run every claim of Tian (2017) and print the table."""
from __future__ import annotations

import argparse
import time

from .common import nonneg_int_arg


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reproduce",
        help="reproduce the paper's claims (figures and numbers) and print a verdict table",
        description="Run the analysis scripts in analyses/ (claims a-h of Tian 2017 and the "
        "analyses i, j beyond it); each writes PNG figures and a JSON of its numbers.",
    )
    p.add_argument("--fast", action="store_true", help="quick reduced versions (minutes in total)")
    p.add_argument("-o", "--out", "--output", "--out-dir", dest="out_dir", default=None,
                   help="output folder (default figures/, with --fast figures/fast/)")
    p.add_argument("--only", default=None,
                   help="comma-separated claim letters to run, e.g. a,b,h (default: all)")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="base seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..reproduce import format_table, run_all

    only = [s for s in args.only.split(",") if s.strip()] if args.only else None
    t0 = time.perf_counter()
    results = run_all(fast=args.fast, out_dir=args.out_dir, only=only, seed=args.seed,
                      quiet=args.quiet)
    print()
    print(format_table(results))
    where = args.out_dir or ("figures/fast" if args.fast else "figures")
    print(f"total {time.perf_counter() - t0:.1f} s; figures and JSON in {where}/")
    failed = [r["claim"] for r in results if str(r.get("measured", "")).startswith("failed")]
    if failed:
        print(f"scripts that failed: {', '.join(failed)}")
        return 1
    return 0
