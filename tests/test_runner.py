"""The sweep executor: embedded, local processes and Dask give the same results; resume works."""
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn.runner import Task, fingerprint, run_tasks
from reludyn.io import read_npz, write_npz


def toy_task(seed, n, fail=False):
    """Module level, so it can be sent to worker processes."""
    if fail:
        raise ArithmeticError("planned failure")
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(n), "label": np.array([f"s{seed}"] * n), "n": n}


def _tasks(k=4):
    return [Task(f"t{i}", {"seed": i, "n": 3 + i}) for i in range(k)]


def _expected(k=4):
    return [toy_task(i, 3 + i) for i in range(k)]


def _check(results, k=4):
    exp = _expected(k)
    assert len(results) == k
    for r, e in zip(results, exp):
        assert_array_equal(r["x"], e["x"])
        assert_array_equal(r["label"], e["label"])
        assert int(r["n"]) == e["n"]


def test_embedded_and_files(tmp_path):
    res = run_tasks(toy_task, _tasks(), tmp_path, workers=1)
    _check(res)
    for i in range(4):
        saved = read_npz(tmp_path / "tasks" / f"t{i}.npz")
        assert_array_equal(saved["x"], res[i]["x"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["t2"] == fingerprint({"seed": 2, "n": 5})


def test_processes_match_embedded(tmp_path):
    _check(run_tasks(toy_task, _tasks(), tmp_path, workers=2))


def test_resume_does_not_recompute(tmp_path):
    run_tasks(toy_task, _tasks(2), tmp_path, workers=1)
    # plant a sentinel in a finished task: a resumed run must load it, not recompute it
    # (the sentinel carries its task's fingerprint, as every task file does)
    write_npz(tmp_path / "tasks" / "t0.npz", x=np.array([42.0]), label=np.array(["z"]), n=1,
              _task_fingerprint=np.array(fingerprint(_tasks(1)[0].params)))
    res = run_tasks(toy_task, _tasks(4), tmp_path, workers=1)
    assert_array_equal(res[0]["x"], [42.0])
    exp = _expected(4)
    for r, e in zip(res[1:], exp[1:]):
        assert_array_equal(r["x"], e["x"])


def test_failure_names_task_and_keeps_finished(tmp_path):
    tasks = _tasks(3) + [Task("bad", {"seed": 9, "n": 2, "fail": True})]
    with pytest.raises(RuntimeError, match="'bad'.*planned failure"):
        run_tasks(toy_task, tasks, tmp_path, workers=1)
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == ["t0.npz", "t1.npz", "t2.npz"]


def test_changed_parameters_refused(tmp_path):
    run_tasks(toy_task, _tasks(2), tmp_path, workers=1)
    with pytest.raises(ValueError, match="different parameters"):
        run_tasks(toy_task, [Task("t0", {"seed": 5, "n": 3})], tmp_path, workers=1)
    with pytest.raises(ValueError, match="holds a sweep of"):
        run_tasks(_expected, [Task("t0", {"k": 1})], tmp_path, workers=1)


def test_array_fingerprints():
    a = np.arange(6.0).reshape(2, 3)
    assert fingerprint({"W": a}) == fingerprint({"W": a.copy()})
    b = a.copy()
    b[1, 2] += 1e-15
    assert fingerprint({"W": a}) != fingerprint({"W": b})
    assert fingerprint({"W": a}) != fingerprint({"W": a.reshape(3, 2)})


@pytest.mark.parametrize("tasks, err", [
    ([Task("a b", {})], ValueError),
    ([Task("a", {}), Task("a", {})], ValueError),
    (["a"], TypeError),
    ([Task("a", [1])], TypeError),
])
def test_bad_tasks(tmp_path, tasks, err):
    with pytest.raises(err):
        run_tasks(toy_task, tasks, tmp_path)


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="workers"):
        run_tasks(toy_task, _tasks(1), tmp_path, workers=0)
    with pytest.raises(ValueError, match="tcp://"):
        run_tasks(toy_task, _tasks(1), tmp_path, scheduler="localhost:8786")
    with pytest.raises(TypeError, match="module-level"):
        run_tasks(lambda seed, n: {"x": seed}, _tasks(3), tmp_path / "l", workers=2)
    with pytest.raises(TypeError, match="dict of arrays"):
        run_tasks(fingerprint, [Task("a", {"params": {}})], tmp_path / "m", workers=1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        run_tasks(toy_task, _tasks(1), tmp_path / "file")


def test_dask_matches_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp://", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        res = run_tasks(toy_task, _tasks(), tmp_path / "dask", scheduler=cluster.scheduler_address)
    _check(res)
    local = run_tasks(toy_task, _tasks(), tmp_path / "local", workers=1)
    for a, b in zip(res, local):
        assert_array_equal(a["x"], b["x"])


def test_local_functions_refused_for_processes(tmp_path):
    def local(x):
        return {"y": np.asarray(x)}

    with pytest.raises(TypeError, match="module-level function"):
        run_tasks(local, [Task("a", {"x": 1.0}), Task("b", {"x": 2.0})], tmp_path, workers=2)


def test_executor_validates_once_and_runs_in_a_temporary_dir_by_default():
    from reludyn.runner import Executor

    with pytest.raises(ValueError, match="chunk"):
        Executor(chunk=0)
    with pytest.raises(ValueError, match="workers"):
        Executor(workers=0)
    with pytest.raises(ValueError, match="tcp://"):
        Executor(scheduler="localhost")
    with pytest.raises(TypeError, match="progress"):
        Executor(progress="yes")
    assert Executor(chunk=4).chunks(10) == [(0, 4), (4, 8), (8, 10)]
    _check(Executor(chunk=1).run(toy_task, _tasks()))


def test_swapped_task_file_is_refused(tmp_path):
    """Each task file stores its task's fingerprint: a file swapped for another's is refused
    (issue 11, defect 5), and an unfingerprinted (legacy) file is recomputed, not trusted."""
    import shutil

    run_tasks(toy_task, _tasks(3), tmp_path, workers=1)
    shutil.copy(tmp_path / "tasks" / "t2.npz", tmp_path / "tasks" / "t1.npz")
    with pytest.raises(ValueError, match=r"t1\.npz.* is not the result of task 't1'.*swapped"):
        run_tasks(toy_task, _tasks(3), tmp_path, workers=1)
    write_npz(tmp_path / "tasks" / "t1.npz", x=np.array([42.0]), label=np.array(["z"]), n=1)
    res = run_tasks(toy_task, _tasks(3), tmp_path, workers=1)
    _check(res, k=3)
    assert "_task_fingerprint" not in res[0]


def test_run_directory_is_locked(tmp_path):
    """A second process writing the same run directory is refused at once; the runner's
    lock nests inside a lock this process already holds (a command locking its output)."""
    import subprocess
    import sys

    from reludyn.io import output_lock

    out = tmp_path / "run"
    code = ("import sys\nfrom reludyn.runner import Task, run_tasks\nimport numpy\n"
            "try:\n run_tasks(numpy.zeros, [Task('a', {'shape': 1})], sys.argv[1], workers=1)\n"
            "except ValueError as e:\n print(e); sys.exit(2)\n")
    with output_lock(out):
        _check(run_tasks(toy_task, _tasks(2), out, workers=1), k=2)  # nested: allowed
        r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                           timeout=120)
    assert r.returncode == 2, r.stderr
    assert "is in use by pid" in r.stdout


_SLOW_POOL = r"""
import os, sys, time
from reludyn.runner import Task, run_tasks
import tests.test_runner as tr
if __name__ == "__main__":
    run_tasks(tr.sleepy_task, [Task(f"s{i}", {"seconds": 120}) for i in range(2)], sys.argv[1], workers=2)
"""


def sleepy_task(seconds):
    import os
    import time

    with open(os.path.join(os.environ["RELUDYN_TEST_PIDS"], str(os.getpid())), "w"):
        pass
    time.sleep(seconds)
    return {"x": np.zeros(1)}


def test_workers_die_with_their_parent(tmp_path):
    """SIGKILL the parent of a local process pool: its workers exit within seconds (issue 11,
    defect 6), instead of living on under PID 1."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_POOL)
    env = dict(os.environ, RELUDYN_TEST_PIDS=str(pids),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "run")], env=env,
                            cwd=str(Path(__file__).resolve().parents[1]))
    try:
        deadline = time.time() + 90
        while len(list(pids.iterdir())) < 2 and time.time() < deadline:
            time.sleep(0.2)
        workers = [int(p.name) for p in pids.iterdir()]
        assert len(workers) == 2, "workers did not start"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:  # a zombie not yet reaped by init counts as gone
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return True

    deadline = time.time() + 10
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if alive(p)]
    for p in left:  # do not leave them behind when the test fails
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent"
