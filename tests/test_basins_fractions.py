"""Basin fractions: the Wilson interval against an independent root-finding oracle."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq
from scipy.stats import norm

from reludyn.basins.fractions import Z95, wilson_interval


def _oracle(k, n, z):
    """The Wilson interval is {p : |k/n - p| <= z sqrt(p(1-p)/n)}: find its ends by bisection."""
    ph = k / n
    f = lambda p: (ph - p) ** 2 - z * z * p * (1 - p) / n  # noqa: E731
    # f < 0 strictly inside the interval; bracket away from the root p = k/n = 0 or 1
    lo = 0.0 if k == 0 else brentq(f, 0.0, min(ph, 1 - 1e-16), xtol=1e-15)
    hi = 1.0 if k == n else brentq(f, max(ph, 1e-300), 1.0, xtol=1e-15)
    return lo, hi


def test_z95():
    assert_allclose(Z95, norm.ppf(0.975), rtol=1e-15)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.floats(0.5, 3.5))
def test_matches_oracle(kn, z):
    k, n = kn
    lo, hi = wilson_interval(k, n, z)
    assert_allclose((lo, hi), _oracle(k, n, z), atol=1e-12)
    assert 0 <= lo <= k / n <= hi <= 1
    # symmetric under k -> n - k
    lo2, hi2 = wilson_interval(n - k, n, z)
    assert_allclose((lo2, hi2), (1 - hi, 1 - lo), atol=1e-12)


def test_known_values():
    # k = 0: upper end z^2 / (n + z^2) in closed form
    assert wilson_interval(0, 100) == (0.0, pytest.approx(Z95 ** 2 / (100 + Z95 ** 2), rel=1e-12))
    lo, hi = wilson_interval(50, 100)
    assert_allclose(0.5 - lo, hi - 0.5, rtol=1e-12)
    # narrows like 1/sqrt(n)
    w1 = np.subtract(*wilson_interval(300, 1000)[::-1])
    w2 = np.subtract(*wilson_interval(30000, 100000)[::-1])
    assert_allclose(w1 / w2, math.sqrt(100), rtol=0.01)


@pytest.mark.parametrize("k, n, err", [(-1, 10, ValueError), (11, 10, ValueError), (0, 0, ValueError),
                                       (1.0, 10, TypeError), (1, True, TypeError)])
def test_bad_input(k, n, err):
    with pytest.raises(err):
        wilson_interval(k, n)


# --- basin fractions on real dynamics ------------------------------------------
from reludyn import Problem  # noqa: E402
from reludyn.basins.fractions import basin_fractions  # noqa: E402
from reludyn.dynamics import FlowSettings, GDSettings  # noqa: E402
from reludyn.runner import Executor  # noqa: E402
from reludyn.critical import Catalogue  # noqa: E402
from reludyn.dynamics.gd import gradient_descent  # noqa: E402
from reludyn.dynamics.init import make_init  # noqa: E402


def _is_row_permutation(W, V, atol=1e-6):
    """Independent of the catalogue's matching: every row of W equals a distinct row of V."""
    D = np.linalg.norm(W[:, None, :] - V[None, :, :], axis=2)
    p = np.argmin(D, axis=1)
    return len(set(p.tolist())) == len(p) and np.max(D[np.arange(len(p)), p]) < atol


def test_fractions_count_gd_ends():
    prob = Problem.orthonormal(3)
    cat = Catalogue(prob)
    res = basin_fractions(prob, cat, n=30, seed=4, dynamics=GDSettings(eta=0.1),
                          executor=Executor(chunk=7))
    # same starts, run directly: the labels must describe these end points
    ref = gradient_descent(prob, make_init("xavier", prob, 30, 4), 0.1, tol=1e-10)
    assert_allclose(res.time, ref.steps)
    for lab, W in zip(res.labels, ref.W):
        assert lab >= 0
        if cat.entries[lab].kind == "global_min":
            assert _is_row_permutation(W, prob.V)
        else:
            assert prob.loss(W) > 1e-8
    counts = np.bincount(res.labels, minlength=len(cat.entries))
    total = sum(r["count"] for r in res.table) + res.n_unconverged
    assert total == 30
    for r in res.table:
        assert r["count"] == counts[r["entry"]]
        assert r["fraction"] == r["count"] / 30
        assert (r["lo"], r["hi"]) == wilson_interval(r["count"], 30)
    assert res.n_new_entries == len(cat.entries) >= 1
    assert res.time_stats["max"] == ref.steps.max()


def test_fractions_unconverged_and_flow():
    prob = Problem.orthonormal(2)
    cat = Catalogue(prob)
    res = basin_fractions(prob, cat, n=5, seed=1, dynamics=GDSettings(eta=0.1, max_steps=3))
    assert res.n_unconverged == 5 and res.reasons == {"budget": 5} and res.table == []
    assert res.time_stats == {} and len(cat.entries) == 0
    res = basin_fractions(prob, cat, n=3, seed=1, dynamics=FlowSettings(tol=1e-9, t_max=1e4))
    assert res.n_unconverged == 0
    assert {cat.entries[i].kind for i in res.labels} <= {"global_min", "saddle", "spurious_min"}


def test_fractions_resume_and_dask(tmp_path):
    distributed = pytest.importorskip("distributed")
    prob = Problem.orthonormal(3)
    local = basin_fractions(prob, Catalogue(prob), n=24, seed=2,
                            executor=Executor(chunk=6, out_dir=tmp_path / "a"))
    (tmp_path / "a" / "tasks" / "chunk00000006.npz").unlink()
    again = basin_fractions(prob, Catalogue(prob), n=24, seed=2,
                            executor=Executor(chunk=6, out_dir=tmp_path / "a"))
    assert_allclose(again.time, local.time)
    assert again.table == local.table
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  host="127.0.0.1", protocol="tcp://", dashboard_address=None) as cl:
        dres = basin_fractions(prob, Catalogue(prob), n=24, seed=2,
                               executor=Executor(chunk=6, out_dir=tmp_path / "d",
                                                 scheduler=cl.scheduler_address))
    assert_array_equal(dres.labels, local.labels)
    assert_array_equal(dres.time, local.time)
    assert dres.table == local.table


def test_fractions_bad_input():
    prob = Problem.orthonormal(2)
    with pytest.raises(ValueError, match="different problem"):
        basin_fractions(prob, Catalogue(Problem.orthonormal(3)), n=2)
    with pytest.raises(ValueError, match="dynamics"):
        basin_fractions(prob, Catalogue(prob), n=2, dynamics="sgd")
    with pytest.raises(ValueError, match="n must be"):
        basin_fractions(prob, Catalogue(prob), n=0)
    with pytest.raises(TypeError):
        basin_fractions("p", Catalogue(prob), n=2)
    with pytest.raises(ValueError):
        basin_fractions(prob, Catalogue(prob), n=2, dynamics=GDSettings(eta=-1.0))
