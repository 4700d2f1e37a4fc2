"""Frozen settings of the end-point dynamics, validated once: :class:`GDSettings`, :class:`FlowSettings`.

They replace the "dynamics name + options dict" pairs: an ensemble, a basin run, an
unstable-manifold push or ``reludyn train`` takes one of these objects. ``to_dict()``
is JSON-ready (it is what run directories fingerprint and record).
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

from ..validation import positive_float, positive_int
from .flow import METHODS as FLOW_METHODS
from .gd import DEVICES as GD_DEVICES
from .gd import NORMS as GD_NORMS


def _tol(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    x = float(x)
    if not x >= 0 or x == float("inf"):
        raise ValueError(f"{name} must be >= 0 and finite, got {x}")
    return x


@dataclass(frozen=True)
class GDSettings:
    """Population gradient descent W ← W − η∇J(W) (see :func:`reludyn.dynamics.gradient_descent`).

    eta: step; tol: stop when the gradient norm (``norm``: "max_row" or "fro") is below
    it; max_steps: step budget; diverge_bound: ‖W‖_F above it is "diverged"; dead_tol:
    a row norm <= it stops the run as "dead_row"; record: store each trajectory at about
    this many log-spaced steps (0: none); early_assign: certified early assignment
    (``gradient_descent(..., early_assign=True)``; needs ``reludyn.critical`` loaded);
    device: "cpu" or "cuda" (``gradient_descent(..., device=...)``; the GPU's results agree
    with the CPU's to rounding, so the device is part of what a run is built from).
    """

    eta: float = 0.1
    tol: float = 1e-10
    norm: str = "max_row"
    max_steps: int = 100_000
    diverge_bound: float = 1e8
    dead_tol: float = 0.0
    record: int = 0
    early_assign: bool = False
    device: str = "cpu"

    name = "gd"

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "eta", positive_float(self.eta, "eta"))
        set_(self, "tol", _tol(self.tol, "tol"))
        if self.norm not in GD_NORMS:
            raise ValueError(f"norm must be one of {GD_NORMS}, got {self.norm!r}")
        set_(self, "max_steps", positive_int(self.max_steps, "max_steps", minimum=0))
        if self.max_steps > 2**62:
            raise ValueError(f"max_steps must be <= 2**62, got {self.max_steps}")
        set_(self, "diverge_bound", positive_float(self.diverge_bound, "diverge_bound"))
        set_(self, "dead_tol", positive_float(self.dead_tol, "dead_tol", allow_zero=True))
        set_(self, "record", positive_int(self.record, "record", minimum=0))
        if not isinstance(self.early_assign, bool):
            raise TypeError(f"early_assign must be True or False, got {self.early_assign!r}")
        if self.early_assign and self.record:
            raise ValueError("early_assign cannot be combined with record")
        if self.device not in GD_DEVICES:
            raise ValueError(f"device must be one of {GD_DEVICES}, got {self.device!r}")

    def to_dict(self) -> dict:
        d = {"dynamics": self.name, **asdict(self)}
        # options at their defaults are left out: the fingerprints of runs made before them stay
        if not self.early_assign:
            del d["early_assign"]
        if self.device == "cpu":
            del d["device"]
        return d


@dataclass(frozen=True)
class FlowSettings:
    """Gradient flow dW/dt = −∇J(W) (see :func:`reludyn.dynamics.gradient_flow`).

    method: a ``solve_ivp`` method; t_max: final time; tol: stop when ‖∇J‖_F < tol;
    rtol/atol: integrator tolerances; polish: Newton-polish the end point to ``polish_tol``.
    """

    method: str = "RK45"
    t_max: float = 1e4
    tol: float = 1e-10
    rtol: float = 1e-10
    atol: float = 1e-12
    polish: bool = False
    polish_tol: float = 1e-12

    name = "flow"

    def __post_init__(self):
        set_ = object.__setattr__
        if self.method not in FLOW_METHODS:
            raise ValueError(f"method must be one of {', '.join(FLOW_METHODS)}, got {self.method!r}")
        set_(self, "t_max", positive_float(self.t_max, "t_max"))
        set_(self, "tol", _tol(self.tol, "tol"))
        set_(self, "rtol", positive_float(self.rtol, "rtol"))
        set_(self, "atol", positive_float(self.atol, "atol"))
        if not isinstance(self.polish, bool):
            raise TypeError(f"polish must be True or False, got {type(self.polish).__name__}")
        set_(self, "polish_tol", positive_float(self.polish_tol, "polish_tol"))

    def to_dict(self) -> dict:
        return {"dynamics": self.name, **asdict(self)}



def dynamics_from_dict(data: dict) -> GDSettings | FlowSettings:
    """The settings object written by ``to_dict()`` (``{"dynamics": "gd" | "flow", ...}``)."""
    if not isinstance(data, dict):
        raise TypeError(f"dynamics settings must be a dict, got {type(data).__name__}")
    kw = dict(data)
    name = kw.pop("dynamics", None)
    cls = {"gd": GDSettings, "flow": FlowSettings}.get(name)
    if cls is None:
        raise ValueError(f"dynamics must be 'gd' or 'flow', got {name!r}")
    unknown = set(kw) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown {name} settings {sorted(unknown)}")
    return cls(**kw)


def check_dynamics(dynamics) -> GDSettings | FlowSettings:
    """``dynamics`` as a settings object: a GDSettings/FlowSettings, or "gd"/"flow" for the defaults."""
    if isinstance(dynamics, str):
        if dynamics not in ("gd", "flow"):
            raise ValueError(f"dynamics must be 'gd' or 'flow', got {dynamics!r}")
        return GDSettings() if dynamics == "gd" else FlowSettings()
    if not isinstance(dynamics, (GDSettings, FlowSettings)):
        raise TypeError("dynamics must be reludyn.dynamics.GDSettings or FlowSettings, got "
                        f"{dynamics!r}")
    return dynamics
