"""``reludyn catalogue``: files, table, resume, bad options."""
import json

import numpy as np
import pytest

from reludyn.cli import main
from reludyn.critical import Catalogue

BASE = ["catalogue", "-M", "2", "-n", "12", "--no-progress", "--workers", "1"]


def test_writes_catalogue_csv_and_table(tmp_path, capsys):
    out = tmp_path / "cat.json"
    assert main(BASE + ["-o", str(out)]) == 0
    cat = Catalogue.load(out)
    assert cat.problem.K == 2 and len(cat) >= 2 and cat.provenance["complete"]
    csv = (tmp_path / "cat.csv").read_text().strip().split("\n")
    assert len(csv) == len(cat) + 1
    text = capsys.readouterr().out
    assert "global_min" in text and "loss" in text and "orbit" in text
    # rerunning resumes from the complete file: same catalogue, no new work
    assert main(BASE + ["-o", str(out)]) == 0
    again = Catalogue.load(out)
    assert [e.to_dict() for e in again] == [e.to_dict() for e in cat]


def test_counts_points_and_strategies(tmp_path):
    pts = tmp_path / "p.npy"
    np.save(pts, np.array([[[1.0, 0.0], [0.0, 1.0]]]) * 1.02)
    out = tmp_path / "c.json"
    assert main(["catalogue", "-M", "2", "--counts", "symmetric=5,random=3", "--points",
                 str(pts), "--methods", "lm", "-o", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["provenance"]["counts"] == {"symmetric": 5, "random": 3}
    assert data["provenance"]["n_user_points"] == 1
    assert data["provenance"]["methods"] == ["lm"]
    out2 = tmp_path / "d.json"
    assert main(BASE + ["--strategies", "gd,in_plane", "-o", str(out2)]) == 0
    assert json.loads(out2.read_text())["provenance"]["strategies"] == ["gd", "in_plane"]


@pytest.mark.parametrize("extra,msg", [
    (["--strategies", "magic"], "unknown strategies"),
    (["--methods", "newton"], "unknown solver"),
    (["-o", "x.txt"], ".json"),
    (["--points", "/nonexistent.npy"], "does not exist"),
    (["--strategies", "out_of_plane"], "rank"),
])
def test_bad_options_exit_2(tmp_path, capsys, extra, msg):
    args = BASE + ["-o", str(tmp_path / "c.json")] + extra
    if "-o" in extra:
        args = BASE + extra
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_argparse_errors(tmp_path):
    for extra in (["--counts", "gd"], ["--counts", "gd=-1"], ["--counts", "bad=1"],
                  ["--tol", "-1"], ["-n", "x"]):
        with pytest.raises(SystemExit) as exc:
            main(BASE + ["-o", str(tmp_path / "c.json")] + extra)
        assert exc.value.code == 2


def test_resume_with_other_settings_is_refused(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(BASE + ["-o", str(out)]) == 0
    assert main(["catalogue", "-M", "2", "-n", "13", "--no-progress", "-o", str(out)]) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert main(["catalogue", "-M", "2", "-n", "13", "--no-progress", "-o", str(out),
                 "--fresh"]) == 0


def test_damaged_output_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "c.json"
    out.write_text("{not json")
    assert main(BASE + ["-o", str(out)]) == 2
    assert "damaged" in capsys.readouterr().err


SAT = ["catalogue", "-M", "3", "--strategies", "random", "--methods", "lm", "-n", "6",
       "--no-progress", "--workers", "1", "--until-saturated"]


def test_table_ends_with_completeness_line(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(BASE + ["-o", str(out)]) == 0
    text = capsys.readouterr().out
    n = Catalogue.load(out).provenance["n_seed_points"]  # gd adds plateau points
    assert f"completeness: {n} starts processed" in text and "Chao1 unseen" in text
    assert json.loads(out.read_text())["completeness"]["starts"] == n


def test_until_saturated_budget_threshold_resume_and_plot(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(SAT + ["--max-seeds", "15", "--unseen-below", "1e-9", "-o", str(out),
                       "--plot"]) == 0
    text = capsys.readouterr().out
    assert "until saturated: 3 rounds, 15 seeds, stopped: budget" in text
    assert (tmp_path / "s_saturation.png").stat().st_size > 1000
    cat = Catalogue.load(out)
    assert cat.starts == 15 and cat.provenance["stop"] == "budget"
    # rerun: resumes from the finished file, no new rounds
    assert main(SAT + ["--max-seeds", "15", "--unseen-below", "1e-9", "-o", str(out)]) == 0
    assert [e.to_dict() for e in Catalogue.load(out)] == [e.to_dict() for e in cat]
    # a generous threshold stops after the first round
    out2 = tmp_path / "t.json"
    assert main(SAT + ["--max-seeds", "60", "--unseen-below", "1000", "-o", str(out2),
                       "--plot", str(tmp_path / "fig.svg")]) == 0
    text = capsys.readouterr().out
    assert "until saturated: 1 rounds, 6 seeds, stopped: saturated" in text
    assert (tmp_path / "fig.svg").is_file()


@pytest.mark.parametrize("extra,msg", [
    (["--max-seeds", "10"], "need --until-saturated"),
    (["--unseen-below", "2"], "need --until-saturated"),
    (["--plot", "fig.txt"], ".png, .svg or .pdf"),
    (["--until-saturated", "--counts", "random=3"], "not --counts"),
    (["--until-saturated", "-n", "0"], "-n >= 1"),
])
def test_completeness_bad_options_exit_2(tmp_path, capsys, extra, msg):
    assert main(BASE + ["-o", str(tmp_path / "c.json")] + extra) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_follow_modes_option(tmp_path):
    out = tmp_path / "f.json"
    assert main(["catalogue", "-M", "3", "--counts", "teacher_noise=3", "--no-progress",
                 "--workers", "1", "--follow-modes", "1", "-o", str(out)]) == 0
    cat = Catalogue.load(out)
    assert cat.provenance["follow_modes"] == 1 and cat.provenance["follow"]["searches"] > 0
    assert not (tmp_path / "f.chunks").exists()
    with pytest.raises(SystemExit):
        main(["catalogue", "-M", "2", "--follow-modes", "-1", "-o", str(out)])
