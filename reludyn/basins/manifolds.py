"""Unstable manifolds: push off every saddle along its unstable directions and follow the flow.

For a saddle W_s with Hessian eigenpairs (λ_i, u_i) (u_i Frobenius-unit, reshaped to (K, d)),
the starts are W_s ± ε u_i for every λ_i < −tol and, when the index is > 1, W_s ± ε u for
``n_random`` random unit vectors u of the unstable subspace. Each start is followed by GD
(small step) or gradient flow to its end, which is mapped to a catalogue entry (a new one
is polished, classified and added). An end at another saddle is recorded as such: flows
chain from saddle to saddle.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..landscape import DeadRowError, hessian
from ..problem import Problem
from ..validation import positive_float, positive_int
from .executor import Task, run_tasks
from .fractions import assign_entry, dynamics_settings, run_chunk

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


def push_from_saddles(problem: Problem, catalogue, *, eps: float = 1e-3, n_random: int = 4,
                      seed: int = 0, dynamics: str = "gd", eta: float = 0.05, tol: float = 1e-10,
                      max_steps: int = 200_000, saddles=None, max_eig: int | None = None,
                      dynamics_options: dict | None = None, add_new: bool = True,
                      chain: bool = False, out_dir=None, chunk: int = 64, scheduler=None,
                      workers: int | None = 1, progress: bool = False) -> list[ManifoldFlow]:
    """Follow the unstable manifolds of the catalogue's saddles; return every push.

    saddles: entry indices to push from (default: every entry of kind "saddle").
    eps: push length (Frobenius). dynamics: "gd" with step ``eta`` (stop at max-row
    gradient norm ``tol`` or ``max_steps``) or "flow" (gradient flow, ``tol`` on the
    Frobenius norm). New end points are added to the catalogue (``add_new``); with
    ``chain`` the saddles found that way are pushed from too. Random combinations use
    ``default_rng((seed, entry))``. Executor options as in :func:`basin_fractions`.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    if getattr(catalogue, "problem", None) != problem:
        raise ValueError("the catalogue belongs to a different problem than `problem`")
    eps = positive_float(eps, "eps")
    n_random = positive_int(n_random, "n_random", minimum=0)
    seed = positive_int(seed, "seed", minimum=0)
    chunk = positive_int(chunk, "chunk")
    opts = dynamics_settings(dynamics, eta, tol, max_steps, dynamics_options)
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
                dirs = unstable_directions(Ws, problem.V, n_random=n_random, seed=(seed, s),
                                           max_eig=max_eig)
            except DeadRowError:
                continue  # J is not twice differentiable there: no Hessian, no directions
            for label, u, curv in dirs:
                for sign in (1, -1):
                    starts.append(Ws + sign * eps * u)
                    meta.append((s, label, sign, curv))
        if not starts:
            break
        W0 = np.asarray(starts)
        pd = problem.to_dict()
        tasks = [Task(f"r{round_no:02d}-c{k:06d}", {"problem": pd, "W0": W0[k:k + chunk],
                                                     "dynamics": dynamics, "options": opts})
                 for k in range(0, len(W0), chunk)]
        parts = _run(tasks, out_dir, scheduler, workers, progress)
        W = np.concatenate([p["W"] for p in parts])
        reason = np.concatenate([p["reason"] for p in parts]).astype(str)
        loss = np.concatenate([p["loss"] for p in parts]).astype(float)
        new_saddles = []
        for i, (s, label, sign, curv) in enumerate(meta):
            target = None
            if reason[i] != "diverged" and np.all(np.isfinite(W[i])):
                target = catalogue.match(W[i])
                if target is None and add_new and reason[i] == "converged":
                    before = len(catalogue.entries)
                    target = assign_entry(catalogue, W[i])
                    if target is not None and target >= before and \
                            getattr(catalogue.entries[target], "kind", None) in SADDLE_KINDS:
                        new_saddles.append(int(target))
            flows.append(ManifoldFlow(s, label, sign, curv, None if target is None else int(target),
                                      str(reason[i]), float(loss[i]), W[i]))
        todo = sorted(set(new_saddles) - done) if chain else []
        round_no += 1
    return flows


def _run(tasks, out_dir, scheduler, workers, progress):
    if out_dir is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            return run_tasks(run_chunk, tasks, tmp, scheduler=scheduler, workers=workers,
                             progress=progress, label="saddle pushes")
    return run_tasks(run_chunk, tasks, Path(out_dir), scheduler=scheduler, workers=workers,
                     progress=progress, label="saddle pushes")


def flows_table(flows: list[ManifoldFlow]) -> list[dict]:
    """JSON-ready rows of the pushes (end points omitted)."""
    return [f.to_dict() for f in flows]
