"""``reludyn reproduce [--fast]``: run every claim of Tian (2017) and print the table.

The one bridge from the library to the paper scripts: they live in the ``analyses/``
folder of the source checkout (not in the installed package). The folder is found from
``--analyses-dir``, else the environment variable ``RELUDYN_ANALYSES``, else next to the
``reludyn`` package (a source or editable install); it is imported only when this runs.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from . import CLIError
from .common import locked, nonneg_int_arg, output_dir_arg

ENV_VAR = "RELUDYN_ANALYSES"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reproduce",
        help="reproduce the paper's claims (figures and numbers) and print a verdict table",
        description="Run the analysis scripts in analyses/ (claims a-h of Tian 2017 and the "
        "analyses i-m beyond it); each writes PNG figures and a JSON of its numbers. "
        "The full m (k = 6..50) takes hours on a few cores: --only a,b,c,d,e,f,g,h,i,j,k,l "
        "skips it. "
        "The scripts come with the source checkout, not with the installed package.",
    )
    p.add_argument("--fast", action="store_true",
                   help="quick reduced versions (about a minute in total)")
    p.add_argument("-o", "--out", "--output", "--out-dir", dest="out_dir", default=None,
                   type=output_dir_arg,
                   help="output folder (default figures/, with --fast figures/fast/)")
    p.add_argument("--only", default=None,
                   help="comma-separated claim letters to run, e.g. a,b,h (default: all)")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="base seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.add_argument("--analyses-dir", default=None,
                   help=f"the analyses/ folder of a reludyn checkout (default: ${ENV_VAR}, "
                        "else the one next to the reludyn package)")
    p.set_defaults(func=locked(run, "out_dir"))


def analyses_dir(explicit: str | None = None) -> Path:
    """The analyses/ folder: ``explicit``, else $RELUDYN_ANALYSES, else beside the package."""
    if explicit or os.environ.get(ENV_VAR):
        where = Path(explicit or os.environ[ENV_VAR])
        how = "--analyses-dir" if explicit else f"${ENV_VAR}"
    else:
        where = Path(__file__).resolve().parents[2] / "analyses"
        how = "the source checkout"
    if not (where / "__init__.py").is_file() or not (where / "reproduce.py").is_file():
        raise CLIError(f"no analyses/ folder with the paper scripts at {str(where)!r} ({how}); "
                       f"`reludyn reproduce` needs a reludyn source checkout: pass "
                       f"--analyses-dir PATH or set {ENV_VAR}")
    return where.resolve()


def load_runner(explicit: str | None = None):
    """Import ``analyses.reproduce`` from the checkout (the package already imported is kept)."""
    where = analyses_dir(explicit)
    loaded = sys.modules.get(where.name)
    if loaded is None or Path(getattr(loaded, "__file__", "") or "").resolve().parent != where:
        if loaded is not None:
            raise CLIError(f"another {where.name!r} package is already imported "
                           f"({loaded.__file__}); cannot load {str(where)!r}")
        sys.path.insert(0, str(where.parent))
    return importlib.import_module(f"{where.name}.reproduce")


def run(args: argparse.Namespace) -> int:
    runner = load_runner(args.analyses_dir)
    only = [s for s in args.only.split(",") if s.strip()] if args.only else None
    t0 = time.perf_counter()
    results = runner.run_all(fast=args.fast, out_dir=args.out_dir, only=only, seed=args.seed,
                             quiet=args.quiet)
    print()
    print(runner.format_table(results))
    where = args.out_dir or ("figures/fast" if args.fast else "figures")
    print(f"total {time.perf_counter() - t0:.1f} s; figures and JSON in {where}/")
    failed = [r["claim"] for r in results if str(r.get("measured", "")).startswith("failed")]
    if failed:
        print(f"scripts that failed: {', '.join(failed)}")
        return 1
    return 0
