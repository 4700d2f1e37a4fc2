"""Seeded initializers for student weights: each returns a batch (n, K, d), float64.

Every draw comes from ``numpy.random.default_rng(seed)``; the same (name, problem,
n, seed, options) always gives the same array.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..problem import Problem
from ..validation import positive_float, positive_int

INITS = ("gaussian", "xavier", "ball", "near_teacher", "symmetric")


def _check(problem, n, seed) -> tuple[int, int, np.random.Generator]:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
    n = positive_int(n, "n")
    seed = positive_int(seed, "seed", minimum=0)
    return n, seed, np.random.default_rng(seed)


def _real(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return x


def gaussian_init(problem: Problem, n: int, seed: int = 0, std: float = 1.0) -> np.ndarray:
    """Entries i.i.d. N(0, std²). Returns (n, K, d)."""
    n, seed, rng = _check(problem, n, seed)
    std = positive_float(std, "std")
    return std * rng.standard_normal((n, problem.K, problem.d))


def xavier_init(problem: Problem, n: int, seed: int = 0) -> np.ndarray:
    """Entries i.i.d. N(0, 1/d) (the spurious-minima literature's protocol). Returns (n, K, d)."""
    n, seed, rng = _check(problem, n, seed)
    return rng.standard_normal((n, problem.K, problem.d)) / np.sqrt(problem.d)


def ball_init(problem: Problem, n: int, seed: int = 0, radius: float = 1.0) -> np.ndarray:
    """Uniform in the ball ‖W‖_F <= radius of R^{K·d}. Returns (n, K, d)."""
    n, seed, rng = _check(problem, n, seed)
    radius = positive_float(radius, "radius")
    D = problem.K * problem.d
    z = rng.standard_normal((n, D))
    r = radius * rng.random(n) ** (1.0 / D)
    W = z * (r / np.linalg.norm(z, axis=1))[:, None]
    return W.reshape(n, problem.K, problem.d)


def near_teacher_init(problem: Problem, n: int, seed: int = 0, rel_noise: float = 0.1) -> np.ndarray:
    """Teacher (padded with zero rows when K > M) plus noise with ‖noise‖_F = rel_noise·‖V‖_F.

    The noise direction is uniform on the sphere of R^{K·d}. Needs K >= M. Returns (n, K, d).
    """
    n, seed, rng = _check(problem, n, seed)
    rel_noise = positive_float(rel_noise, "rel_noise", allow_zero=True)
    W0 = problem.teacher_padded()
    z = rng.standard_normal((n, problem.K * problem.d))
    z *= (rel_noise * np.linalg.norm(problem.V) / np.linalg.norm(z, axis=1))[:, None]
    return W0[None] + z.reshape(n, problem.K, problem.d)


def symmetric_point(K: int, x: float, y: float, d: int | None = None) -> np.ndarray:
    """The symmetric-family point w_j = x e_j + y Σ_{k≠j} e_k as a (K, d) array (d >= K, default K)."""
    K = positive_int(K, "K")
    d = K if d is None else positive_int(d, "d")
    if d < K:
        raise ValueError(f"the symmetric family needs d >= K, got K = {K}, d = {d}")
    x, y = _real(x, "x"), _real(y, "y")
    W = np.zeros((K, d))
    W[:, :K] = y
    W[np.arange(K), np.arange(K)] = x
    return W


def symmetric_init(problem: Problem, n: int, seed: int = 0, x: float = 1e-3, y: float = 0.0,
                   delta: float = 0.0) -> np.ndarray:
    """Symmetric family w_j = x e_j + y Σ_{k≠j} e_k plus i.i.d. N(0, δ²) entries.

    Needs an orthonormal teacher with K = M (the family is defined by the teacher
    basis e_j = v_j). With delta = 0 all n points coincide. Returns (n, K, d).
    """
    n, seed, rng = _check(problem, n, seed)
    if not problem.is_orthonormal or problem.K != problem.M:
        raise ValueError("the symmetric initializer needs an orthonormal teacher with K = M")
    delta = positive_float(delta, "delta", allow_zero=True)
    base = symmetric_point(problem.K, x, y, problem.K) @ problem.V  # e_j = v_j
    out = np.broadcast_to(base, (n, problem.K, problem.d)).copy()
    if delta > 0:
        out += delta * rng.standard_normal(out.shape)
    return out


_FUNCS = {
    "gaussian": (gaussian_init, {"std"}),
    "xavier": (xavier_init, set()),
    "ball": (ball_init, {"radius"}),
    "near_teacher": (near_teacher_init, {"rel_noise"}),
    "symmetric": (symmetric_init, {"x", "y", "delta"}),
}


def make_init(name: str, problem: Problem, n: int, seed: int = 0, **kw) -> np.ndarray:
    """Dispatch by name to one of :data:`INITS`; options as keywords. Returns (n, K, d)."""
    if name not in _FUNCS:
        raise ValueError(f"unknown initializer {name!r}; choose one of {', '.join(INITS)}")
    func, allowed = _FUNCS[name]
    extra = set(kw) - allowed
    if extra:
        raise TypeError(f"initializer {name!r} takes options {sorted(allowed) or 'none'}, "
                        f"got unexpected {sorted(extra)}")
    return func(problem, n, seed, **kw)
