"""find_critical_points: the issue's acceptance tests, determinism, resume, bad input.

The spurious-minima acceptance test runs K = M = d = 6, 8 and 10 (not 7, 9) to keep
the suite fast; benchmarks/bench_catalogue.py runs K = M = d = 10.
"""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import reludyn as rd
from reludyn.critical import Catalogue, SeedSettings, SolverSettings, find_critical_points
from reludyn.runner import Executor
from reludyn.check import finite_difference_hessian
from reludyn.critical import find as find_mod

SCIPY = ("hybr", "lm", "lsq")  # the per-seed SciPy path (the resume test counts its calls)


def _fd_nullity_index(W, V, h=1e-6, rtol=1e-5):
    H = finite_difference_hessian(W, V, h)
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    z = np.abs(ev) <= rtol * np.max(np.abs(ev))
    return int(np.sum((ev < 0) & ~z)), int(np.sum(z))


def _all_critical(cat, tol=1e-10):
    for e in cat:
        assert np.linalg.norm(rd.grad(e.W, cat.problem.V)) <= tol
        assert e.grad_norm <= tol


def test_k2_orthonormal_minimum_once_and_symmetric_saddle():
    P = rd.Problem.orthonormal(2)
    cat = find_critical_points(P, SeedSettings(n_seeds=30, seed=0))
    _all_critical(cat)
    mins = [e for e in cat if e.kind == "global_min"]
    assert len(mins) == 1 and mins[0].orbit_size == 2 and mins[0].hits > 1
    assert cat.match(P.V[[1, 0]].copy()) == cat.entries.index(mins[0])
    xs = rd.symmetric_saddle_x(2)
    i = cat.match(np.full((2, 2), xs))
    assert i is not None
    e = cat.entries[i]
    assert e.kind == "saddle"
    assert (e.index, e.nullity) == _fd_nullity_index(np.full((2, 2), xs), P.V) == (1, 1)
    np.testing.assert_allclose(e.W, np.full((2, 2), xs), atol=1e-9)
    losses = [x.loss for x in cat]
    assert losses == sorted(losses)


@pytest.mark.parametrize("d", [4, 6])
def test_out_of_plane_points_have_rotation_zero_modes(d):
    P = rd.Problem.orthonormal(2, d)
    cat = find_critical_points(P, SeedSettings(n_seeds={"out_of_plane": 20, "gd": 6}, seed=1))
    _all_critical(cat)
    oop = [e for e in cat if not e.in_plane]
    assert oop
    for e in oop:
        assert e.plane_distance > 1e-3
        assert e.orbit_size is None
        assert e.symmetry_zero_modes > 0
        assert e.nullity == e.symmetry_zero_modes
        assert e.unexplained_zero_modes == 0
        assert _fd_nullity_index(e.W, P.V)[1] == e.nullity


@pytest.mark.parametrize("K", [6, 8, 10])
def test_spurious_minima_not_reached_by_gd(K):
    from reludyn.dynamics.gd import gradient_descent
    from reludyn.dynamics.init import xavier_init
    P = rd.Problem.orthonormal(K)
    cat = find_critical_points(P, SeedSettings(n_seeds={"symmetric": 15, "gd": 5}, seed=0))
    _all_critical(cat)
    assert any(e.kind == "global_min" for e in cat)
    spurious = [i for i, e in enumerate(cat.entries) if e.kind == "spurious_min"]
    assert spurious
    for i in spurious:
        assert cat.entries[i].index == 0 and cat.entries[i].loss > 1e-3
    res = gradient_descent(P, xavier_init(P, 16, seed=123), 0.5 / K, tol=1e-7, norm="fro",
                           max_steps=20_000)
    reached = set()
    for W, why in zip(res.W, res.reason):
        if why == "converged":
            from reludyn.critical.solve import solve_point
            r = solve_point(W, P.V)
            j = cat.match(r.W) if r.success else None
            if j is not None:
                reached.add(j)
    assert reached, "GD end points should land on catalogue entries"
    assert set(spurious) - reached


def test_same_seed_same_catalogue_and_more_seeds_superset():
    P = rd.Problem.orthonormal(3, 4)
    a = find_critical_points(P, SeedSettings(n_seeds=24, seed=3))
    b = find_critical_points(P, SeedSettings(n_seeds=24, seed=3))
    assert len(a) == len(b)
    for x, y in zip(a.entries, b.entries):
        assert_array_equal(x.W, y.W)
        assert x.to_dict() == y.to_dict()
    big = find_critical_points(P, SeedSettings(n_seeds=48, seed=3))
    for e in a:
        assert big.match(e.W) is not None
    assert len(big) >= len(a)


def _interrupt_after(monkeypatch, n):
    """Make the (n + 1)-th solve task raise KeyboardInterrupt; returns (the real task, the
    call counter)."""
    real, calls = find_mod._solve_task, {"n": 0}

    def flaky(args):
        calls["n"] += 1
        if calls["n"] > n:
            raise KeyboardInterrupt
        return real(args)

    monkeypatch.setattr(find_mod, "_solve_task", flaky)
    return real, calls


def test_resume_after_interruption(tmp_path, monkeypatch):
    P = rd.Problem.orthonormal(2, 3)
    full = find_critical_points(P, SeedSettings(n_seeds=18, seed=4), solver=SolverSettings(methods=SCIPY))
    out = tmp_path / "cat.json"
    real, _ = _interrupt_after(monkeypatch, 7)
    with pytest.raises(KeyboardInterrupt):
        find_critical_points(P, SeedSettings(n_seeds=18, seed=4), solver=SolverSettings(methods=SCIPY),
                             executor=Executor(chunk=1), out=out)
    part = Catalogue.load(out)
    assert part.provenance["seeds_done"] == 7 and not part.provenance["complete"]
    monkeypatch.setattr(find_mod, "_solve_task", real)
    done = find_critical_points(P, SeedSettings(n_seeds=18, seed=4),
                                solver=SolverSettings(methods=SCIPY),
                                executor=Executor(chunk=1), out=out, resume=True)
    assert done.provenance["complete"]
    assert [e.to_dict() for e in done] == [e.to_dict() for e in full]
    with pytest.raises(ValueError, match="cannot resume"):
        find_critical_points(P, SeedSettings(n_seeds=20, seed=4),
                             solver=SolverSettings(methods=SCIPY), out=out, resume=True)


def test_workers_do_not_change_the_result():
    P = rd.Problem.orthonormal(2, 3)
    a = find_critical_points(P, SeedSettings(n_seeds=12, seed=5), executor=Executor(workers=1))
    b = find_critical_points(P, SeedSettings(n_seeds=12, seed=5), executor=Executor(workers=2))
    assert [e.to_dict() for e in a] == [e.to_dict() for e in b]


def test_user_points_and_bad_input():
    P = rd.Problem.orthonormal(2)
    cat = find_critical_points(P, SeedSettings(n_seeds=0), points=P.V[None] * 1.01)
    assert len(cat) == 1 and cat.entries[0].kind == "global_min"
    with pytest.raises(TypeError, match="Problem"):
        find_critical_points(np.eye(2))
    with pytest.raises(ValueError, match="n_seeds"):
        find_critical_points(P, SeedSettings(n_seeds=-1))
    with pytest.raises(ValueError, match="unknown seed strategy"):
        find_critical_points(P, SeedSettings(strategies=["magic"]))
    with pytest.raises(ValueError, match="rank"):
        find_critical_points(P, SeedSettings(strategies=["out_of_plane"]))
    with pytest.raises(ValueError, match="unknown solver"):
        find_critical_points(P, solver=SolverSettings(methods=["newton"]))
    with pytest.raises(ValueError, match="tol"):
        find_critical_points(P, solver=SolverSettings(tol=-1.0))


def test_k_below_m_lowest_minimum_is_labelled_global():
    P = rd.Problem.gaussian(2, 2, K=1, seed=1)
    cat = find_critical_points(P, SeedSettings(n_seeds=24, seed=0))
    mins = [e for e in cat if e.kind in ("global_min", "spurious_min")]
    assert mins and mins[0].kind == "global_min" and mins[0].loss > 0
    assert all(e.kind == "spurious_min" for e in mins[1:])
    # independent check: GD from many starts never goes below the labelled minimum
    from reludyn.dynamics.gd import gradient_descent
    from reludyn.dynamics.init import gaussian_init
    res = gradient_descent(P, gaussian_init(P, 20, seed=5), 0.2, tol=1e-9, max_steps=20_000)
    assert np.min(res.loss) >= mins[0].loss - 1e-9


@pytest.mark.parametrize("methods", [SCIPY, ("native", "hybr", "lm", "lsq")],
                         ids=["scipy", "native"])
def test_catalogue_does_not_depend_on_chunking_or_workers(methods):
    """One chunk in this process vs chunks of 2 and 5 seeds in two worker processes."""
    P = rd.Problem.orthonormal(3, 4, K=3)
    solver = SolverSettings(methods=methods)
    ref = find_critical_points(P, SeedSettings(n_seeds=10, seed=7), solver=solver)
    p = ref.provenance
    assert p["seeds_done"] == p["n_seed_points"] == p["accepted"] + p["rejected"] == ref.starts
    for ex in (Executor(chunk=2, workers=1), Executor(chunk=5, workers=2)):
        cat = find_critical_points(P, SeedSettings(n_seeds=10, seed=7), solver=solver,
                                   executor=ex)
        assert [e.to_dict() for e in cat] == [e.to_dict() for e in ref]
        assert cat.provenance["accepted_by"] == p["accepted_by"]
        assert cat.completeness() == ref.completeness()


def test_resume_goes_through_the_runner_chunks(tmp_path, monkeypatch):
    """An interrupted run leaves finished chunk files; the rerun loads them, solves only
    the rest, and removes the chunk directory once the catalogue is complete."""
    P = rd.Problem.orthonormal(2, 3)
    seeds, solver = SeedSettings(n_seeds=8, seed=2), SolverSettings(methods=SCIPY)
    full = find_critical_points(P, seeds, solver=solver)
    out = tmp_path / "cat.json"
    _, calls = _interrupt_after(monkeypatch, 5)
    with pytest.raises(KeyboardInterrupt):
        find_critical_points(P, seeds, solver=solver, executor=Executor(chunk=2), out=out)
    chunks = find_mod.chunk_dir(out)
    assert sorted(f.name for f in (chunks / "tasks").iterdir()) == \
        ["seeds0000000-0000002.npz", "seeds0000002-0000004.npz"]
    assert Catalogue.load(out).provenance["seeds_done"] == 4
    calls["n"] = -100
    done = find_critical_points(P, seeds, solver=solver, executor=Executor(chunk=2), out=out,
                                resume=True)
    assert calls["n"] == -100 + full.provenance["n_seed_points"] - 4  # only the rest solved
    assert [e.to_dict() for e in done] == [e.to_dict() for e in full]
    assert not chunks.exists() and Catalogue.load(out).provenance["complete"]


def test_settings_objects_validate_once():
    with pytest.raises(ValueError, match="seed"):
        SeedSettings(seed=-1)
    with pytest.raises(ValueError, match="unknown seed strategy"):
        SeedSettings(n_seeds={"magic": 3})
    with pytest.raises(ValueError, match="options has unknown strategy"):
        SeedSettings(options={"magic": {}})
    with pytest.raises(TypeError, match="NativeSettings"):
        SolverSettings(native={"tol": 1.0})
    with pytest.raises(ValueError, match="max_nfev"):
        SolverSettings(max_nfev=0)
    assert SolverSettings(tol=1e-9).native.tol == 1e-9
    assert SeedSettings(strategies="random").strategies == ("random",)
    P = rd.Problem.orthonormal(2)
    with pytest.raises(TypeError, match="SolverSettings"):
        find_critical_points(P, 4, solver={"tol": 1e-9})
    with pytest.raises(TypeError, match="Executor"):
        find_critical_points(P, 4, executor=2)
    assert len(find_critical_points(P, 4)) == len(find_critical_points(P, SeedSettings(4)))
