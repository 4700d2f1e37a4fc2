"""``reludyn basins``: basin fractions of catalogue entries from many seeded starts."""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from .common import (add_problem_args, locked, nonneg_int_arg, output_dir_arg, positive_float_arg,
                     positive_int_arg, problem_from_args)


def add_executor_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("execution")
    g.add_argument("--workers", type=positive_int_arg, default=1,
                   help="local worker processes (default 1: run in this process)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the tasks on this Dask distributed scheduler "
                        "(needs the optional extra: pip install 'reludyn[distributed]')")
    g.add_argument("--chunk", type=positive_int_arg, default=100,
                   help="starts per task; finished tasks are saved and skipped on resume (default 100)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def executor_from_args(args, out_dir=None):
    """The :class:`reludyn.runner.Executor` of the execution options."""
    from ..runner import Executor

    return Executor(workers=args.workers, scheduler=args.scheduler, chunk=args.chunk,
                    out_dir=out_dir, progress=not args.no_progress)


def dynamics_from_args(args):
    """GDSettings (step --eta, --tol, --max-steps) or FlowSettings (--tol) of the dynamics options."""
    from ..dynamics.settings import FlowSettings, GDSettings

    if args.dynamics == "flow":
        return FlowSettings(tol=args.tol)
    return GDSettings(eta=args.eta, tol=args.tol, max_steps=args.max_steps)


def add_dynamics_args(p: argparse.ArgumentParser, eta: float) -> None:
    g = p.add_argument_group("dynamics")
    g.add_argument("--dynamics", choices=["gd", "flow"], default="gd",
                   help="gradient descent with step --eta, or gradient flow (default gd)")
    g.add_argument("--eta", type=positive_float_arg, default=eta, help=f"GD step (default {eta})")
    g.add_argument("--tol", type=positive_float_arg, default=1e-10,
                   help="stop when the gradient norm is below this (default 1e-10)")
    g.add_argument("--max-steps", type=positive_int_arg, default=100_000,
                   help="GD step budget per run (default 100000)")


def explicit_problem(args) -> bool:
    return any(getattr(args, k) is not None for k in ("K", "M", "d", "teacher_file")) or \
        args.teacher != "orthonormal"


def load_catalogue(args, required: bool):
    """The catalogue from --catalogue (checked against explicit problem options) or a new one."""
    from ..critical import Catalogue

    if args.catalogue:
        path = Path(args.catalogue)
        if not path.is_file():
            raise ValueError(f"catalogue file {str(path)!r} does not exist")
        return Catalogue.load(path, problem_from_args(args) if explicit_problem(args) else None,
                              verify=True)
    if required:
        raise ValueError("--catalogue PATH is required")
    return Catalogue(problem_from_args(args))


def register(sub) -> None:
    p = sub.add_parser(
        "basins",
        help="basin fractions: run many starts and map each end point to a catalogue entry",
        description="Run N seeded starts under GD or gradient flow, map every end point to a "
        "catalogue entry (symmetry-aware; unmatched converged ends are polished, classified and "
        "added) and report each entry's fraction with a 95% Wilson interval. Writes "
        "OUT/basins.json, OUT/basins.csv, OUT/catalogue.json and per-task results in OUT/tasks "
        "(an interrupted run resumes; a finished one is not recomputed).",
    )
    add_problem_args(p)
    p.add_argument("--catalogue", help="catalogue JSON to start from (default: an empty one); "
                   "its problem is used unless problem options are given")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, type=output_dir_arg,
                   help="output directory")
    p.add_argument("-n", "--n", dest="n", type=positive_int_arg, default=1000,
                   help="number of starts (default 1000)")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of the starts")
    p.add_argument("--init", choices=["xavier", "gaussian", "ball", "near_teacher"], default="xavier",
                   help="initializer (default xavier: N(0, 1/d) entries)")
    p.add_argument("--init-scale", type=positive_float_arg,
                   help="std (gaussian), radius (ball) or rel_noise (near_teacher)")
    add_dynamics_args(p, eta=0.1)
    add_executor_args(p)
    p.set_defaults(func=locked(run, "out"))


def run(args: argparse.Namespace) -> int:
    from ..basins.fractions import basin_fractions
    from ..io import write_json
    from ..io import atomic_write

    cat = load_catalogue(args, required=False)
    init_options = {}
    if args.init_scale is not None:
        key = {"gaussian": "std", "ball": "radius", "near_teacher": "rel_noise"}.get(args.init)
        if key is None:
            raise ValueError(f"--init-scale does not apply to --init {args.init}")
        init_options[key] = args.init_scale
    out = Path(args.out)  # output_dir_arg refused a non-directory at parse time
    res = basin_fractions(cat.problem, cat, n=args.n, init=(args.init, init_options),
                          seed=args.seed, dynamics=dynamics_from_args(args),
                          executor=executor_from_args(args, out))
    cat.save(out / "catalogue.json")
    # the entry ids of the table refer to this (possibly grown) catalogue: record which one
    write_json(out / "basins.json", {"problem": cat.problem.to_dict(),
                                     "catalogue_fingerprint": cat.fingerprint(), **res.to_dict()})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = ["entry", "kind", "loss", "index", "count", "fraction", "lo", "hi"]
    w.writerow(cols)
    for row in res.table:
        w.writerow([row[c] if not isinstance(row[c], float) else repr(row[c]) for c in cols])
    atomic_write(out / "basins.csv", lambda fh: fh.write(buf.getvalue().encode()))
    print(res.summary())
    print(f"wrote {out / 'basins.json'}, {out / 'basins.csv'}, {out / 'catalogue.json'}")
    return 0
