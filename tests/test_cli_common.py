"""Shared CLI options (reludyn.cli.common) and the first-use fixes of issue 11."""
import argparse
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from reludyn import Problem
from reludyn.cli import build_parser, main
from reludyn.cli.common import add_problem_args, number_list_arg, problem_from_args


def _problem(*argv):
    p = argparse.ArgumentParser()
    add_problem_args(p)
    return problem_from_args(p.parse_args(list(argv)))


def test_k_alone_means_k_equals_m_equals_d():
    assert _problem("-K", "5") == Problem.orthonormal(5)  # was M = d = 2 with K = 5
    P = _problem("-K", "4", "--teacher", "gaussian")
    assert (P.K, P.M, P.d) == (4, 4, 4) and P == Problem.gaussian(4, 4, seed=0)
    assert (lambda P: (P.K, P.M, P.d))(_problem("-K", "3", "-M", "2")) == (3, 2, 2)
    assert (lambda P: (P.K, P.M, P.d))(_problem("-K", "3", "-d", "5")) == (3, 5, 5)
    assert (lambda P: (P.K, P.M, P.d))(_problem("-d", "4")) == (4, 4, 4)
    assert (lambda P: (P.K, P.M, P.d))(_problem()) == (2, 2, 2)
    assert _problem("--teacher", "gaussian", "-M", "2", "-d", "3", "--teacher-seed", "7") == \
        Problem.gaussian(2, 3, seed=7)


def test_conflicting_problem_options_are_refused(tmp_path):
    f = tmp_path / "v.npy"
    np.save(f, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))  # M = 2, d = 3
    assert _problem("--teacher", "file", "--teacher-file", str(f), "-M", "2", "-d", "3").M == 2
    with pytest.raises(ValueError, match=r"-M 3 disagrees with the teacher file .* M = 2"):
        _problem("--teacher", "file", "--teacher-file", str(f), "-M", "3", "-d", "5")
    with pytest.raises(ValueError, match=r"-d 5 disagrees with the teacher file .* d = 3"):
        _problem("--teacher", "file", "--teacher-file", str(f), "-d", "5")
    for teacher in ("orthonormal", "file"):
        with pytest.raises(ValueError, match="--teacher-seed only applies to --teacher gaussian"):
            _problem("--teacher", teacher, "--teacher-file", str(f), "--teacher-seed", "1")
    with pytest.raises(ValueError, match="--teacher-file is only used with --teacher file"):
        _problem("--teacher-file", str(f))


def test_conflicts_exit_2_from_the_cli(tmp_path, capsys):
    rc = main(["catalogue", "--teacher", "orthonormal", "--teacher-seed", "1", "-n", "3",
               "-o", str(tmp_path / "c.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "--teacher-seed only applies" in err and "Traceback" not in err
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("text", ["2,,3", "2,", ",2", "", " , "])
def test_empty_list_items_are_refused(text):
    parse = number_list_arg(int, lambda v: v >= 1, "positive integers")
    with pytest.raises(argparse.ArgumentTypeError, match="without empty items"):
        parse(text)
    assert parse("2, 3") == [2, 3]


def test_sweep_refuses_an_empty_item(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "-K", "2,,3", "--out", str(tmp_path / "s")])
    assert e.value.code == 2 and "-K" in capsys.readouterr().err


_REQUIRED = {"train": [], "catalogue": [], "basins": [], "graph": ["--catalogue", "c.json"],
             "sweep": [], "portrait": ["symmetric"]}


@pytest.mark.parametrize("cmd", sorted(_REQUIRED))
@pytest.mark.parametrize("opt", ["-o", "--out", "--output"])
def test_one_output_option_name_with_aliases(cmd, opt, tmp_path):
    out = str(tmp_path / ("x.npz" if cmd == "train" else "x.png" if cmd == "portrait" else "x"))
    args = build_parser().parse_args([cmd, *_REQUIRED[cmd], opt, out])
    dest = "output" if cmd in ("train", "catalogue") else "out"
    assert getattr(args, dest) == out
    assert "--out" in build_parser()._subparsers._group_actions[0].choices[cmd].format_help()


@pytest.mark.parametrize("argv", [["catalogue", "-n", "2", "-o", "/proc/nope/c.json"],
                                  ["portrait", "symmetric", "--out", "/proc/p.png"]])
def test_unwritable_outputs_are_refused_before_any_work(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "is not writable" in err and "Traceback" not in err


def test_catalogue_n_0_is_refused(tmp_path, capsys):
    assert main(["catalogue", "-n", "0", "-o", str(tmp_path / "c.json")]) == 2
    assert "-n 0 gives no seeds" in capsys.readouterr().err  # was: an empty table, exit 0
    assert not (tmp_path / "c.json").exists()


def test_portrait_grid_error_names_the_grid(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["portrait", "symmetric", "--grid", "2", "--out", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--grid" in err and "n must" not in err


def test_help_shows_a_single_percent_sign(capsys):
    with pytest.raises(SystemExit):
        main(["basins", "--help"])
    out = capsys.readouterr().out
    assert "95% Wilson" in out and "%%" not in out


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reludyn.io import output_lock
    with output_lock(sys.argv[1]):
        Path(sys.argv[2]).touch()
        time.sleep(120)
""")


def test_catalogue_refuses_an_output_another_process_writes(tmp_path, capsys):
    out, ready = tmp_path / "c.json", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out), str(ready)])
    try:
        t0 = time.time()
        while not ready.exists():
            assert time.time() - t0 < 120 and holder.poll() is None
            time.sleep(0.05)
        t0 = time.time()
        rc = main(["catalogue", "-n", "2", "--workers", "1", "--no-progress", "-o", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and f"in use by pid {holder.pid}" in err and "Traceback" not in err
        assert time.time() - t0 < 30  # refused at once, not after the work
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    assert main(["catalogue", "-n", "2", "--workers", "1", "--no-progress", "-o", str(out)]) == 0
    assert out.is_file() and not (tmp_path / ".c.json.lock").exists()
    assert (out.stat().st_mode & 0o777) == (0o666 & ~_umask())


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


@pytest.mark.parametrize("argv, kind", [
    (["train", "-n", "2", "-o", "{bad}/run.npz"], "file"),
    (["basins", "-n", "2", "-o", "{bad}/b"], "dir"),
    (["graph", "--catalogue", "c.json", "-o", "{bad}/g"], "dir"),
    (["sweep", "-K", "2", "-o", "{bad}/s"], "dir"),
    (["certify", "c.json", "-o", "{bad}/c"], "dir"),
    (["family", "--isotropy", "1,1", "-o", "{bad}/f.json"], "file"),
    (["reproduce", "-o", "{bad}/r"], "dir"),
])
def test_unwritable_outputs_are_refused_at_parse_time(tmp_path, capsys, argv, kind):
    """Every command's output is checked before any work (issue 11, defect 8): a path
    below a regular file cannot be created, and argparse refuses it (exit 2, one line)."""
    from reludyn.cli import main

    bad = tmp_path / "a_file"
    bad.write_text("x")
    with pytest.raises(SystemExit) as info:
        main([a.replace("{bad}", str(bad)) for a in argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "is not a directory" in err or "not writable" in err, err
