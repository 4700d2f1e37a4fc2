import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn.cli import main
from reludyn.dynamics import gd as gd_module
from reludyn.io import read_npz

BASE = ["train", "-d", "3", "-n", "10", "--chunk", "4", "--eta", "0.2", "--max-steps", "3000",
        "--no-progress", "--no-early-assign"]


def test_train_writes_npz_and_summary(tmp_path, capsys):
    out = tmp_path / "run.npz"
    assert main(BASE + ["-o", str(out)]) == 0
    data = read_npz(out)
    assert data["W"].shape == (10, 3, 3) and data["W0"].shape == (10, 3, 3)
    assert set(data["reason"].tolist()) <= {"converged", "budget", "diverged", "dead_row"}
    summ = json.loads((tmp_path / "run.json").read_text())["summary"]
    assert summ["n_runs"] == 10 and summ["complete"]
    n_global = int(np.sum(data["loss"] < 1e-3))
    assert summ["global_min"]["count"] == n_global
    assert n_global + sum(g["count"] for g in summ["groups"]) == 10
    assert sum(summ["reasons"].values()) == 10
    assert "runs; global minimum" in capsys.readouterr().out


def _interrupt_second_descent(monkeypatch):
    """Make the second gradient_descent call (the second chunk) raise KeyboardInterrupt;
    returns (the real function, the list of starts per call)."""
    real, calls = gd_module.gradient_descent, []

    def flaky(*a, **k):
        calls.append(len(a[1]))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(gd_module, "gradient_descent", flaky)
    return real, calls


def test_interrupt_then_resume_equals_fresh_run(tmp_path, monkeypatch):
    fresh = tmp_path / "fresh.npz"
    assert main(BASE + ["-o", str(fresh)]) == 0
    out = tmp_path / "part.npz"
    real, _ = _interrupt_second_descent(monkeypatch)
    assert main(BASE + ["-o", str(out)]) == 130
    part = read_npz(out)
    assert part["loss"].shape == (4,)
    assert not json.loads((tmp_path / "part.json").read_text())["summary"]["complete"]
    monkeypatch.setattr(gd_module, "gradient_descent", real)
    assert main(BASE + ["-o", str(out)]) == 0
    a, b = read_npz(out), read_npz(fresh)
    for k in ("W", "loss", "grad_norm", "steps", "reason", "W0"):
        assert_array_equal(a[k], b[k], err_msg=k)



def test_resume_from_the_output_alone_with_another_chunk(tmp_path, monkeypatch):
    """OUT.npz holds every finished run: a resume without OUT.chunks/ and with another
    --chunk computes only the rest and equals a fresh run; a complete output reruns nothing."""
    import shutil

    fresh = tmp_path / "fresh.npz"
    assert main(BASE + ["-o", str(fresh)]) == 0
    out = tmp_path / "part.npz"
    real, calls = _interrupt_second_descent(monkeypatch)
    assert main(BASE + ["-o", str(out)]) == 130
    shutil.rmtree(tmp_path / "part.chunks")
    monkeypatch.setattr(gd_module, "gradient_descent",
                        lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    calls.clear()
    other_chunk = [x if x != "4" else "3" for x in BASE]
    assert main(other_chunk + ["-o", str(out)]) == 0
    assert sum(calls) == 6  # the 4 finished runs were not recomputed
    a, b = read_npz(out), read_npz(fresh)
    for k in ("W", "loss", "grad_norm", "steps", "reason", "W0"):
        assert_array_equal(a[k], b[k], err_msg=k)
    calls.clear()
    assert main(BASE + ["-o", str(out)]) == 0 and calls == []

def test_flow_mode(tmp_path):
    out = tmp_path / "flow.npz"
    assert main(["train", "-d", "2", "-n", "2", "--init", "near_teacher", "--flow", "LSODA",
                 "--polish", "--no-progress", "-o", str(out)]) == 0
    data = read_npz(out)
    assert data["reason"].tolist() == ["converged", "converged"]
    assert np.all(data["grad_norm"] <= 1e-12)


def test_user_errors_exit_2(tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(BASE + ["-o", str(out)]) == 0
    # same output, different settings
    assert main(BASE[:-1] + ["--seed", "5", "--no-progress", "-o", str(out)]) == 2
    assert "different settings" in capsys.readouterr().err
    assert main(BASE + ["-o", str(tmp_path / "x.txt")]) == 2
    assert main(BASE + ["--polish", "-o", str(tmp_path / "y.npz")]) == 2
    assert main(["train", "--init", "symmetric", "--teacher", "gaussian", "-d", "3", "-n", "2",
                 "--no-progress", "-o", str(tmp_path / "z.npz")]) == 2
    (tmp_path / "bad.npz").write_text("not a zip")
    assert main(BASE + ["-o", str(tmp_path / "bad.npz")]) == 2
    with pytest.raises(SystemExit):
        main(["train", "--eta", "-1", "-o", str(out)])
    with pytest.raises(SystemExit):
        main(["train", "--eta", "0.1", "--flow", "RK45", "-o", str(out)])
    with pytest.raises(SystemExit):
        main(BASE + ["--device", "tpu", "-o", str(tmp_path / "d.npz")])
    capsys.readouterr()
    assert main(["train", "-d", "3", "-n", "2", "--flow", "RK45", "--device", "cuda",
                 "--no-progress", "-o", str(tmp_path / "f.npz")]) == 2
    assert "--device cuda" in capsys.readouterr().err


def test_device_cuda_without_a_gpu_is_one_clear_line(tmp_path, capsys):
    """No GPU here (and no simulator in this process): --device cuda exits 2 naming the
    problem, and writes nothing."""
    from reludyn.dynamics import cuda_gd

    if cuda_gd.available():  # a machine with a GPU (or the simulator on) has nothing to refuse
        pytest.skip("a CUDA device is available")
    out = tmp_path / "g.npz"
    assert main(BASE + ["--device", "cuda", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "CUDA" in err and err.count("\n") == 1
    assert not out.exists()


def test_chunks_go_through_the_runner_and_overwrite_discards_them(tmp_path):
    out = tmp_path / "r.npz"
    assert main(BASE + ["-o", str(out)]) == 0
    tasks = sorted(p.name for p in (tmp_path / "r.chunks" / "tasks").iterdir())
    assert tasks == ["chunk00000000.npz", "chunk00000004.npz", "chunk00000008.npz"]
    first = read_npz(out)
    # other settings on the same output: refused, then accepted with --overwrite
    other = BASE[:-1] + ["--seed", "3", "--no-progress", "-o", str(out)]
    assert main(other) == 2
    assert main(other + ["--overwrite"]) == 0
    assert not np.array_equal(read_npz(out)["W0"], first["W0"])
    assert main(other) == 0  # the finished run resumes: nothing left to compute


def test_two_trains_on_one_output_exactly_one_wins(tmp_path):
    """Two real `reludyn train` processes with different seeds on the same -o (issue 11,
    defect 1): the second, started while the first holds the output, exits 2 with one line
    naming the holder; the first finishes and its results are intact."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "k.npz"
    argv = [sys.executable, "-m", "reludyn.cli", "train", "-K", "3", "-n", "1000", "--chunk", "50",
            "--eta", "0.2", "--max-steps", "20000", "--no-progress", "-o", str(out)]
    first = subprocess.Popen(argv + ["--seed", "1"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = tmp_path / ".k.npz.lock"
    deadline = time.time() + 120
    while not (lock.exists() and lock.read_text()) and time.time() < deadline:
        time.sleep(0.02)
    second = subprocess.run(argv + ["--seed", "2"], env=env, capture_output=True, text=True,
                            timeout=300)
    o1, e1 = first.communicate(timeout=600)
    assert first.returncode == 0, e1
    assert second.returncode == 2, (second.stdout, second.stderr)
    err = second.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"pid {first.pid}" in err and "is in use" in err
    assert "wrote" in o1 and "wrote" not in second.stdout
    data = read_npz(out)
    assert json.loads(str(data["settings_json"]))["seed"] == 1 and len(data["loss"]) == 1000


def test_resume_refuses_arrays_of_different_lengths(tmp_path, capsys):
    """A resumed output whose arrays disagree in length is refused (issue 11, defect 3)."""
    from reludyn.io import write_npz

    out = tmp_path / "run.npz"
    assert main(BASE + ["-o", str(out)]) == 0
    data = read_npz(out)
    data["W"] = data["W"][:7]
    write_npz(out, **data)
    capsys.readouterr()
    assert main(BASE + ["-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "different lengths" in err and "W: 7" in err and "loss: 10" in err


def test_resume_checks_the_content_hash(tmp_path, capsys):
    """The output carries a content hash of (problem, settings, starts); a file whose hash is
    not that of this run (edited starts, or an older file without one) is refused."""
    from reludyn.io import content_hash, write_npz

    out = tmp_path / "run.npz"
    assert main(BASE + ["-o", str(out)]) == 0
    data = read_npz(out)
    settings = json.loads(str(data["settings_json"]))
    assert str(data["content_hash"]) == content_hash({"settings": settings, "W0": data["W0"]})
    assert json.loads((tmp_path / "run.json").read_text())["content_hash"] == str(data["content_hash"])
    assert main(BASE + ["-o", str(out)]) == 0  # an intact file resumes (nothing to do)
    edited = dict(data, content_hash=np.array("0" * 64))
    write_npz(out, **edited)
    capsys.readouterr()
    assert main(BASE + ["-o", str(out)]) == 2
    assert "content hash that is not that of these settings" in capsys.readouterr().err
    del edited["content_hash"]
    write_npz(out, **edited)
    assert main(BASE + ["-o", str(out)]) == 2
    assert "no content hash" in capsys.readouterr().err
    assert main(BASE + ["-o", str(out), "--overwrite"]) == 0
def test_early_assignment_is_the_default_and_matches_full_runs(tmp_path, capsys):
    args = ["train", "-d", "4", "-n", "12", "--chunk", "6", "--init", "gaussian", "--std", "0.5",
            "--eta", "0.1", "--tol", "1.6e-10", "--no-progress"]
    early, full = tmp_path / "early.npz", tmp_path / "full.npz"
    assert main(args + ["-o", str(early)]) == 0
    assert "assigned early" in capsys.readouterr().out
    assert main(args + ["--no-early-assign", "-o", str(full)]) == 0
    e, f = read_npz(early), read_npz(full)
    a = e["reason"] == "assigned"
    assert a.any() and "assigned" not in f["reason"].tolist()
    assert np.all(e["radius"][a] > 0) and np.all(np.isnan(e["radius"][~a]))
    assert set(f["reason"][a].tolist()) == {"converged"}
    assert_array_equal(e["W"][~a], f["W"][~a])
    np.testing.assert_allclose(e["loss"], f["loss"], rtol=0, atol=1e-12)
    settings = json.loads((tmp_path / "early.json").read_text())["settings"]
    assert settings["dynamics"]["early_assign"] is True
