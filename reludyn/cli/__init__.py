"""The ``reludyn`` command line: ``reludyn <command> [options]``.

Each command lives in its own module ``reludyn.cli.cmd_<name>`` exposing
``register(subparsers)`` (adds its parser and sets ``func``) and is listed in
COMMANDS; modules are imported only when the CLI starts, never at
``import reludyn``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__

COMMANDS = ["check", "reproduce", "train", "basins", "graph", "portrait", "catalogue", "sweep",
            "family", "certify"]


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reludyn",
        description="Population loss landscape of two-layer ReLU teacher-student networks "
        "(Tian, ICML 2017): kernels, dynamics, critical points, basins, reproductions.",
    )
    parser.add_argument("--version", action="version", version=f"reludyn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"reludyn.cli.cmd_{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from .common import apply_smoke

        apply_smoke(args)  # RELUDYN_SMOKE=1: reduced sizes (the README chain test)
        rc = args.func(args)
    except CLIError as exc:
        print(f"reludyn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        print(f"reludyn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # sizes the options allow but the machine does not
        print(f"reludyn {args.command}: error: out of memory ({exc or 'MemoryError'}); "
              "use smaller sizes", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nreludyn {args.command}: interrupted; finished work was saved", file=sys.stderr)
        return 130
    return int(rc or 0)
