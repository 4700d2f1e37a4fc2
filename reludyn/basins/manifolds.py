"""Unstable manifolds: push off every saddle along its unstable directions and follow the flow.

For a saddle W_s with Hessian eigenpairs (λ_i, u_i) (u_i Frobenius-unit, reshaped to (K, d)),
the starts are W_s ± ε u_i for every λ_i < −tol and, when the index is > 1, W_s ± ε u for
``n_random`` random unit vectors u of the unstable subspace. Each start is followed by GD
(small step) or gradient flow to its end, which is mapped to a catalogue entry (a new one
is polished, classified and added). An end at another saddle is recorded as such: flows
chain from saddle to saddle.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..dynamics.ensemble import run_chunked
from ..dynamics.settings import FlowSettings, GDSettings, check_dynamics
from ..landscape import DeadRowError, hessian
from ..problem import Problem
from ..runner import Executor
from ..validation import positive_float, positive_int
from .fractions import assign_end, check_catalogue

SADDLE_KINDS = ("saddle",)


@dataclass
class ManifoldFlow:
    """One push off a saddle: ``source`` entry, direction label (``eig<i>`` or ``rand<j>``),
    ``sign`` (±1), ``curvature`` (uᵀHu, < 0), ``target`` entry reached (None: none),
    ``reason`` the dynamics stopped, ``loss`` at the end, ``W`` (K, d) end point."""

    source: int
    direction: str
    sign: int
    curvature: float
    target: int | None
    reason: str
    loss: float
    W: np.ndarray

    def to_dict(self) -> dict:
        return {"source": self.source, "direction": self.direction, "sign": self.sign,
                "curvature": self.curvature, "target": self.target, "reason": self.reason,
                "loss": self.loss}


def unstable_directions(W, V, *, tol: float = 1e-8, n_random: int = 0, seed=0,
                        max_eig: int | None = None) -> list[tuple[str, np.ndarray, float]]:
    """Unstable directions of J at W (K, d): [(label, u (K, d) Frobenius-unit, uᵀHu)].

    Eigenvectors with eigenvalue < −tol (most negative first, at most ``max_eig``), then,
    if there are at least two, ``n_random`` random unit combinations of them drawn from
    ``default_rng(seed)`` (seed: an int or a tuple of ints). Raises DeadRowError (a ValueError) where a row is zero.
    """
    W = np.asarray(W, dtype=float)
    H = hessian(W, V)
    ev, U = np.linalg.eigh(H)
    neg = np.flatnonzero(ev < -tol)  # ascending: most negative first
    if max_eig is not None:
        neg = neg[:max_eig]
    out = [(f"eig{i}", U[:, i].reshape(W.shape).copy(), float(ev[i])) for i in neg]
    if n_random and neg.size >= 2:
        rng = np.random.default_rng(seed)
        # the whole unstable subspace, even when max_eig limits the eigenvector pushes
        Us = U[:, ev < -tol]
        for j in range(n_random):
            c = rng.standard_normal(Us.shape[1])
            u = Us @ (c / np.linalg.norm(c))
            out.append((f"rand{j}", u.reshape(W.shape), float(u @ H @ u)))
    return out


@dataclass(frozen=True)
class PushSettings:
    """How to push off saddles: push length ``eps`` (Frobenius); ``n_random`` random unit
    combinations of the unstable eigenvectors per saddle of index > 1, drawn from
    ``default_rng((seed, entry))``; at most ``max_eig`` eigenvector pushes per saddle
    (None: all); ``chain``: also push from saddles the flows discover; ``add_new``: add
    new end points to the catalogue."""

    eps: float = 1e-3
    n_random: int = 4
    seed: int = 0
    max_eig: int | None = None
    chain: bool = False
    add_new: bool = True

    def __post_init__(self):
        object.__setattr__(self, "eps", positive_float(self.eps, "eps"))
        object.__setattr__(self, "n_random", positive_int(self.n_random, "n_random", minimum=0))
        object.__setattr__(self, "seed", positive_int(self.seed, "seed", minimum=0))
        if self.max_eig is not None:
            object.__setattr__(self, "max_eig", positive_int(self.max_eig, "max_eig", minimum=0))
        for name in ("chain", "add_new"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)


# GD defaults of the pushes: a smaller step and a larger budget than basin runs
PUSH_GD = GDSettings(eta=0.05, max_steps=200_000)


def push_from_saddles(problem: Problem, catalogue, push: PushSettings = PushSettings(), *,
                      saddles=None, dynamics: GDSettings | FlowSettings = PUSH_GD,
                      executor: Executor = Executor(chunk=64)) -> list[ManifoldFlow]:
    """Follow the unstable manifolds of the catalogue's saddles; return every push.

    push: a :class:`PushSettings` (eps, n_random, seed, max_eig, chain, add_new).
    saddles: entry indices to push from (default: every entry of kind "saddle").
    dynamics: :class:`~reludyn.dynamics.GDSettings` (default η = 0.05, 200000 steps,
    max-row gradient norm 1e-10) or :class:`~reludyn.dynamics.FlowSettings`. New end
    points are added to the catalogue (``push.add_new``); with ``push.chain`` the saddles
    found that way are pushed from too. executor: as in :func:`basin_fractions`.
    """
    check_catalogue(problem, catalogue)
    if not isinstance(push, PushSettings):
        raise TypeError(f"push must be a reludyn.basins.PushSettings, got {type(push).__name__}")
    dynamics = check_dynamics(dynamics)
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a reludyn.runner.Executor, got {type(executor).__name__}")
    n_entries = len(catalogue.entries)
    if saddles is None:
        todo = [i for i, e in enumerate(catalogue.entries) if getattr(e, "kind", None) in SADDLE_KINDS]
    else:
        todo = []
        for i in saddles:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n_entries:
                raise ValueError(f"saddle {i!r} is not an entry index (there are {n_entries} entries)")
            todo.append(int(i))
    flows: list[ManifoldFlow] = []
    done: set[int] = set()
    round_no = 0
    while todo:
        starts, meta = [], []
        for s in todo:
            done.add(s)
            Ws = np.asarray(catalogue.entries[s].W, dtype=float)
            try:
                dirs = unstable_directions(Ws, problem.V, n_random=push.n_random, seed=(push.seed, s),
                                           max_eig=push.max_eig)
            except DeadRowError:
                continue  # J is not twice differentiable there: no Hessian, no directions
            for label, u, curv in dirs:
                for sign in (1, -1):
                    starts.append(Ws + sign * push.eps * u)
                    meta.append((s, label, sign, curv))
        if not starts:
            break
        ends = run_chunked(problem, np.asarray(starts), dynamics, executor,
                           label="saddle pushes", key=f"r{round_no:02d}-c")
        new_saddles = []
        for i, (s, label, sign, curv) in enumerate(meta):
            before = len(catalogue.entries)
            target = assign_end(catalogue, ends.W[i], str(ends.reason[i]), push.add_new)
            if target is not None and target >= before and \
                    getattr(catalogue.entries[target], "kind", None) in SADDLE_KINDS:
                new_saddles.append(int(target))
            flows.append(ManifoldFlow(s, label, sign, curv, target, str(ends.reason[i]),
                                      float(ends.loss[i]), ends.W[i]))
        todo = sorted(set(new_saddles) - done) if push.chain else []
        round_no += 1
    return flows


def flows_table(flows: list[ManifoldFlow]) -> list[dict]:
    """JSON-ready rows of the pushes (end points omitted)."""
    return [f.to_dict() for f in flows]
