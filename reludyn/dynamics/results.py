"""Result records of the dynamics: :class:`GDResult` (always batched) and :class:`FlowResult`."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..newton import PolishResult


@dataclass
class GDResult:
    """Outcome of gradient descent on B initializations.

    W (B, K, d) final iterates; loss (B,) J at W (NaN where W is not finite);
    grad_norm (B,) gradient norm at W in the norm named by ``norm``
    ("max_row": largest row norm, "fro": Frobenius); steps (B,) int number of
    updates taken; reason (B,) str in {"converged", "budget", "diverged", "dead_row",
    "assigned"} ("assigned": early assignment proved the run converges to a certified
    minimum; W, loss, grad_norm are that minimum's, steps the step at assignment and
    radius (B,) the certified radius, NaN for other runs; radius is None without early
    assignment).
    With recording: traj_steps (B, T) int, traj_W (B, T, K, d), traj_grad_norm
    (B, T), traj_loss (B, T), at log-spaced steps plus the final iterate, padded
    with step -1 and NaN. ``eta``, ``tol`` record the settings used.
    """

    W: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    steps: np.ndarray
    reason: np.ndarray
    norm: str = "max_row"
    eta: float = float("nan")
    tol: float = float("nan")
    traj_steps: np.ndarray | None = None
    traj_W: np.ndarray | None = None
    traj_grad_norm: np.ndarray | None = None
    traj_loss: np.ndarray | None = None
    radius: np.ndarray | None = None

    def __len__(self) -> int:
        return self.W.shape[0]

    def counts(self) -> dict[str, int]:
        """Number of runs per stop reason."""
        return dict(Counter(self.reason.tolist()))

    def trajectory(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(steps (T_i,), W (T_i, K, d), grad_norm (T_i,), loss (T_i,)) of run i, padding removed."""
        if self.traj_steps is None:
            raise ValueError("no trajectory was recorded (run with record=True)")
        keep = self.traj_steps[i] >= 0
        return (self.traj_steps[i][keep], self.traj_W[i][keep],
                self.traj_grad_norm[i][keep], self.traj_loss[i][keep])

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array field, for ``reludyn.io.write_npz`` (reason as a fixed-width str array)."""
        out = {"W": self.W, "loss": self.loss, "grad_norm": self.grad_norm,
               "steps": self.steps, "reason": self.reason.astype("U16")}
        for k in ("traj_steps", "traj_W", "traj_grad_norm", "traj_loss", "radius"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out


@dataclass
class FlowResult:
    """Outcome of gradient flow dW/dt = −∇J from one W0 (K, d).

    W (K, d) end point (after polishing, if requested); loss, grad_norm
    (Frobenius) at W; t the time reached; reason in {"converged", "t_max",
    "failed"} ("failed": the integrator stopped, ``message`` says why);
    ts (T,) and Ws (T, K, d) the trajectory at the integrator's steps;
    polish the :class:`reludyn.PolishResult`, or None.
    """

    W: np.ndarray
    loss: float
    grad_norm: float
    t: float
    reason: str
    ts: np.ndarray
    Ws: np.ndarray
    polish: PolishResult | None = None
    message: str = ""
    nfev: int = 0
    njev: int = 0
    extra: dict = field(default_factory=dict)
