"""Each analysis script at reduced size (its --fast machinery, tiny parameters), the runner and the CLI."""
from __future__ import annotations

import importlib
import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from analyses import SCRIPTS, common
from reludyn import Problem, symmetric_saddle_x
from reludyn.dynamics.init import symmetric_point


def _run(name, tmp_path, *extra):
    mod = importlib.import_module(f"analyses.{name}")
    res = mod.main(["--fast", "--quiet", "--out-dir", str(tmp_path), *extra])
    assert res["verdict"] in common.VERDICTS
    for key in ("claim", "title", "figures", "measured", "numbers", "seconds"):
        assert key in res
    for f in res["figures"]:
        assert (tmp_path / f).is_file() and (tmp_path / f).stat().st_size > 1000
    data = json.loads((tmp_path / res["json"].split("/")[-1]).read_text())
    assert data["verdict"] == res["verdict"]
    return res


# --- helpers -----------------------------------------------------------------------------

def test_wilson_interval_known_values():
    lo, hi = common.wilson(0, 10)
    assert lo == 0.0
    assert_allclose(hi, 0.2775, atol=1e-4)  # textbook Wilson upper bound for 0/10
    lo, hi = common.wilson(5, 10)
    assert_allclose([lo, hi], [0.2366, 0.7634], atol=1e-4)


def test_int_list_parsing():
    assert common.int_list("6-9") == [6, 7, 8, 9]
    assert common.int_list("2,5,10") == [2, 5, 10]
    with pytest.raises(Exception):
        common.int_list("a,b")


def test_teacher_perm_distance():
    pb = Problem.orthonormal(3, 5)
    rng = np.random.default_rng(0)
    W = pb.V[[2, 0, 1]]
    assert common.teacher_perm_distance(W, pb.V) < 1e-15
    W2 = W + 1e-3 * rng.standard_normal(W.shape)
    assert_allclose(common.teacher_perm_distance(W2, pb.V), np.linalg.norm(W2 - W), rtol=1e-12)
    # one extra student row is compared with zero
    W4 = np.vstack([W, np.zeros(5)])
    assert common.teacher_perm_distance(W4, pb.V) < 1e-15


def test_p_omega_exact_matches_lens_area_in_2d():
    from analyses.claim_e_one_relu import p_omega_exact

    # d = 2: area of the lens between the disk of radius r at 0 and the unit disk at w*
    for r in (0.3, 0.9, 1.5):
        R, c = 1.0, 1.0
        a1 = r * r * math.acos((c * c + r * r - R * R) / (2 * c * r))
        a2 = R * R * math.acos((c * c + R * R - r * r) / (2 * c * R))
        a3 = 0.5 * math.sqrt((-c + r + R) * (c + r - R) * (c - r + R) * (c + r + R))
        assert_allclose(p_omega_exact(r, 2), (a1 + a2 - a3) / (math.pi * r * r), rtol=1e-7)


def test_one_relu_formula_matches_kernel():
    from analyses.claim_a_gradient_mc import one_relu_formula
    from reludyn import grad

    rng = np.random.default_rng(3)
    for _ in range(5):
        w, ws = rng.standard_normal(4), rng.standard_normal(4)
        assert_allclose(one_relu_formula(w, ws), grad(w[None], ws[None])[0], atol=1e-13)


# --- scripts at reduced size -------------------------------------------------------------

def test_claim_a(tmp_path):
    res = _run("claim_a_gradient_mc", tmp_path)  # the --fast defaults take about a second
    assert res["verdict"] == common.REPRODUCED
    assert all(-0.7 < s < -0.3 for s in res["numbers"]["slopes"].values())


def test_claim_b(tmp_path):
    res = _run("claim_b_l_function", tmp_path, "--grid", "360", "--starts", "30")
    assert res["verdict"] == common.REPRODUCED
    assert len(res["figures"]) == 2


def test_claim_c(tmp_path):
    res = _run("claim_c_l_heatmap", tmp_path, "--n-theta", "20", "--n-phi", "40")
    assert res["verdict"] == common.REPRODUCED
    assert res["numbers"]["agree"] == res["numbers"]["total"] > 0
    with pytest.raises(ValueError):
        importlib.import_module("analyses.claim_c_l_heatmap").main(
            ["--n-theta", "2", "--out-dir", str(tmp_path)])


def test_claim_e(tmp_path):
    res = _run("claim_e_one_relu", tmp_path, "--dims", "2,5", "--eps", "0.2,0.8",
               "--mc", "4000", "--gd", "10", "--max-steps", "1500")
    assert res["numbers"]["bound_holds"] and res["numbers"]["mc_agrees"]
    assert res["verdict"] == common.CAVEAT


def test_claim_f(tmp_path):
    res = _run("claim_f_symmetric_dynamics", tmp_path, "--Ks", "2,3", "--iters", "200",
               "--max-iter", "20000")
    assert res["verdict"] == common.REPRODUCED
    for K in ("2", "3"):
        r = res["numbers"]["per_K"][K]
        assert_allclose(r["diag_fixed_point"], [symmetric_saddle_x(int(K))] * 2, atol=1e-9)


def test_claim_g(tmp_path):
    res = _run("claim_g_symmetry_breaking", tmp_path, "--Ks", "2,3", "--n", "3",
               "--deltas", "0,1e-6")
    rows = res["numbers"]["rows"]
    assert all(r["fraction"] == 0 for r in rows if r["delta"] == 0)
    assert all(r["fraction"] == 1 for r in rows if r["delta"] > 0)
    assert res["verdict"] == common.REPRODUCED


def test_claim_h(tmp_path):
    res = _run("claim_h_convergence", tmp_path, "-d", "8", "-K", "4", "--iters", "100",
               "--eta", "0.1", "--max-iter", "30000")
    assert res["verdict"] == common.REPRODUCED
    assert res["numbers"]["final_error"] <= 1e-10


# --- runner and CLI ----------------------------------------------------------------------

def test_runner_selects_and_tabulates(tmp_path):
    from analyses.reproduce import _select, format_table, run_all, script_names

    assert script_names() == SCRIPTS
    assert _select(SCRIPTS, ["c", "a"]) == ["claim_c_l_heatmap", "claim_a_gradient_mc"]
    with pytest.raises(ValueError, match="unknown claim"):
        _select(SCRIPTS, ["z"])
    res = run_all(fast=True, out_dir=tmp_path, only=["c"], quiet=True)
    assert len(res) == 1 and res[0]["verdict"] == common.REPRODUCED
    table = format_table(res)
    assert "claim_c_L12_heatmap_fast.png" in table and "reproduced" in table
    assert (tmp_path / "reproduce_summary_fast.json").is_file()


def test_runner_reports_failures_as_not_run(tmp_path, monkeypatch):
    from analyses import reproduce

    mod = importlib.import_module("analyses.claim_c_l_heatmap")

    def boom(argv=None):
        raise RuntimeError("kaput")

    monkeypatch.setattr(mod, "main", boom)
    res = reproduce.run_all(fast=True, out_dir=tmp_path, only=["c"], quiet=True)
    assert res[0]["verdict"] == "not run" and "kaput" in res[0]["measured"]


def test_cli_reproduce(tmp_path, capsys):
    from reludyn.cli import main

    assert main(["reproduce", "--fast", "--only", "c", "--quiet", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "claim" in out and "reproduced" in out
    assert main(["reproduce", "--only", "zz", "--out-dir", str(tmp_path)]) == 2


def test_claim_d(tmp_path):
    from analyses.claim_d_out_of_plane import orbit_dimension

    assert [orbit_dimension(n, 1) for n in (1, 2, 3, 4)] == [0, 1, 2, 3]
    assert orbit_dimension(4, 2) == 5 and orbit_dimension(2, 2) == 1
    res = _run("claim_d_out_of_plane", tmp_path, "--dims", "3,4", "--seeds", "40")
    rows = res["numbers"]["rows"]
    assert {r["d"] for r in rows} == {3, 4}
    assert all(r["nullity"] == r["predicted_orbit_dim"] for r in rows)
    assert res["verdict"] == common.REPRODUCED


def test_beyond_i(tmp_path):
    res = _run("beyond_i_spurious_census", tmp_path, "--sizes", "6", "--extra-sizes", "4",
               "--n", "24", "--n-extra", "8", "--max-steps-extra", "3000")
    rows = res["numbers"]["rows"]
    assert [(r["M"], r["K"]) for r in rows] == [(6, 6), (4, 5), (4, 6)]
    for r in rows:
        lo, hi = r["wilson95"]
        assert lo <= r["fraction"] <= hi
        parts = ("spurious", "global", "degenerate", "saddle", "undecided", "other")
        assert sum(r[k] for k in parts) == r["n"]
        assert all(m["loss"] > 0 for m in r["minima"])


def test_beyond_j(tmp_path):
    res = _run("beyond_j_basin_graph", tmp_path, "--sizes", "3", "--seeds", "12", "--max-eig", "1",
               "--n-random", "0", "--n-basin", "16")
    g = res["numbers"]["graphs"][0]
    assert g["all_edges_downhill"] and g["n_entries"] >= 2
    assert (tmp_path / "beyond_j_basin_graph_K3.graphml").is_file()


def test_load_results_and_markdown(tmp_path):
    from analyses.reproduce import load_results, markdown_table, run_all

    run_all(fast=True, out_dir=tmp_path, only=["c"], quiet=True)
    res = load_results(tmp_path, fast=True)
    assert [r["claim"] for r in res] == ["c"]
    md = markdown_table(res)
    assert md.startswith("| claim |") and "claim_c_L12_heatmap_fast.png" in md and "**reproduced**" in md


def test_cli_exit_status_when_a_script_fails(tmp_path, monkeypatch, capsys):
    from reludyn.cli import main

    mod = importlib.import_module("analyses.claim_c_l_heatmap")
    monkeypatch.setattr(mod, "main", lambda argv=None: 1 / 0)
    assert main(["reproduce", "--fast", "--only", "c", "--quiet", "--out-dir", str(tmp_path)]) == 1
    assert "not run" in capsys.readouterr().out


def test_where_they_end_maps_symmetric_saddle_and_teacher():
    from analyses.claim_g_symmetry_breaking import where_they_end
    from reludyn.critical import Catalogue

    K = 3
    pb = Problem.orthonormal(K)
    cat = Catalogue(pb)
    cat.add(pb.teacher_padded())
    xs = symmetric_saddle_x(K)
    S = symmetric_point(K, xs, xs)
    out = where_they_end(cat, np.stack([S, S[[1, 2, 0]], pb.V[[2, 1, 0]]]))
    kinds = {g["kind"]: g["hits"] for g in out}
    assert kinds == {"saddle": 2, "global_min": 1}
    saddle = next(g for g in out if g["kind"] == "saddle")
    assert saddle["n_negative"] == (K - 1) ** 2  # the index measured in claim g


def test_cli_reproduce_finds_analyses_or_says_so(tmp_path, capsys, monkeypatch):
    from reludyn.cli import main
    from pathlib import Path

    from reludyn.cli.cmd_reproduce import ENV_VAR, analyses_dir

    import analyses

    # beside the package in this checkout: the folder the tests import
    assert analyses_dir().samefile(Path(analyses.__file__).parent)
    assert analyses_dir(str(Path(analyses.__file__).parent)) == analyses_dir()
    assert main(["reproduce", "--analyses-dir", str(tmp_path), "--only", "c"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "source checkout" in err[0]
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    assert main(["reproduce", "--only", "c"]) == 2
    assert ENV_VAR in capsys.readouterr().err
