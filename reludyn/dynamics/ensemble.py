"""Run an ensemble of starts with given dynamics; return the end points with stop reasons.

The one place that turns "these starts, these dynamics" into end points: basin
fractions, unstable-manifold pushes, ``reludyn train`` and the analyses call
:func:`run_ensemble` (in-process) or send :func:`ensemble_task` to the runner
(:mod:`reludyn.runner`, one task per chunk of starts).
"""
from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..problem import Problem
from . import flow as _flow
from . import gd as _gd
from .early import assigner_module
from .settings import FlowSettings, GDSettings, check_dynamics, dynamics_from_dict

_CORE = ("W", "loss", "grad_norm", "reason", "time")


@dataclass
class EndPoints:
    """End points of n runs: W (n, K, d), loss (n,), grad_norm (n,) in the norm of the
    dynamics' stopping rule, reason (n,) str, time (n,) float (GD steps or flow time).

    ``extra``: per-run arrays specific to the dynamics: GD ``steps`` (n,) int and, when
    recorded, ``traj_*``; flow ``t`` (n,), ``nfev`` (n,) int, ``polished`` (n,) bool.
    """

    W: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    reason: np.ndarray
    time: np.ndarray
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.W.shape[0])

    def counts(self) -> dict[str, int]:
        """Number of runs per stop reason."""
        return dict(Counter(self.reason.tolist()))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array (core and extra) in one flat dict, for the runner and npz files."""
        return {"W": self.W, "loss": self.loss, "grad_norm": self.grad_norm,
                "reason": self.reason, "time": self.time, **self.extra}

    @classmethod
    def from_arrays(cls, data: dict) -> "EndPoints":
        """Inverse of :meth:`arrays` (e.g. a runner result)."""
        return cls(W=np.asarray(data["W"], dtype=float), loss=np.asarray(data["loss"], dtype=float),
                   grad_norm=np.asarray(data["grad_norm"], dtype=float),
                   reason=np.asarray(data["reason"]).astype(str),
                   time=np.asarray(data["time"], dtype=float),
                   extra={k: np.asarray(v) for k, v in data.items() if k not in _CORE})

    @classmethod
    def concat(cls, parts) -> "EndPoints":
        """The end points of consecutive chunks, in order (parts: EndPoints or runner dicts)."""
        parts = [p if isinstance(p, EndPoints) else cls.from_arrays(p) for p in parts]
        keys = set(parts[0].extra) if parts else set()

        def cat(xs):
            return np.concatenate(xs)

        return cls(W=cat([p.W for p in parts]), loss=cat([p.loss for p in parts]),
                   grad_norm=cat([p.grad_norm for p in parts]),
                   reason=cat([p.reason for p in parts]).astype(str),
                   time=cat([p.time for p in parts]).astype(float),
                   extra={k: cat([p.extra[k] for p in parts]) for k in sorted(keys)})


def run_ensemble(problem: Problem, W0, dynamics: GDSettings | FlowSettings) -> EndPoints:
    """Run ``dynamics`` from every start of W0 (n, K, d); return the n end points.

    GD runs all starts in one jitted parallel loop (each run equals running it alone);
    gradient flow integrates the starts one after another.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    dynamics = check_dynamics(dynamics)
    W0 = np.asarray(W0, dtype=float)
    if isinstance(dynamics, GDSettings):
        s = dynamics
        # looked up at call time: tests patch reludyn.dynamics.gd.gradient_descent
        r = _gd.gradient_descent(problem, W0, s.eta, tol=s.tol, norm=s.norm, max_steps=s.max_steps,
                                 diverge_bound=s.diverge_bound, dead_tol=s.dead_tol,
                                 record=s.record > 0, n_record=max(s.record, 2),
                                 early_assign=s.early_assign or None, device=s.device)
        extra = {"steps": r.steps}
        if r.radius is not None:
            extra["radius"] = r.radius
        extra.update({k: v for k, v in r.arrays().items() if k.startswith("traj_")})
        return EndPoints(W=r.W, loss=r.loss, grad_norm=r.grad_norm,
                         reason=np.asarray(r.reason).astype("U16"),
                         time=np.asarray(r.steps, dtype=float), extra=extra)
    s = dynamics
    rs = [_flow.gradient_flow(problem, w, method=s.method, t_max=s.t_max, tol=s.tol, rtol=s.rtol,
                              atol=s.atol, polish=s.polish, polish_tol=s.polish_tol) for w in W0]
    n = len(rs)
    t = np.array([r.t for r in rs], dtype=float)
    return EndPoints(W=np.asarray([r.W for r in rs], dtype=float).reshape(W0.shape),
                     loss=np.array([r.loss for r in rs], dtype=float),
                     grad_norm=np.array([r.grad_norm for r in rs], dtype=float),
                     reason=np.array([str(r.reason) for r in rs], dtype="U16"), time=t,
                     extra={"t": t, "nfev": np.array([r.nfev for r in rs], dtype=np.int64),
                            "polished": np.array([bool(r.polish and r.polish.success) for r in rs],
                                                 dtype=bool).reshape(n)})


def ensemble_task(problem: dict, W0: np.ndarray, dynamics: dict,
                  assigner_module: str | None = None) -> dict:
    """Runner task (module level, sent to workers): :func:`run_ensemble` on plain data.

    problem: ``Problem.to_dict()``; dynamics: ``GDSettings/FlowSettings.to_dict()``;
    assigner_module: imported first (the module registering the early assigner in the
    parent, :func:`reludyn.dynamics.early.assigner_module`), so a fresh worker has it too.
    """
    if assigner_module:
        importlib.import_module(assigner_module)
    return run_ensemble(Problem.from_dict(problem), W0, dynamics_from_dict(dynamics)).arrays()


def run_chunked(problem: Problem, W0, dynamics: GDSettings | FlowSettings, executor,
                label: str = "runs", key: str = "chunk", on_result=None) -> EndPoints:
    """:func:`run_ensemble` through the resumable runner, one task per ``executor.chunk`` starts.

    executor: a :class:`reludyn.runner.Executor`; task keys are ``<key><start:08d>``.
    With ``early_assign=True`` the tasks name the module that registered the assigner
    here, which each worker imports (:func:`ensemble_task`).
    """
    from ..runner import Task

    dynamics = check_dynamics(dynamics)
    W0 = np.asarray(W0, dtype=float)
    base = {"problem": problem.to_dict(), "dynamics": dynamics.to_dict()}
    if getattr(dynamics, "early_assign", False) is True:
        base["assigner_module"] = assigner_module()
    tasks = [Task(f"{key}{a:08d}", dict(base, W0=W0[a:b])) for a, b in executor.chunks(len(W0))]
    return EndPoints.concat(executor.run(ensemble_task, tasks, label=label, on_result=on_result))
