"""``reludyn certify``: ball-arithmetic certificates for the entries of a catalogue."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import (locked, nonneg_int_arg, number_list_arg, output_dir_arg, positive_float_arg,
                     positive_int_arg)


def register(sub) -> None:
    p = sub.add_parser(
        "certify",
        help="prove (ball arithmetic) that a true critical point lies near each catalogue entry",
        description="For every entry of a catalogue, run Krawczyk's existence and uniqueness "
        "test for a zero of the gradient in a small ball (python-flint arb), enclose the Hessian "
        "spectrum over the ball (certified Morse index) and the loss. Critical manifolds "
        "(coincident rows, out-of-plane orbits) are certified on a gauge slice. Writes "
        "OUT/certificates/entry_<i>.json; resumable (finished entries are not redone).",
    )
    p.add_argument("catalogue", help="catalogue JSON (from `reludyn catalogue`)")
    p.add_argument("--entries", type=number_list_arg(int, lambda v: v >= 0, "integers >= 0"),
                   help="comma-separated entry indices (default: all)")
    p.add_argument("-o", "--out", "--output", dest="out", type=output_dir_arg,
                   help="output directory (default: <catalogue>.certify next to it)")
    p.add_argument("--workers", type=positive_int_arg, default=1,
                   help="worker processes (default 1)")
    p.add_argument("--max-radius", type=positive_float_arg, default=1e-6,
                   help="largest ball radius tried (default 1e-6)")
    p.add_argument("--prec", type=nonneg_int_arg, default=64, help="arb precision in bits (default 64)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=locked(run, "out"))


def run(args: argparse.Namespace) -> int:
    from ..certify import CertifySettings
    from ..certify.catalogue import certificate_table, certify_catalogue
    from ..critical import Catalogue
    from . import CLIError

    path = Path(args.catalogue)
    if not path.is_file():
        raise CLIError(f"catalogue file {str(path)!r} does not exist")
    cat = Catalogue.load(path)
    settings = CertifySettings(prec=args.prec, max_radius=args.max_radius)
    out = Path(args.out) if args.out else path.with_suffix(".certify")
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} exists and is not a directory")
    res = certify_catalogue(cat, out, entries=args.entries, settings=settings,
                            workers=args.workers, progress=not args.no_progress)
    print(certificate_table(cat, res))
    n_ok = sum(c.certified for _, c in res)
    print(f"\n{n_ok} of {len(res)} entries certified; certificates in {out / 'certificates'}")
    return 0
