"""Index-targeted search: mode following from minima to index-1 saddles, index-k targets,
the follow_modes option of find_critical_points (indices checked independently)."""
import numpy as np
import pytest

import reludyn as rd
from reludyn.check import finite_difference_hessian
from reludyn.critical import Catalogue, SeedSettings, SolverSettings, find_critical_points
from reludyn.critical.solve import solve_point
from reludyn.critical.targeted import TargetSettings, follow_modes, target_index_search

SCIPY = ("hybr", "lm", "lsq")


def _fd_index(W, V, rtol=1e-5):
    H = finite_difference_hessian(W, V, 1e-6)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    return int(np.sum(ev < -rtol * np.max(np.abs(ev))))


@pytest.mark.parametrize("P", [rd.Problem.orthonormal(2), rd.Problem.orthonormal(3),
                               rd.Problem.gaussian(3, 4, seed=2)], ids=str)
def test_mode_following_from_the_minimum_reaches_index_one_saddles(P):
    res = follow_modes(P.V, P.V, n_modes=2)
    assert len(res) == 4
    ok = [r for r in res if r.success]
    assert ok
    for r in ok:
        assert r.index == 1
        assert np.linalg.norm(rd.grad(r.W, P.V)) <= 1e-10
        assert _fd_index(r.W, P.V) == 1  # independent: finite-difference Hessian
        # independent: SciPy from the found point stays there (modulo symmetry)
        s = solve_point(r.W, P.V, methods=SCIPY)
        cat = Catalogue(P)
        cat.add(r.W)
        assert s.success and cat.match(s.W) == 0


def test_target_index_two_from_a_perturbed_saddle_and_bad_input():
    P = rd.Problem.orthonormal(3)
    xs = rd.symmetric_saddle_x(3)
    start = np.full((3, 3), xs) + 0.05 * np.random.default_rng(1).standard_normal((3, 3))
    r = target_index_search(start, P.V, TargetSettings(index=2))
    assert r.success and r.index == 2 and _fd_index(r.W, P.V) == 2
    with pytest.raises(ValueError, match="index"):
        TargetSettings(index=-1)
    with pytest.raises(ValueError, match="index 1"):
        target_index_search(start, P.V, TargetSettings(index=2), follow=np.ones(9))


def test_find_with_follow_modes_adds_index_one_saddles():
    P = rd.Problem.orthonormal(3)
    cat = find_critical_points(P, SeedSettings(n_seeds={"teacher_noise": 4}, seed=0),
                               solver=SolverSettings(follow_modes=2))
    fol = [e for e in cat if any(s.startswith("follow:") for s in e.sources)]
    assert fol and cat.provenance["follow"]["index1_found"] > 0
    for e in fol:
        assert e.index == 1 and e.kind == "saddle"
        assert _fd_index(e.W, P.V) == 1
    with pytest.raises(ValueError, match="follow_modes"):
        find_critical_points(P, SeedSettings(n_seeds=2), solver=SolverSettings(follow_modes=-1))
