"""Dynamics: seeded initializers, gradient-descent ensembles, gradient flow, reduced systems.

- :mod:`.init`     ``make_init(name, problem, n, seed, **kw) -> (n, K, d)`` and one function per initializer
- :mod:`.gd`       ``gradient_descent(problem, W0, eta, ...) -> GDResult`` (one jitted parallel loop over B runs)
- :mod:`.flow`     ``gradient_flow(problem, W0, method=..., ...) -> FlowResult`` (solve_ivp)
- :mod:`.reduced`  closed-form symmetric-family field, its fixed points; the K = 1 polar flow
- :mod:`.settings` frozen dynamics settings ``GDSettings``, ``FlowSettings`` (validated once)
- :mod:`.ensemble` ``run_ensemble(problem, W0, dynamics) -> EndPoints``: the one "run these starts" helper
- :mod:`.summary`  end-point summaries (global-minimum count, loss groups, stop reasons)
"""
from .ensemble import EndPoints, run_chunked, run_ensemble
from .flow import gradient_flow
from .gd import gradient_descent
from .init import (ball_init, gaussian_init, make_init, near_teacher_init, symmetric_init,
                   symmetric_point, xavier_init)
from .reduced import (one_relu_field, symmetric_field, symmetric_fixed_points, symmetric_gradient,
                      symmetric_jacobian)
from .results import FlowResult, GDResult
from .settings import FlowSettings, GDSettings, dynamics_from_dict
from .summary import summarize_endpoints

__all__ = [
    "gradient_descent", "gradient_flow", "GDResult", "FlowResult", "make_init", "gaussian_init",
    "xavier_init", "ball_init", "near_teacher_init", "symmetric_init", "symmetric_point",
    "symmetric_field", "symmetric_gradient", "symmetric_jacobian", "symmetric_fixed_points",
    "one_relu_field", "summarize_endpoints",
    "GDSettings", "FlowSettings", "dynamics_from_dict", "EndPoints", "run_ensemble", "run_chunked",
]
