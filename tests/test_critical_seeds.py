"""Seed strategies: shapes, determinism, prefix stability, geometric properties."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reludyn as rd
from reludyn.critical.seeds import STRATEGIES, applicable, make_seeds, plateau_indices


@pytest.mark.parametrize("strategy", ["random", "symmetric", "in_plane", "out_of_plane",
                                      "teacher_noise", "gd"])
def test_deterministic_and_prefix_stable(strategy):
    P = rd.Problem.orthonormal(3, 5) if strategy != "symmetric" else rd.Problem.orthonormal(3)
    a = make_seeds(P, strategy, 4, seed=7, **({"max_steps": 300} if strategy == "gd" else {}))
    b = make_seeds(P, strategy, 4, seed=7, **({"max_steps": 300} if strategy == "gd" else {}))
    c = make_seeds(P, strategy, 6, seed=7, **({"max_steps": 300} if strategy == "gd" else {}))
    d = make_seeds(P, strategy, 4, seed=8, **({"max_steps": 300} if strategy == "gd" else {}))
    assert_array_equal(a.W, b.W)
    assert a.W.shape[1:] == (P.K, P.d) and len(a.sources) == a.W.shape[0]
    assert_array_equal(c.W[: a.W.shape[0]], a.W)
    assert not np.array_equal(a.W, d.W)


def test_symmetric_families():
    K = 4
    P = rd.Problem.orthonormal(K)
    b = make_seeds(P, "symmetric", 10, seed=0)
    for i, W in enumerate(b.W):
        fam = i % 5
        for perm in ([1, 0, 2, 3], [0, 2, 3, 1], [0, 1, 3, 2]):
            invariant = np.allclose(W[np.ix_(perm, perm)], W)
            if fam < 4 or perm[0] == 0:
                assert invariant  # aI + b(11ᵀ − I): all perms; 5-param family: those fixing 0
        if fam < 4:
            a_sign = 1 if fam % 2 == 0 else -1
            b_sign = 1 if fam < 2 else -1
            assert np.all(np.sign(np.diag(W)) == a_sign) and np.sign(W[0, 1]) in (0, b_sign)
    with pytest.raises(ValueError, match="orthonormal"):
        make_seeds(rd.Problem.gaussian(3, 3), "symmetric", 2)


def test_plane_strategies():
    P = rd.Problem.orthonormal(2, 5)
    inp = make_seeds(P, "in_plane", 5, seed=1).W
    assert_allclose(inp[:, :, 2:], 0, atol=1e-14)
    out = make_seeds(P, "out_of_plane", 5, seed=1).W
    assert np.all(np.linalg.norm(out[:, :, 2:], axis=2).max(axis=1) > 1e-3)
    assert applicable(rd.Problem.orthonormal(3), "out_of_plane") is not None
    with pytest.raises(ValueError, match="rank"):
        make_seeds(rd.Problem.orthonormal(3), "out_of_plane", 2)


def test_teacher_noise_is_near_a_permuted_teacher():
    P = rd.Problem.orthonormal(3)
    for W in make_seeds(P, "teacher_noise", 5, seed=2).W:
        # each noisy row is closest to a distinct teacher row
        near = np.argmax(W @ P.V.T, axis=1)
        assert len(set(near.tolist())) >= 2


def test_user_points_and_errors():
    P = rd.Problem.orthonormal(2)
    b = make_seeds(P, "user", 0, points=np.ones((3, 2, 2)))
    assert b.W.shape == (3, 2, 2) and b.sources[0] == "user:0"
    with pytest.raises(ValueError, match="shape"):
        make_seeds(P, "user", 0, points=np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        make_seeds(P, "user", 0, points=np.full((1, 2, 2), np.nan))
    with pytest.raises(ValueError, match="unknown seed strategy"):
        make_seeds(P, "nope", 1)
    assert "user" in STRATEGIES


def test_gd_seeds_include_end_and_plateau_points():
    P = rd.Problem.orthonormal(4)
    b = make_seeds(P, "gd", 3, seed=0)
    ends = [s for s in b.sources if s.endswith(":end")]
    assert len(ends) == 3
    for W, s in zip(b.W, b.sources):
        if s.endswith(":end"):
            assert np.linalg.norm(rd.grad(W, P.V)) < 1e-5


def test_plateau_indices():
    g = np.array([1.0, 0.5, 0.01, 0.3, 0.2, 0.002, 0.1, 1e-6])
    assert plateau_indices(g) == [2, 5]
    assert plateau_indices(g, max_points=1) == [5]
    assert plateau_indices(np.array([1.0, 0.9, 0.95])) == []  # no real slowdown


def test_one_registry_serves_find_and_the_cli():
    from reludyn.cli import cmd_catalogue
    from reludyn.critical import find
    from reludyn.critical.seeds import DEFAULT_STRATEGIES, NAMED_STRATEGIES, REGISTRY

    assert STRATEGIES == tuple(REGISTRY) and "user" not in NAMED_STRATEGIES
    assert set(DEFAULT_STRATEGIES) <= set(NAMED_STRATEGIES)
    assert cmd_catalogue._strategy_names() == NAMED_STRATEGIES
    p = rd.Problem.orthonormal(M=3, d=3, K=3)
    counts = find.resolve_strategies(p, find.SeedSettings(n_seeds=2 * len(DEFAULT_STRATEGIES)))
    assert list(counts) == [s for s in DEFAULT_STRATEGIES if applicable(p, s) is None]
    for name in NAMED_STRATEGIES:
        if applicable(p, name) is None and name != "gd":  # gd runs descents: covered above
            b = make_seeds(p, name, 2, seed=1)
            assert b.W.shape == (2, 3, 3) and all(s.startswith(name) for s in b.sources)
