"""Completeness: Chao1 against samplers of known richness, hand-computed cases, saturation
curves, discovery records through the finder, JSON, and the until-saturated round loop."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import reludyn as rd
import reludyn.critical.find as find_mod
from reludyn.runner import Executor
from reludyn.critical import (Catalogue, SaturationSettings, SeedSettings, SolverSettings,
                              chao1, find_critical_points,
                              find_until_saturated, saturation_curve)
from reludyn.critical.saturate import round_path, round_seed

Z = 1.959963984540054


# --- Chao1: closed forms and hand-computed cases --------------------------------------
def test_hand_computed_with_doubletons():
    # hits 1,1,1,2,2,5: S_obs = 6, f1 = 3, f2 = 2
    e = chao1([1, 1, 1, 2, 2, 5])
    assert (e.observed, e.f1, e.f2) == (6, 3, 2)
    assert e.unseen == 9 / 4                          # f1²/(2 f2)
    # Chao (1987): f2 [ (f1/f2)²/2 + (f1/f2)³ + (f1/f2)⁴/4 ] = 2 (1.125 + 3.375 + 1.265625)
    assert_allclose(e.unseen_var, 11.53125, rtol=1e-15)
    C = math.exp(Z * math.sqrt(math.log(1 + 11.53125 / 2.25 ** 2)))  # = 8.4614...
    assert_allclose(C, 8.4614, rtol=1e-4)
    assert_allclose(e.interval, (6 + 2.25 / C, 6 + 2.25 * C), rtol=1e-14)
    assert_allclose(e.total, 8.25)


def test_all_singletons_uses_bias_corrected_form():
    n = 5
    e = chao1([1] * n)
    assert (e.observed, e.f1, e.f2) == (5, 5, 0)
    assert e.unseen == n * (n - 1) / 2                # f1(f1−1)/(2(f2+1)) = 10
    S = 5 + 10
    assert_allclose(e.unseen_var, 10 + 5 * 81 / 4 - 625 / (4 * S), rtol=1e-15)
    assert e.interval[0] > 5 and e.interval[1] > e.total


def test_no_singletons_means_nothing_unseen():
    e = chao1([2, 3, 2, 7])
    assert (e.observed, e.f1, e.f2, e.unseen, e.unseen_var) == (4, 0, 2, 0.0, 0.0)
    assert e.interval == (4.0, 4.0)
    # one singleton, no doubleton: f1(f1−1)/2 = 0 unseen, interval from S_obs upwards
    e = chao1([1, 4, 4])
    assert e.unseen == 0.0 and e.interval[0] == 3.0
    assert_allclose(e.unseen_var, 0 + 1 / 4 - 1 / 12)
    assert_allclose(e.interval[1], 3 + Z * math.sqrt(1 / 4 - 1 / 12))
    e = chao1([])
    assert (e.observed, e.unseen, e.interval) == (0, 0.0, (0.0, 0.0))


def test_bad_hits():
    for bad, msg in (([0, 1], "at least one hit"), ([1.5], "whole numbers"),
                     ([[1, 2]], "1-D"), ([float("nan")], "whole numbers")):
        with pytest.raises(ValueError, match=msg):
            chao1(bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 12), max_size=40))
def test_properties(hits):
    e = chao1(hits)
    assert e.observed == len(hits) and e.unseen >= 0 and e.unseen_var >= 0
    lo, hi = e.interval
    assert e.observed <= lo <= e.total + 1e-9 <= hi + 2e-9
    assert chao1(sorted(hits)) == e                   # order of entries is irrelevant


# --- Chao1 against synthetic samplers of known richness --------------------------------
def _sample(S, N, p, reps, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(reps):
        h = np.bincount(rng.choice(S, size=N, p=p))
        out.append(chao1(h[h > 0]))
    return out


def test_interval_covers_true_richness_uneven_sampler():
    # 60 classes with log-normal (uneven, known) probabilities, 120 draws: the nominal 95 %
    # interval covers S = 60 in 91.75 % of 400 seeded repetitions; binomial sd there is
    # 0.014, so requiring >= 85 % leaves 5 sd of room and still fails a broken interval
    # (the observed count alone covers S in 0 % of them).
    S, N = 60, 120
    p = np.random.default_rng(1).lognormal(0.0, 1.0, S)
    est = _sample(S, N, p / p.sum(), 400, 7)
    cover = np.mean([e.interval[0] <= S <= e.interval[1] for e in est])
    assert cover >= 0.85
    assert np.mean([e.observed == S for e in est]) < 0.05


def test_equal_abundances_unbiased_and_variance_matches():
    # equal probabilities (Chao1's Poisson model): mean total within 5 % of S (its standard
    # error over 400 repetitions is ~0.4), and Chao's variance predicts the spread of the
    # estimate within 25 %
    S, N = 40, 60
    est = _sample(S, N, np.full(S, 1 / S), 400, 11)
    tot = np.array([e.total for e in est])
    assert abs(tot.mean() - S) < 0.05 * S
    assert np.mean([e.observed for e in est]) < 0.9 * S  # the raw count is badly biased
    ratio = tot.std() / np.sqrt(np.mean([e.unseen_var for e in est]))
    assert 0.8 < ratio < 1.25


# --- saturation curve -----------------------------------------------------------------
def test_saturation_curve_from_known_sequence():
    ev = [(4, "saddle", 1), (1, "global_min", 0), (2, "saddle", 2), (7, "saddle", 1)]
    c = saturation_curve(ev, 8)
    assert_array_equal(c.starts, np.arange(9))
    assert_array_equal(c.distinct, [0, 1, 2, 2, 3, 3, 3, 4, 4])
    assert_array_equal(c.by_kind["saddle"], [0, 0, 1, 1, 2, 2, 2, 3, 3])
    assert_array_equal(c.by_kind["global_min"], [0, 1, 1, 1, 1, 1, 1, 1, 1])
    assert_array_equal(c.by_kind_index[("saddle", 1)], [0, 0, 0, 0, 1, 1, 1, 2, 2])
    assert sum(v[-1] for v in c.by_kind_index.values()) == 4
    with pytest.raises(ValueError, match="1..3"):
        saturation_curve([(4, "saddle", 1)], 3)
    with pytest.raises(ValueError, match="same start"):
        saturation_curve([(1, "a", 0), (1, "b", 0)], 3)
    assert_array_equal(saturation_curve([], 2).distinct, [0, 0, 0])


@pytest.fixture
def recorded():
    """K = 2 orthonormal: start 1 finds the saddle, 2 is rejected, 3 the minimum, 4 a
    permuted copy of the minimum (a hit), 5 the saddle again."""
    P = rd.Problem.orthonormal(2)
    cat = Catalogue(P)
    saddle = np.full((2, 2), rd.symmetric_saddle_x(2))
    cat.record_start(cat.add(saddle, source="s1"))
    cat.record_start(None)
    cat.record_start(cat.add(P.V.copy(), source="s3"))
    cat.record_start(cat.add(P.V[[1, 0]].copy(), source="s4"))
    cat.record_start(cat.add(saddle, source="s5"))
    return cat


def test_discoveries_survive_sort(recorded):
    cat = recorded
    assert cat.starts == 5 and [e.first_start for e in cat] == [1, 3]
    cat.sort()  # the minimum moves first
    assert [e.kind for e in cat] == ["global_min", "saddle"]
    assert [e.first_start for e in cat] == [3, 1]
    c = cat.saturation()
    assert_array_equal(c.distinct, [0, 1, 1, 2, 2, 2])
    assert_array_equal(c.by_kind["global_min"], [0, 0, 0, 1, 1, 1])
    comp = cat.completeness()
    assert comp.starts == 5 and comp.overall == chao1([2, 2])
    assert set(comp.by_kind) == {"global_min", "saddle"}
    assert set(comp.by_kind_index) == {("global_min", 0), ("saddle", cat.entries[1].index)}
    last = cat.table().splitlines()[-1]
    assert last.startswith("completeness: 5 starts processed, 2 observed") and "95%" in last


def test_json_round_trip_and_checks(recorded, tmp_path):
    cat = recorded
    path = tmp_path / "c.json"
    cat.save(path)
    data = json.loads(path.read_text())
    assert data["completeness"]["starts"] == 5
    assert data["completeness"]["overall"]["observed"] == 2
    back = Catalogue.load(path)
    assert back.starts == 5 and [e.first_start for e in back] == [1, 3]
    assert back.completeness() == cat.completeness()
    assert_array_equal(back.saturation().distinct, cat.saturation().distinct)
    # stored estimates must agree with the hits
    bad = json.loads(path.read_text())
    bad["entries"][0]["hits"] = 7
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="disagrees with the entries' hits"):
        Catalogue.load(path)
    bad = json.loads(json.dumps(data))
    bad["entries"][1]["first_start"] = 9
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="first_start"):
        Catalogue.load(path)
    # an older file (no completeness block, no first_start): loads; starts from provenance
    old = json.loads(json.dumps(data))
    del old["completeness"]
    for e in old["entries"]:
        del e["first_start"]
    old["provenance"] = {"seeds_done": 5}
    path.write_text(json.dumps(old))
    back = Catalogue.load(path)
    assert back.starts == 5 and back.completeness().overall == chao1([2, 2])
    with pytest.raises(ValueError, match="no recorded discovery"):
        back.saturation()


def test_finder_records_every_start():
    P = rd.Problem.orthonormal(3)
    cat = find_critical_points(P, SeedSettings(strategies=["random"], n_seeds=12, seed=2),
                               solver=SolverSettings(methods=("lm",)))
    prov = cat.provenance
    assert cat.starts == prov["n_seed_points"] == prov["accepted"] + prov["rejected"] == 12
    firsts = [e.first_start for e in cat]
    assert len(set(firsts)) == len(cat) and min(firsts) == 1 and max(firsts) <= 12
    assert cat.saturation().distinct[-1] == len(cat)
    assert cat.completeness().overall == chao1([e.hits for e in cat])


# --- the round loop -------------------------------------------------------------------
P33 = rd.Problem.orthonormal(3)
OPTS = dict(solver=SolverSettings(methods=("lm",)))


def _seeds(seed=0, n_seeds=60):
    return SeedSettings(n_seeds=n_seeds, seed=seed, strategies=["random"])


def test_until_saturated_stops_on_budget_and_on_threshold():
    budget = find_until_saturated(P33, SaturationSettings(6, max_seeds=15, unseen_below=1e-9),
                                  seeds=_seeds(0), **OPTS)
    rounds = budget.provenance["rounds"]
    assert budget.provenance["stop"] == "budget"
    assert [r["n_seeds"] for r in rounds] == [6, 6, 3]  # the last round fits the budget
    assert budget.starts == 15 and sum(e.hits for e in budget) <= 15
    assert [r["seed"] for r in rounds] == [0, round_seed(0, 1), round_seed(0, 2)]
    assert len(set(r["seed"] for r in rounds)) == 3
    # round 0 is the plain run with the base seed; the first round's unseen estimate is > 2
    plain = find_critical_points(P33, _seeds(0, 6), **OPTS)
    assert all(budget.match(e.W) is not None for e in plain)
    assert rounds[0]["unseen"] > 2 and rounds[0]["entries"] == len(plain)
    # a threshold met after the first round stops there
    thr = rounds[0]["unseen"] + 0.5
    stop = find_until_saturated(P33, SaturationSettings(6, max_seeds=60, unseen_below=thr),
                                seeds=_seeds(0), **OPTS)
    assert stop.provenance["stop"] == "saturated" and len(stop.provenance["rounds"]) == 1
    assert stop.completeness().overall.unseen < thr
    # each round's discoveries continue the start count
    firsts = sorted(e.first_start for e in budget)
    assert_array_equal(budget.saturation().distinct[firsts], np.arange(1, len(budget) + 1))


def _strip(cat):
    return [e.to_dict() for e in cat], cat.completeness(), cat.starts


def test_until_saturated_resumes(tmp_path, monkeypatch):
    s = SaturationSettings(6, max_seeds=18, unseen_below=1e-9)
    full = find_until_saturated(P33, s, seeds=_seeds(5), **OPTS)
    assert full.provenance["stop"] == "budget" and len(full.provenance["rounds"]) == 3
    out = tmp_path / "sat.json"
    calls = {"n": 0}
    real = find_mod._solve_task

    def flaky(args):
        calls["n"] += 1
        if calls["n"] > 9:  # inside round 1, after its work file was saved once
            raise KeyboardInterrupt
        return real(args)

    monkeypatch.setattr(find_mod, "_solve_task", flaky)
    with pytest.raises(KeyboardInterrupt):
        find_until_saturated(P33, s, seeds=_seeds(5), out=out, executor=Executor(chunk=1),
                             **OPTS)
    part = Catalogue.load(out)
    assert len(part.provenance["rounds"]) == 1 and not part.provenance["complete"]
    assert Catalogue.load(round_path(out, 1)).provenance["seeds_done"] == 3
    monkeypatch.setattr(find_mod, "_solve_task", real)
    done = find_until_saturated(P33, s, seeds=_seeds(5), out=out, executor=Executor(chunk=1),
                                **OPTS)
    assert _strip(done) == _strip(full) and _strip(Catalogue.load(out)) == _strip(full)
    assert not round_path(out, 1).exists() and not round_path(out, 2).exists()
    # a larger budget continues a finished run, matching a run with that budget at once
    more = SaturationSettings(6, max_seeds=24, unseen_below=1e-9)
    again = find_until_saturated(P33, more, seeds=_seeds(5), out=out, **OPTS)
    assert len(again.provenance["rounds"]) == 4
    assert _strip(again) == _strip(find_until_saturated(P33, more, seeds=_seeds(5), **OPTS))
    with pytest.raises(ValueError, match="cannot resume"):
        find_until_saturated(P33, more, seeds=_seeds(6), out=out, **OPTS)
    plain = tmp_path / "plain.json"
    find_critical_points(P33, _seeds(0, 6), out=plain, **OPTS)
    with pytest.raises(ValueError, match="cannot resume"):
        find_until_saturated(P33, more, seeds=_seeds(), out=plain, **OPTS)


def test_settings_validation():
    with pytest.raises(ValueError, match="round_seeds"):
        SaturationSettings(0)
    with pytest.raises(ValueError, match="unseen_below"):
        SaturationSettings(5, unseen_below=-1.0)
    with pytest.raises(TypeError, match="SaturationSettings"):
        find_until_saturated(P33, {"round_seeds": 5})
    with pytest.raises(TypeError, match="n_seeds"):
        find_until_saturated(P33, SaturationSettings(5), n_seeds=3)
    assert SaturationSettings(7).budget == 70


def test_plot_file_is_written(recorded, tmp_path):
    from reludyn.plots.saturation import draw_saturation
    fig, ax = draw_saturation(recorded, tmp_path / "sat.png")
    assert (tmp_path / "sat.png").stat().st_size > 1000
    assert ax.get_xlabel() == "starts processed"
    with pytest.raises(ValueError, match="no starts"):
        draw_saturation(Catalogue(rd.Problem.orthonormal(2)))
