"""reludyn: the population landscape of two-layer ReLU teacher-student networks.

Student g(x; W) = Σ_j relu(w_jᵀx) with rows W (K, d), teacher rows V (M, d),
x ~ N(0, I_d), per-sample loss J(W) = ½ E[(g(x; W) − g(x; V))²] (Tian, ICML 2017;
the paper's N-sample sums carry an extra factor N).

Importing compiles nothing: kernels compile on first call and are cached on disk.
"""
from ._version import __version__
from .landscape import DeadRowError, dead_rows, grad, hessian, loss, loss_and_grad
from .montecarlo import MCEstimate, mc_gating, mc_grad, mc_loss
from .newton import PolishResult, newton_polish
from .paper import (
    NormalEquation,
    L_function,
    angle_matrices,
    gating_expectation,
    normal_equation,
    normal_equation_residual,
)
from .problem import Problem, symmetric_saddle_x

# The upper layers (dynamics, critical points, basins) pull in scipy.integrate,
# scipy.optimize and networkx; they load on first attribute access so that
# `import reludyn` stays light (PEP 562).
_LAZY = {
    "dynamics": ["FlowResult", "GDResult", "gradient_descent", "gradient_flow", "make_init",
                 "symmetric_field", "symmetric_fixed_points", "GDSettings", "FlowSettings",
                 "EndPoints", "run_ensemble"],
    "critical": ["Catalogue", "CriticalPoint", "find_critical_points", "find_until_saturated",
                 "SeedSettings", "SolverSettings"],
    "basins": ["BasinResult", "ManifoldFlow", "PushSettings", "basin_fractions", "build_basin_graph",
               "catalogue_graph", "push_from_saddles", "wilson_interval"],
    "runner": ["Executor", "Task", "run_tasks"],
}
_LAZY_OWNER = {name: mod for mod, names in _LAZY.items() for name in names}


def __getattr__(name: str):
    if name in _LAZY_OWNER:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY_OWNER[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reludyn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_OWNER))


__all__ = [
    "__version__",
    "Problem",
    "symmetric_saddle_x",
    "loss",
    "grad",
    "hessian",
    "loss_and_grad",
    "dead_rows",
    "DeadRowError",
    "newton_polish",
    "PolishResult",
    "gating_expectation",
    "angle_matrices",
    "normal_equation",
    "normal_equation_residual",
    "NormalEquation",
    "L_function",
    "mc_loss",
    "mc_grad",
    "mc_gating",
    "MCEstimate",
    "gradient_descent",
    "gradient_flow",
    "GDResult",
    "FlowResult",
    "make_init",
    "symmetric_field",
    "symmetric_fixed_points",
    "find_critical_points",
    "find_until_saturated",
    "SeedSettings",
    "SolverSettings",
    "Catalogue",
    "CriticalPoint",
    "basin_fractions",
    "BasinResult",
    "wilson_interval",
    "push_from_saddles",
    "ManifoldFlow",
    "build_basin_graph",
    "catalogue_graph",
    "run_tasks",
    "Task",
    "Executor",
    "GDSettings",
    "FlowSettings",
    "EndPoints",
    "run_ensemble",
    "PushSettings",
]
