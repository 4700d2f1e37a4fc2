"""Seed points for the critical-point solvers, one generator per strategy.

Every strategy draws item i from its own stream
``default_rng(SeedSequence([seed, strategy_id, i]))``, so the first n seeds of a
run with more seeds are the same points (a bigger run is a superset).

Strategies (``n`` = number of seeds, or of GD runs for "gd"):
  random        initializations of :mod:`reludyn.dynamics.init` (``init``, default xavier)
  gd            end points of gradient descent from Xavier starts, plus its plateau
                points (local minima of ‖∇J‖ along the recorded path: saddles passed)
  symmetric     fixed-point subspaces of the symmetries (orthonormal teacher, K = M):
                W = aI + b(11ᵀ − I) for the four sign patterns of (a, b), and the
                5-parameter family invariant under the permutations fixing one index
  in_plane      rows random combinations of the teacher rows (in span(V))
  out_of_plane  in-plane rows plus components in the orthogonal complement (d > rank V)
  teacher_noise permuted teacher (padded with zero rows / truncated to K rows) plus noise
  user          points supplied by the caller, (n, K, d)
  isotropy      fixed-point subspaces of every isotropy Δ(S_p1×…×S_pr) with r <= 3 blocks
                (orthonormal teacher, K = M): item i takes the (i mod P)-th partition of K,
                draws its parameters and runs the reduced Newton solver there
                (:mod:`reludyn.critical.fixedpoint`); converged points are exact critical
                points of J, the others are kept as plain seeds
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..problem import Problem
from ..validation import as_float_array

@dataclass
class SeedBatch:
    """Seeds (n, K, d) and where each came from: ``sources[i]`` = "strategy:item[:sub]"."""

    W: np.ndarray
    sources: list[str]


def item_rng(seed: int, strategy: str, i: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), _IDS[strategy], int(i)]))


def item_seed(seed: int, strategy: str, i: int) -> int:
    """A 32-bit integer seed for APIs that take ints (the dynamics initializers)."""
    return int(np.random.SeedSequence([int(seed), _IDS[strategy], int(i)]).generate_state(1)[0])


def applicable(problem: Problem, strategy: str) -> str | None:
    """None if the strategy applies to ``problem``, else the reason it does not."""
    spec = REGISTRY.get(strategy)
    return None if spec is None or spec.applies is None else spec.applies(problem)


def _needs_symmetric(problem: Problem) -> str | None:
    if not problem.is_orthonormal or problem.K != problem.M:
        return "needs an orthonormal teacher with K = M"
    return None


def _needs_complement(problem: Problem) -> str | None:
    if problem.d <= np.linalg.matrix_rank(problem.V):
        return "needs d > rank(V) (span(V) is the whole space)"
    return None


def _teacher_scale(problem: Problem) -> float:
    return float(np.mean(np.linalg.norm(problem.V, axis=1)))


def random_seeds(problem, n, seed, init="xavier", **kw) -> SeedBatch:
    from ..dynamics.init import make_init
    W = np.concatenate([make_init(init, problem, 1, item_seed(seed, "random", i), **kw)
                        for i in range(n)]) if n else np.zeros((0, problem.K, problem.d))
    return SeedBatch(W, [f"random:{i}" for i in range(n)])


def symmetric_seeds(problem, n, seed) -> SeedBatch:
    why = applicable(problem, "symmetric")
    if why:
        raise ValueError(f"seed strategy 'symmetric' {why}; got {problem!r}")
    K = problem.K
    out, src = [], []
    off = np.ones((K, K)) - np.eye(K)
    for i in range(n):
        rng = item_rng(seed, "symmetric", i)
        fam = i % 5
        if fam < 4:
            a = rng.uniform(0.05, 1.5) * (1 if fam % 2 == 0 else -1)
            b = rng.uniform(0.0, 1.0) * (1 if fam < 2 else -1)
            A = a * np.eye(K) + b * off
        else:
            # invariant under simultaneous permutations of rows/columns fixing index 0
            p = rng.normal(0.0, 0.7, 5) + np.array([0.5, 0.0, 0.0, 0.5, 0.0])
            A = np.full((K, K), p[4])
            A[0, 0], A[0, 1:], A[1:, 0] = p[0], p[1], p[2]
            A[np.arange(1, K), np.arange(1, K)] = p[3]
        out.append(A @ problem.V)  # coordinates in the teacher basis e_j = v_j
        src.append(f"symmetric:{i}")
    return SeedBatch(np.asarray(out).reshape(n, K, problem.d), src)


def block_partitions(K: int, max_blocks: int = 3) -> list[tuple[int, ...]]:
    """Partitions of K into at most ``max_blocks`` parts, descending parts, largest first."""
    out = []

    def rec(rest, cap, parts):
        if rest == 0:
            out.append(tuple(parts))
            return
        if len(parts) == max_blocks:
            return
        for p in range(min(rest, cap), 0, -1):
            rec(rest - p, p, parts + [p])
    rec(K, K, [])
    return out


def isotropy_seeds(problem, n, seed) -> SeedBatch:
    why = applicable(problem, "isotropy")
    if why:
        raise ValueError(f"seed strategy 'isotropy' {why}; got {problem!r}")
    from .fixedpoint import BlockStructure, ReducedSolveSettings, fixed_point_seeds, solve_reduced

    K = problem.K
    parts = block_partitions(K)
    out, src = [], []
    for i in range(n):
        blocks = parts[i % len(parts)]
        st = BlockStructure(blocks)
        th = fixed_point_seeds(st, 1, seed, rng=item_rng(seed, "isotropy", i))[0]
        with np.errstate(all="ignore"):
            res = solve_reduced(st, th, ReducedSolveSettings(tol=1e-13, max_iter=60))
        theta = res.theta if res.success else th
        out.append(st.embed(theta) @ problem.V)  # teacher-basis coordinates, e_j = v_j
        src.append(f"isotropy:{i}:" + "-".join(map(str, blocks)))
    return SeedBatch(np.asarray(out).reshape(n, K, problem.d), src)


def in_plane_seeds(problem, n, seed) -> SeedBatch:
    M = problem.M
    W = [item_rng(seed, "in_plane", i).standard_normal((problem.K, M)) @ problem.V / np.sqrt(M)
         for i in range(n)]
    return SeedBatch(np.asarray(W).reshape(n, problem.K, problem.d),
                     [f"in_plane:{i}" for i in range(n)])


def out_of_plane_seeds(problem, n, seed) -> SeedBatch:
    why = applicable(problem, "out_of_plane")
    if why:
        raise ValueError(f"seed strategy 'out_of_plane' {why}; got {problem!r}")
    U, sv, _ = np.linalg.svd(problem.V.T, full_matrices=True)
    r = int(np.sum(sv > 1e-10 * sv[0]))
    comp = U[:, r:]
    s = _teacher_scale(problem)
    out = []
    for i in range(n):
        rng = item_rng(seed, "out_of_plane", i)
        inp = rng.standard_normal((problem.K, problem.M)) @ problem.V / np.sqrt(problem.M)
        amp = rng.uniform(0.1, 1.0) * s
        outp = amp * rng.standard_normal((problem.K, comp.shape[1])) @ comp.T
        out.append(inp + outp)
    return SeedBatch(np.asarray(out).reshape(n, problem.K, problem.d),
                     [f"out_of_plane:{i}" for i in range(n)])


def teacher_noise_seeds(problem, n, seed, noise=(0.05, 0.5)) -> SeedBatch:
    K, M = problem.K, problem.M
    out = []
    for i in range(n):
        rng = item_rng(seed, "teacher_noise", i)
        base = np.zeros((K, problem.d))
        rows = rng.permutation(M)[: min(K, M)]
        base[: len(rows)] = problem.V[rows]
        base = base[rng.permutation(K)]
        rel = rng.uniform(*noise)
        z = rng.standard_normal(base.shape)
        out.append(base + rel * np.linalg.norm(problem.V) * z / np.linalg.norm(z))
    return SeedBatch(np.asarray(out).reshape(n, K, problem.d),
                     [f"teacher_noise:{i}" for i in range(n)])


def plateau_indices(grad_norm: np.ndarray, max_points: int = 3, drop: float = 0.5) -> list[int]:
    """Indices of strict interior local minima of a recorded ‖∇J‖ path.

    A minimum counts when it is below ``drop`` times the largest value before it
    (a real slowdown, not noise); at most ``max_points``, the smallest first.
    """
    g = np.asarray(grad_norm, dtype=float)
    g = g[np.isfinite(g)]
    idx = []
    for t in range(1, len(g) - 1):
        if g[t] < g[t - 1] and g[t] < g[t + 1] and g[t] < drop * np.max(g[:t]):
            idx.append(t)
    idx.sort(key=lambda t: g[t])
    return sorted(idx[:max_points])


def gd_seeds(problem, n, seed, eta=None, max_steps=20_000, gd_tol=1e-7, n_record=120,
             max_plateaus=3) -> SeedBatch:
    """End points and plateau points of n GD runs from Xavier starts (one ensemble call)."""
    from ..dynamics.gd import gradient_descent
    from ..dynamics.init import xavier_init
    if n == 0:
        return SeedBatch(np.zeros((0, problem.K, problem.d)), [])
    W0 = np.concatenate([xavier_init(problem, 1, item_seed(seed, "gd", i)) for i in range(n)])
    if eta is None:
        # J is homogeneous of degree 2 in (W, V), so its Hessian is scale-free and its top
        # eigenvalue grows with K and M.  2/max(K, M) (Safran–Yehudai–Shamir run 5/k at
        # k = M = d) diverged in none of 50 Xavier runs on each of 15 Gaussian teachers
        # (d, M, K from (3, 6, 2) to (12, 12, 12)) nor on orthonormal ones at K = 10, 20,
        # and needs about 4x fewer steps than the former 0.5/max(K, M), which left most
        # runs at K = 20 unconverged after 20 000 steps (measured once, not scripted).
        eta = 2.0 / max(problem.K, problem.M)
    res = gradient_descent(problem, W0, eta, tol=gd_tol, norm="fro", max_steps=max_steps,
                           record=True, n_record=n_record)
    out, src = [], []
    for i in range(n):
        if res.reason[i] == "diverged" or not np.all(np.isfinite(res.W[i])):
            continue
        _, Ws, gn, _ = res.trajectory(i)
        for t in plateau_indices(gn[:-1], max_plateaus):
            out.append(Ws[t])
            src.append(f"gd:{i}:plateau{t}")
        out.append(res.W[i])
        src.append(f"gd:{i}:end")
    W = np.asarray(out).reshape(len(out), problem.K, problem.d)
    return SeedBatch(W, src)


def user_seeds(problem: Problem, n, seed, points=None) -> SeedBatch:
    """The caller's points (n, K, d) (or one (K, d)), checked; ``n`` and ``seed`` are unused."""
    if points is None:
        raise ValueError("seed strategy 'user' needs points (an array (n, K, d))")
    P = as_float_array(points, "points")
    if P.ndim == 2:
        P = P[None]
    if P.ndim != 3 or P.shape[1:] != (problem.K, problem.d):
        raise ValueError(f"user points must have shape (n, {problem.K}, {problem.d}), "
                         f"got {np.shape(points)}")
    if not np.all(np.isfinite(P)):
        raise ValueError("user points contain NaN or inf")
    return SeedBatch(P.copy(), [f"user:{i}" for i in range(P.shape[0])])


@dataclass(frozen=True)
class Strategy:
    """One seed strategy: ``build(problem, n, seed, **options) -> SeedBatch``.

    ``default``: part of the default set of find_critical_points; ``applies``:
    problem -> None or the reason it does not apply (None: always applies);
    ``options``: whether ``build`` takes the caller's strategy options;
    ``named``: selectable by name (False for "user", whose points come as ``points=``).
    """

    build: Callable[..., SeedBatch]
    default: bool = True
    applies: Callable[[Problem], str | None] | None = None
    options: bool = False
    named: bool = True


# The one list of strategies. Order matters: a strategy's random stream id is its
# position + 1 (see item_rng), so new strategies go at the end.
REGISTRY: dict[str, Strategy] = {
    "random": Strategy(random_seeds, options=True),
    "gd": Strategy(gd_seeds, options=True),
    "symmetric": Strategy(symmetric_seeds, applies=_needs_symmetric),
    "in_plane": Strategy(in_plane_seeds),
    "out_of_plane": Strategy(out_of_plane_seeds, applies=_needs_complement),
    "teacher_noise": Strategy(teacher_noise_seeds, options=True),
    "user": Strategy(user_seeds, default=False, named=False),
    "isotropy": Strategy(isotropy_seeds, default=False, applies=_needs_symmetric),
}
STRATEGIES = tuple(REGISTRY)
NAMED_STRATEGIES = tuple(k for k, v in REGISTRY.items() if v.named)
DEFAULT_STRATEGIES = tuple(k for k, v in REGISTRY.items() if v.default)
_IDS = {name: i + 1 for i, name in enumerate(STRATEGIES)}


def make_seeds(problem: Problem, strategy: str, n: int, seed: int = 0, *, points=None,
               **options) -> SeedBatch:
    """Seeds of one strategy (see the module doc). ``points``: (n, K, d) for "user"."""
    if strategy not in REGISTRY:
        raise ValueError(f"unknown seed strategy {strategy!r}; choose from {STRATEGIES}")
    spec = REGISTRY[strategy]
    if not spec.named:
        return spec.build(problem, n, seed, points=points)
    return spec.build(problem, n, seed, **(options if spec.options else {}))
