import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn import Problem
from reludyn.runner import Executor
from reludyn.critical.sweep import catalogue_sweep, planar_grid, problem_grid
from reludyn.cli import main
from reludyn.critical import Catalogue


def test_grid_constructors():
    ps = problem_grid([2, 3], [2], [1, 2, 3])
    # an orthonormal teacher needs d >= M: d = 1 is skipped
    assert [(p.K, p.M, p.d) for p in ps] == [(2, 2, 2), (2, 2, 3), (3, 2, 2), (3, 2, 3)]
    assert all(p.kind == "orthonormal" for p in ps)
    g = problem_grid([2], [3], [4], teacher="gaussian", teacher_seed=5)
    assert g[0] == Problem.gaussian(3, 4, K=2, seed=5)
    pl = planar_grid([0.5, 2.0])
    assert pl[1].V[1].tolist() == [np.cos(2.0), np.sin(2.0)]
    with pytest.raises(ValueError, match="no valid problem"):
        problem_grid([2], [3], [2])
    with pytest.raises(ValueError, match="teacher"):
        problem_grid([2], [2], [2], teacher="nope")


def test_sweep_local_processes_and_resume(tmp_path):
    probs = problem_grid([2], [2], [2, 3])
    a = catalogue_sweep(probs, tmp_path / "a", n_seeds=12, seed=3, executor=Executor(workers=1))
    b = catalogue_sweep(probs, tmp_path / "b", n_seeds=12, seed=3, executor=Executor(workers=2))
    for x, y in zip(a, b):
        assert x["counts"] == y["counts"]
        assert_array_equal(x["loss"], y["loss"])
    # the global minimum (J = 0) is found for both problems, and its catalogue loads back
    # (J is a cancelling sum of O(1) terms: within ‖∇J‖ <= 1e-10 of W = V it rounds to
    # a few 1e-16, or to 0 where the point is the teacher to the last bit)
    for s in a:
        assert "global_min" in s["counts"] and min(s["loss"]) < 1e-14
        assert max(s["grad_norm"]) <= 1e-10
        cat = Catalogue.load(tmp_path / "a" / "catalogues" / f"{s['key']}.json")
        assert len(cat.entries) == s["entries"]
    # a finished sweep is not recomputed: task files stay untouched
    files = sorted((tmp_path / "a" / "tasks").glob("*.npz"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = catalogue_sweep(probs, tmp_path / "a", n_seeds=12, seed=3, executor=Executor(workers=1))
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert again[0]["counts"] == a[0]["counts"]
    assert json.loads((tmp_path / "a" / "sweep.json").read_text())["problems"][1]["d"] == 3


def test_sweep_on_dask_matches_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    probs = planar_grid([1.0], K=2)
    local = catalogue_sweep(probs, tmp_path / "l", n_seeds=8, seed=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp://", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = catalogue_sweep(probs, tmp_path / "r", n_seeds=8, seed=1,
                                 executor=Executor(scheduler=cluster.scheduler_address))
    assert_array_equal(local[0]["loss"], remote[0]["loss"])
    assert local[0]["counts"] == remote[0]["counts"]


def test_cli(tmp_path, capsys):
    assert main(["sweep", "-K", "2", "-d", "2,3", "-n", "8", "--out", str(tmp_path / "s"),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "p000_K2_M2_d2" in out and "p001_K2_M2_d3" in out
    assert main(["sweep", "--teacher", "planar", "--out", str(tmp_path / "p")]) == 2
    assert "needs --angles" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "-K", "0", "--out", str(tmp_path)])
    assert "positive integers" in capsys.readouterr().err
