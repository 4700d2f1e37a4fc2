"""``reludyn train``: gradient descent (or gradient flow) from many seeded initializations.

Writes OUTPUT.npz (no pickle: final W, loss, gradient norm, steps, stop reason,
the initializations, the settings as JSON text) and OUTPUT.json (settings and a
summary: runs reaching the global minimum, other end points grouped by loss,
stop reasons). Gradient descent uses certified early assignment by default
(:mod:`reludyn.critical.early`: a run proven to converge to a certified minimum stops
with reason "assigned", W and loss of that minimum and its certified ``radius`` in the
npz; ``--no-early-assign`` runs every start to the tolerance). Runs go in chunks through the resumable runner (:mod:`reludyn.runner`,
run directory OUTPUT.chunks/); both files are rewritten after each chunk, so Ctrl-C
keeps the finished chunks and rerunning the same command resumes.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from . import CLIError
from .common import (add_problem_args, finite_float_arg, locked, nonneg_float_arg, nonneg_int_arg,
                     output_file_arg, positive_float_arg, positive_int_arg, problem_from_args)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="gradient descent / gradient flow from many initializations, with a summary",
        description="Train the student from N seeded initializations by population gradient "
        "descent (--eta) or gradient flow (--flow METHOD); write OUTPUT.npz and OUTPUT.json. "
        "Rerunning with the same output resumes an interrupted run.",
    )
    add_problem_args(p)
    g = p.add_argument_group("initialization")
    g.add_argument("--init", choices=["gaussian", "xavier", "ball", "near_teacher", "symmetric"],
                   default="xavier", help="initializer (default xavier: N(0, 1/d))")
    g.add_argument("-n", "--n-init", type=positive_int_arg, default=100,
                   help="number of initializations (default 100)")
    g.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of the initializations")
    g.add_argument("--std", type=positive_float_arg, default=1.0, help="gaussian: entry std")
    g.add_argument("--radius", type=positive_float_arg, default=1.0, help="ball: radius")
    g.add_argument("--rel-noise", type=nonneg_float_arg, default=0.1,
                   help="near_teacher: noise norm relative to ‖V‖_F")
    g.add_argument("--sym-x", type=finite_float_arg, default=1e-3, help="symmetric: x")
    g.add_argument("--sym-y", type=finite_float_arg, default=0.0, help="symmetric: y")
    g.add_argument("--delta", type=nonneg_float_arg, default=0.0,
                   help="symmetric: std of the perturbation")
    d = p.add_argument_group("dynamics")
    m = d.add_mutually_exclusive_group()
    m.add_argument("--eta", type=positive_float_arg, help="gradient descent step (default 0.1)")
    m.add_argument("--flow", choices=["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"],
                   help="gradient flow with this solve_ivp method instead of descent")
    d.add_argument("--tol", type=nonneg_float_arg, default=1e-10,
                   help="stop when the gradient norm is below this (default 1e-10)")
    d.add_argument("--norm", choices=["max_row", "fro"], default="max_row",
                   help="gradient norm of the GD stopping rule (flow uses fro)")
    d.add_argument("--max-steps", type=nonneg_int_arg, default=100_000, help="GD step budget")
    d.add_argument("--diverge-bound", type=positive_float_arg, default=1e8,
                   help="GD: ‖W‖_F above this counts as diverged")
    d.add_argument("--dead-tol", type=nonneg_float_arg, default=0.0,
                   help="GD: a row norm <= this stops the run as dead_row")
    d.add_argument("--t-max", type=positive_float_arg, default=1e4, help="flow: final time")
    d.add_argument("--polish", action="store_true", help="flow: Newton-polish each end point")
    d.add_argument("--record", type=nonneg_int_arg, default=0,
                   help="GD: store each trajectory at about this many log-spaced steps")
    d.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="GD: where the runs go (cuda: one thread block per run; needs "
                   "numba-cuda and an NVIDIA GPU; the results agree with the CPU's to rounding)")
    d.add_argument("--no-early-assign", action="store_true",
                   help="GD: run every start to the tolerance (default: stop a run as "
                   "'assigned' once it is proven to converge to a certified minimum; "
                   "off with --record)")
    o = p.add_argument_group("output")
    o.add_argument("-o", "--out", "--output", dest="output", required=True, type=output_file_arg,
                   help="output .npz (summary goes to .json)")
    o.add_argument("--global-tol", type=positive_float_arg, default=1e-3,
                   help="loss below this counts as the global minimum (default 1e-3)")
    o.add_argument("--group-tol", type=nonneg_float_arg, default=1e-6,
                   help="relative loss tolerance for grouping other end points (default 1e-6)")
    o.add_argument("--chunk", type=positive_int_arg, default=64,
                   help="runs per saved chunk (default 64)")
    o.add_argument("--overwrite", action="store_true",
                   help="discard an existing output with different settings")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=locked(run, "output"))


def _settings(args, problem) -> dict:
    init_kw = {"gaussian": {"std": args.std}, "xavier": {}, "ball": {"radius": args.radius},
               "near_teacher": {"rel_noise": args.rel_noise},
               "symmetric": {"x": args.sym_x, "y": args.sym_y, "delta": args.delta}}[args.init]
    if args.flow:
        dyn = {"mode": "flow", "method": args.flow, "tol": args.tol, "t_max": args.t_max,
               "polish": args.polish}
    else:
        dyn = {"mode": "gd", "eta": args.eta if args.eta is not None else 0.1, "tol": args.tol,
               "norm": args.norm, "max_steps": args.max_steps,
               "diverge_bound": args.diverge_bound, "dead_tol": args.dead_tol,
               "record": args.record, "early_assign": _early(args)}
        if args.device != "cpu":  # left out on the CPU: earlier outputs keep their content hash
            dyn["device"] = args.device
    return {"problem": problem.to_dict(), "init": args.init, "init_options": init_kw,
            "n_init": args.n_init, "seed": args.seed, "dynamics": dyn}


def _early(args) -> bool:
    """Early assignment: GD without --record, unless --no-early-assign."""
    return not args.flow and not args.no_early_assign and not args.record


def _dynamics(args):
    """The GDSettings or FlowSettings of the dynamics options."""
    from ..dynamics.settings import FlowSettings, GDSettings

    if args.flow:
        return FlowSettings(method=args.flow, t_max=args.t_max, tol=args.tol, polish=args.polish)
    return GDSettings(eta=args.eta if args.eta is not None else 0.1, tol=args.tol, norm=args.norm,
                      max_steps=args.max_steps, diverge_bound=args.diverge_bound,
                      dead_tol=args.dead_tol, record=args.record, early_assign=_early(args),
                      device=args.device)


def _paths(output: str) -> tuple[Path, Path, Path]:
    """OUTPUT.npz, its summary OUTPUT.json and the runner's directory OUTPUT.chunks/."""
    out = Path(output)
    if out.suffix.lower() != ".npz":
        raise CLIError(f"--output must end in .npz, got {output!r}")
    return out, out.with_suffix(".json"), out.with_suffix(".chunks")


_RUN_ARRAYS = ("W", "loss", "grad_norm", "reason")  # one row per finished run (plus steps or t)


def _content_hash(settings: dict, W0: np.ndarray) -> str:
    """What a train output is the result of: the problem and settings (``settings``) and the starts."""
    from ..io import content_hash

    return content_hash({"settings": json.loads(json.dumps(settings)),
                         "W0": np.ascontiguousarray(W0, dtype=np.float64)})


def _load_existing(out: Path, settings: dict, overwrite: bool,
                   W0: np.ndarray | None = None,
                   chash: str | None = None) -> dict[str, np.ndarray] | None:
    """The arrays of an earlier run of the same settings at ``out`` (None: none, or --overwrite).

    Refused (CLIError): a file that is not a train output, other settings, arrays of different
    lengths, more finished runs than starts, or a content hash that is not ``chash`` (that
    of these settings and starts ``W0``)."""
    from ..io import check_lengths, read_npz

    if not out.exists():
        return None
    data = read_npz(out, "training output")
    if "settings_json" not in data:
        if overwrite:
            return None
        raise CLIError(f"{out} exists but is not a reludyn train output; use --overwrite")
    old = json.loads(str(data["settings_json"]))
    if old != json.loads(json.dumps(settings)):
        if overwrite:
            return None
        diff = sorted(k for k in set(old) | set(settings) if old.get(k) != json.loads(json.dumps(settings)).get(k))
        raise CLIError(f"{out} holds a run with different settings ({', '.join(diff)}); "
                       "use another --output or --overwrite")
    keys = [k for k in _RUN_ARRAYS + ("steps", "t") if k in data]
    try:
        n_done = check_lengths(data, f"training output {str(out)!r}", keys)
    except ValueError as exc:
        if overwrite:
            return None
        raise CLIError(f"{exc}; use --overwrite to discard it") from None
    if W0 is not None:
        if "W0" not in data or np.shape(data["W0"]) != np.shape(W0) or n_done > len(W0):
            if overwrite:
                return None
            raise CLIError(f"training output {str(out)!r} is damaged: {n_done} finished runs and "
                           f"starts of shape {np.shape(data.get('W0'))}, expected at most "
                           f"{len(W0)} runs from starts of shape {np.shape(W0)}; use --overwrite")
        stored = str(data["content_hash"]) if "content_hash" in data else None
        if stored != (chash or _content_hash(settings, W0)):
            if overwrite:
                return None
            why = ("has no content hash (written by an older version)" if stored is None else
                   "has a content hash that is not that of these settings and starts")
            raise CLIError(f"training output {str(out)!r} {why}; use another --output or --overwrite")
    return data


def _finished(prev: dict | None):
    """The finished runs of an earlier output as EndPoints (None: none); its steps or t
    column is the end points' time."""
    from ..dynamics.ensemble import EndPoints

    if prev is None or len(prev["loss"]) == 0:
        return None
    data = {k: v for k, v in prev.items()
            if k not in ("W0", "settings_json", "content_hash") and not k.startswith("_")}
    data["time"] = data["steps"] if "steps" in data else data["t"]
    return EndPoints.from_arrays(data)


def run(args: argparse.Namespace) -> int:
    from ..dynamics.ensemble import EndPoints, run_chunked
    from ..dynamics.init import make_init
    from ..dynamics.summary import summarize_endpoints
    from ..io import write_json, write_npz
    from ..runner import Executor

    problem = problem_from_args(args)
    out, summary_path, chunks_dir = _paths(args.output)
    settings = _settings(args, problem)
    if args.flow is None and (args.polish or args.t_max != 1e4):
        raise CLIError("--polish and --t-max apply to --flow only")
    if args.device == "cuda":
        from ..dynamics import cuda_gd

        if args.flow is not None:
            raise CLIError("--device cuda applies to gradient descent (--eta), not to --flow")
        if not cuda_gd.available():
            raise CLIError(f"--device cuda: {cuda_gd.NO_CUDA}")
    dynamics = _dynamics(args)
    W0 = make_init(args.init, problem, args.n_init, args.seed, **settings["init_options"])
    n = args.n_init
    chash = _content_hash(settings, W0)
    prev = _load_existing(out, settings, args.overwrite, W0, chash)
    # OUT.npz holds every finished run (in start order, written after each chunk): resume
    # from it, so a lost OUT.chunks/ or another --chunk costs nothing; earlier chunks (or
    # another run's, with --overwrite) are redundant with it
    done = _finished(prev)
    if chunks_dir.is_dir():
        import shutil

        shutil.rmtree(chunks_dir)
    executor = Executor(workers=1, chunk=args.chunk, out_dir=chunks_dir,
                        progress=not args.no_progress)
    t0 = time.perf_counter()

    def save(ends: EndPoints) -> None:
        arrays = {k: v for k, v in ends.arrays().items() if k != "time"}  # steps or t instead
        write_npz(out, W0=W0, settings_json=np.array(json.dumps(settings)),
                  content_hash=np.array(chash), **arrays)
        summary = summarize_endpoints(arrays["loss"], arrays["reason"], global_tol=args.global_tol,
                                      group_tol=args.group_tol, steps=arrays.get("steps"))
        summary.update({"n_requested": n, "complete": len(ends) == n,
                        "elapsed_s_this_session": time.perf_counter() - t0, "output": str(out)})
        write_json(summary_path, {"settings": settings, "content_hash": chash, "summary": summary})

    head = [done] if done is not None else []
    rest = W0[len(done) if done is not None else 0:]

    def save_prefix(finished: dict) -> None:
        # the finished runs and the new chunks in start order, up to the first missing one
        parts = list(head)
        for a, _ in executor.chunks(len(rest)):
            if f"chunk{a:08d}" not in finished:
                break
            parts.append(finished[f"chunk{a:08d}"])
        if parts:
            save(EndPoints.concat(parts))

    if _early(args):
        from ..critical import early  # noqa: F401  (registers the certified assigner)
    if len(rest):
        head.append(run_chunked(problem, rest, dynamics, executor, label="train", key="chunk",
                                on_result=save_prefix))
    ends = EndPoints.concat(head)
    save(ends)  # also refreshes the summary of a complete run (e.g. a new --global-tol)
    summary = json.loads(summary_path.read_text())["summary"]
    g = summary["global_min"]
    print(f"{summary['n_runs']}/{n} runs; global minimum (loss < {args.global_tol:g}): "
          f"{g['count']} ({100 * g['fraction']:.1f}%); reasons: "
          + ", ".join(f"{k} {v}" for k, v in sorted(summary["reasons"].items())))
    for grp in summary["groups"][:10]:
        loss = "non-finite" if grp["loss"] is None else f"{grp['loss']:.6g}"
        print(f"  loss {loss}: {grp['count']} runs ({', '.join(f'{k} {v}' for k, v in grp['reasons'].items())})")
    if "radius" in ends.extra:
        rad = ends.extra["radius"]
        hit = np.isfinite(rad)
        if hit.any():
            print(f"  assigned early: {int(hit.sum())} runs (certified radius "
                  f"{rad[hit].min():.2e} .. {rad[hit].max():.2e})")
    print(f"wrote {out} and {summary_path}")
    return 0
