"""The SYS census script (analyses/beyond_m_sys_census.py): table, comparison, resume."""
from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from analyses import beyond_m_sys_census as sys_census
from analyses import common
from reludyn.io import read_npz

ARGS = ["--quiet", "--sizes", "5", "--n", "20", "--chunk", "5", "--early-assign"]


def test_blocks_and_z():
    W = np.full((5, 5), 0.1)
    np.fill_diagonal(W, 1.0)
    W[4] = [0.2, 0.2, 0.2, 0.2, -0.6]
    assert sys_census.blocks(W) == [4, 1]
    assert sys_census.blocks(np.eye(3)) == [3]
    assert sys_census.two_proportion_z(340, 500, 340, 500) == 0.0
    # 50/100 against 25/100: pooled z = 0.25 / sqrt(0.375 * 0.625 * 0.02) = 3.651...
    assert sys_census.two_proportion_z(50, 100, 25, 100) == pytest.approx(3.6515, abs=1e-4)


def test_fast_run_writes_table_and_compares(tmp_path):
    res = sys_census.main(["--fast", "--quiet", "--sizes", "7", "--n", "24",
                           "--out-dir", str(tmp_path / "full")])
    early = sys_census.main(["--fast", "--quiet", "--sizes", "7", "--n", "24", "--early-assign",
                             "--out-dir", str(tmp_path)])
    a, b = res["numbers"]["rows"][0], early["numbers"]["rows"][0]
    assert set(a["reasons"]) == {"converged"} and "assigned" in b["reasons"]
    for key in ("global", "spurious_runs", "distinct_spurious"):
        assert a[key] == b[key], key
    res = early
    assert res["verdict"] == common.MEASURED
    (row,) = res["numbers"]["rows"]
    assert row["k"] == 7 and row["n"] == 24
    assert row["global"] + row["spurious_runs"] + sum(
        v for r, v in row["reasons"].items() if r not in ("converged", "assigned")) == 24
    lo, hi = row["wilson95"]
    assert lo <= row["global_fraction"] <= hi
    assert row["published"]["global"] == 473
    assert "| 7 |" in (tmp_path / "beyond_m_sys_census.md").read_text()
    assert (tmp_path / "beyond_m_sys_census.png").stat().st_size > 1000


def test_interrupted_census_resumes_without_recomputing_finished_chunks(tmp_path, monkeypatch):
    import reludyn.dynamics.gd as gd_module

    fresh = sys_census.main(ARGS + ["--out-dir", str(tmp_path / "fresh")])
    real = gd_module.gradient_descent
    calls = []

    def flaky(*a, **k):
        calls.append(np.asarray(a[1]).copy())
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(gd_module, "gradient_descent", flaky)
    out = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        sys_census.main(ARGS + ["--out-dir", str(out)])
    done = sorted((out / "beyond_m_sys_census.work" / "k005" / "tasks").glob("*.npz"))
    assert len(done) == 2  # the two chunks that finished before the interruption
    first = [read_npz(p) for p in done]
    calls.clear()
    resumed = sys_census.main(ARGS + ["--out-dir", str(out)])
    assert len(calls) == 2  # only the two unfinished chunks of four
    starts = {tuple(c[0].ravel()[:3]) for c in calls}
    assert len(starts) == 2
    for p, old in zip(done, first):  # finished chunks were not rewritten
        assert_array_equal(read_npz(p)["W"], old["W"])
    a, b = fresh["numbers"]["rows"][0], resumed["numbers"]["rows"][0]
    assert b["gd_run"] == "partial"  # its time covers only the chunks it computed
    for key in ("global", "spurious_runs", "distinct_spurious", "reasons"):
        assert a[key] == b[key], key
    assert json.loads((out / "beyond_m_sys_census.json").read_text())["numbers"]["n"] == 20


def test_resumed_census_reports_the_computing_runs_gd_time(tmp_path):
    """Per-k GD times survive resumes: a run that computed every chunk records its time
    (timing.json, with the settings), a rerun that finds every chunk done reports it."""
    out = tmp_path / "r"
    first = sys_census.main(ARGS + ["--out-dir", str(out)])["numbers"]["rows"][0]
    assert first["gd_run"] == "computed"
    rec = json.loads((out / "beyond_m_sys_census.work" / "k005" / "timing.json").read_text())
    assert rec["n"] == 20 and rec["chunk"] == 5 and rec["seconds_gd"] == pytest.approx(
        first["seconds_gd"], abs=0.006)
    again = sys_census.main(ARGS + ["--out-dir", str(out)])["numbers"]["rows"][0]
    assert again["gd_run"] == "resumed"
    assert again["seconds_gd"] == pytest.approx(first["seconds_gd"], abs=0.011)
    for key in ("global", "spurious_runs", "distinct_spurious", "reasons"):
        assert again[key] == first[key], key
    # a damaged record is not trusted: this run's own (resume) time is reported
    (out / "beyond_m_sys_census.work" / "k005" / "timing.json").write_text("{not json")
    third = sys_census.main(ARGS + ["--out-dir", str(out)])["numbers"]["rows"][0]
    assert third["gd_run"] == "resumed (time of this run)"
