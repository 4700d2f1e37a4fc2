"""``reludyn check``: closed forms vs Monte Carlo and finite differences."""
from __future__ import annotations

import argparse

from .common import nonneg_int_arg, positive_int_arg


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="verify loss, gradient and Hessian against Monte Carlo and finite differences",
        description="Compare the closed-form loss, gradient and Hessian with Monte-Carlo "
        "estimates (errors in units of the standard error) and central finite differences "
        "on random Gaussian problems.",
    )
    p.add_argument("--samples", type=positive_int_arg, default=400_000,
                   help="Monte-Carlo samples per problem (default 400000)")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of problems and samples")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..check import format_table, run_check

    if args.samples < 2:
        raise ValueError("--samples must be at least 2")
    rows = run_check(n_samples=args.samples, seed=args.seed)
    print(format_table(rows))
    bad = sum(not r.ok for r in rows)
    print(f"\n{len(rows) - bad} of {len(rows)} problems agree "
          "(MC within 5 standard errors, finite differences within 1e-6 / 1e-5)")
    return 1 if bad else 0
