"""Early assignment of gradient-descent runs: the protocol the GD driver calls, and its registry.

A run whose gradient is already small sits near a critical point; if a sufficient
condition *proves* that gradient descent from the current iterate converges to a
known minimum W*, the rest of the run (the slow tail) changes nothing about where it
ends, so it can stop there with reason "assigned" and W, J those of W*.

This module holds only the protocol (dynamics must not import the critical-point or
certification layers): an *assigner* is any object with

- ``eta``: the step it was built for (the convergence proof depends on it);
- ``tols``: decreasing gradient thresholds (in the run's norm) at which the driver
  stops runs and asks for assignment;
- ``assign(W, norm, tol) -> Assignment`` for W (n, K, d) stopped iterates.

The driver keeps an assignment only where the full run provably ends "converged" at the
same point: the assigner bounds the further steps the full run needs to get its gradient
below ``tol`` (``steps_bound``), the smallest row norm (``row_min``) and the largest ‖W‖_F
(``fro_max``) of every later iterate, and the driver checks them against the step budget,
``dead_tol`` and ``diverge_bound``; otherwise the run continues.

The certified assigner lives one layer up (:mod:`reludyn.critical.early`), which
registers a factory here when imported, so ``gradient_descent(..., early_assign=True)``
works once ``reludyn.critical`` is loaded (``reludyn train`` and the analyses load it);
otherwise pass the assigner object itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


@dataclass
class Assignment:
    """Outcome of ``assign`` on n stopped iterates: mask (n,) bool (assigned);
    W (n, K, d), loss (n,), grad_norm (n,) of the certified limit point (any value where
    not assigned); radius (n,) the certified radius of the ball that contains the
    iterate (NaN where not assigned); steps_bound (n,) int, a bound on the further GD
    steps until ‖∇J‖ < tol; row_min (n,), fro_max (n,) bounds on the row norms and on ‖W‖_F
    of every later iterate."""

    mask: np.ndarray
    W: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    radius: np.ndarray
    steps_bound: np.ndarray
    row_min: np.ndarray
    fro_max: np.ndarray


class Assigner(Protocol):
    eta: float
    tols: tuple[float, ...]

    def assign(self, W: np.ndarray, norm: str, tol: float) -> Assignment: ...


_FACTORY: list[Callable] = []


def register_assigner_factory(factory: Callable) -> None:
    """Make ``early_assign=True`` build ``factory(problem, eta)`` (called by the upper layer)."""
    _FACTORY[:] = [factory]


def assigner_module() -> str | None:
    """The module that registered the assigner factory: what a worker process imports
    (:func:`reludyn.dynamics.ensemble.ensemble_task`) to have the same assigner."""
    return _FACTORY[0].__module__ if _FACTORY else None


def resolve_assigner(early_assign, problem, eta: float):
    """The assigner meant by ``early_assign`` (None/False: none; True: the registered one)."""
    if early_assign is None or early_assign is False:
        return None
    if early_assign is True:
        if not _FACTORY:
            raise RuntimeError("early_assign=True needs the certified assigner: import "
                               "reludyn.critical (or pass an assigner object)")
        return _FACTORY[0](problem, eta)
    for attr in ("eta", "tols", "assign"):
        if not hasattr(early_assign, attr):
            raise TypeError(f"early_assign must be True/False/None or an assigner with "
                            f"'eta', 'tols' and 'assign', got {type(early_assign).__name__}")
    if float(early_assign.eta) != float(eta):
        raise ValueError(f"the assigner was built for eta = {early_assign.eta}, the run uses {eta}")
    return early_assign
