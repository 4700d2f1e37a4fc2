import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn.io import read_json, read_npz, write_json, write_npz


def test_round_trips(tmp_path):
    write_json(tmp_path / "a" / "x.json", {"a": np.arange(3), "b": np.float64(1.5), "c": np.int64(2)})
    assert read_json(tmp_path / "a" / "x.json") == {"a": [0, 1, 2], "b": 1.5, "c": 2}
    write_npz(tmp_path / "y.npz", W=np.ones((2, 3)), s=np.array(["converged", "budget"]))
    d = read_npz(tmp_path / "y.npz")
    assert_array_equal(d["W"], np.ones((2, 3)))
    assert d["s"].tolist() == ["converged", "budget"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_json(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="damaged"):
        read_json(tmp_path / "bad.json")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="damaged"):
        read_npz(tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="pickle"):
        write_npz(tmp_path / "o.npz", o=np.array([{}], dtype=object))
    np.savez(tmp_path / "p.npz", o=np.array([{}], dtype=object))
    with pytest.raises(ValueError, match="damaged"):
        read_npz(tmp_path / "p.npz")


def test_atomic_write_replaces_whole_files_or_nothing(tmp_path):
    from reludyn.io import atomic_write, atomic_write_bytes

    p = tmp_path / "sub" / "x.csv"
    atomic_write_bytes(p, b"a,b\n1,2\n")
    assert p.read_bytes() == b"a,b\n1,2\n"

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(p, broken)
    assert p.read_bytes() == b"a,b\n1,2\n"  # the old content survives
    assert [q.name for q in p.parent.iterdir()] == ["x.csv"]  # no temporary left behind


# --- issue 11: fsync, umask, stale temporaries, writability, locks, content hashes --------
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reludyn import io as rio


def test_atomic_write_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        rio.atomic_write_bytes(tmp_path / "a.txt", b"x")
        assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640  # was 0o600 from mkstemp
        os.umask(0o002)
        rio.write_json(tmp_path / "b.json", {"a": 1})
        assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_atomic_write_fsyncs_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    rio.atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert any(Path(p).name.startswith(".f.bin.") for p in synced)  # the temporary's data
    assert str(tmp_path) in synced  # the folder, after the rename


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has this PID (until reuse, which the rule tolerates)


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    out = tmp_path / "cat.json"
    dead = _dead_pid()
    stale = tmp_path / f".cat.json.{dead}.abcd1234.tmp"          # a SIGKILLed writer's
    live = tmp_path / f".cat.json.{os.getppid()}.abcd1234.tmp"   # a live process's: kept
    legacy = tmp_path / ".cat.json.k2j4h5g6.tmp"                 # older versions' (no PID)
    other = tmp_path / f".other.json.{dead}.abcd1234.tmp"        # another output's: kept
    mine = tmp_path / "notes.tmp"                                # not our pattern: kept
    for p in (stale, live, legacy, other, mine):
        p.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    rio.write_json(out, {"a": 1})
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["cat.json", live.name, other.name, mine.name])


def test_a_sigkilled_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    out = tmp_path / "big.bin"
    code = textwrap.dedent(f"""
        import os, signal, time
        from reludyn.io import atomic_write
        def write(fh):
            fh.write(b"x" * 1000); fh.flush()
            open({str(tmp_path / 'ready')!r}, "w").close()
            time.sleep(60)
        atomic_write({str(out)!r}, write)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    t0 = time.time()
    while not (tmp_path / "ready").exists():
        assert time.time() - t0 < 120 and proc.poll() is None
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # left behind
    rio.atomic_write_bytes(out, b"ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "ready"]


def test_check_writable(tmp_path):
    assert rio.check_writable(tmp_path / "new" / "deeper" / "x.json") == tmp_path / "new" / "deeper" / "x.json"
    assert not (tmp_path / "new").exists()  # nothing created
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a directory"):
        rio.check_writable(tmp_path / "file" / "x.json")
    with pytest.raises(ValueError, match="is a directory"):
        rio.check_writable(tmp_path)
    with pytest.raises(ValueError, match="exists and is not a directory"):
        rio.check_writable(tmp_path / "file", kind="dir")
    assert rio.check_writable(tmp_path, kind="dir") == tmp_path
    # /proc refuses new files even to root (who ignores permission bits)
    with pytest.raises(ValueError, match=r"--out '/proc/x.json' is not writable"):
        rio.check_writable("/proc/x.json", "--out")
    with pytest.raises(ValueError, match="not writable"):
        rio.check_writable("/proc/no/such/dir", "--out", kind="dir")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if not os.access(ro, os.W_OK):  # permission bits count (not root)
            with pytest.raises(ValueError, match="not writable"):
                rio.check_writable(ro / "x.json", "--out")
    finally:
        ro.chmod(0o755)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".reludyn-probe")] == []


def test_output_lock_is_exclusive_and_released(tmp_path):
    out = tmp_path / "run.npz"
    with rio.output_lock(out) as lock:
        assert lock == tmp_path / ".run.npz.lock"
        assert f"pid {os.getpid()}" in lock.read_text()
        with pytest.raises(rio.OutputBusyError, match=rf"in use by pid {os.getpid()}") as info:
            with rio.output_lock(out):
                pass
        assert isinstance(info.value, ValueError) and info.value.path == out
        with rio.output_lock(tmp_path / "other.npz"):  # another output is independent
            pass
    assert not lock.exists()
    with rio.output_lock(out):  # free again
        pass
    with pytest.raises(RuntimeError):
        with rio.output_lock(out):
            raise RuntimeError("boom")
    with rio.output_lock(out):  # released on errors too
        pass


_RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reludyn.io import OutputBusyError, output_lock
    out, go, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    while not go.exists():          # both start together
        time.sleep(0.001)
    try:
        with output_lock(out):
            Path(f"{out}.won.{me}").touch()
            # the winner holds the lock until the loser has given up (or 60 s)
            t0 = time.time()
            while not Path(f"{out}.lost").exists() and time.time() - t0 < 60:
                time.sleep(0.01)
    except OutputBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        Path(f"{out}.lost").touch()
        sys.exit(2)
""")


def test_two_processes_racing_for_one_output_exactly_one_wins(tmp_path):
    out, go = tmp_path / "race.json", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(out), str(go), str(i)],
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    time.sleep(0.5)
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2], results
    loser_err = next(err for rc, err in results if rc == 2)
    winner = next(p for p, (rc, _) in zip(procs, results) if rc == 0)
    assert f"in use by pid {winner.pid}" in loser_err and ".race.json.lock" in loser_err
    assert len(list(tmp_path.glob("race.json.won.*"))) == 1
    assert not (tmp_path / ".race.json.lock").exists()


def test_content_hash_is_canonical():
    a = np.arange(6.0).reshape(2, 3)
    h = rio.content_hash({"x": a, "s": "t", "n": [1, 2.5, None, True]})
    assert h == rio.content_hash({"n": [1, 2.5, None, True], "s": "t", "x": a.copy()})
    assert h != rio.content_hash({"x": a.reshape(3, 2), "s": "t", "n": [1, 2.5, None, True]})
    assert h != rio.content_hash({"x": a.astype(np.float32), "s": "t", "n": [1, 2.5, None, True]})
    b = a.copy()
    b[1, 2] = np.nextafter(b[1, 2], 10)
    assert h != rio.content_hash({"x": b, "s": "t", "n": [1, 2.5, None, True]})
    assert len(h) == 64 and int(h, 16) >= 0
    with pytest.raises(TypeError, match="cannot be hashed"):
        rio.content_hash({"f": object()})
    from reludyn.runner import fingerprint
    assert fingerprint({"W": a}) == rio.content_hash({"W": a})


def test_a_lock_held_by_orphaned_workers_says_so(tmp_path):
    code = textwrap.dedent("""
        import os, sys, time
        from pathlib import Path
        from reludyn.io import output_lock
        with output_lock(sys.argv[1]):
            if os.fork() == 0:          # a worker inherits the lock...
                Path(sys.argv[2] + ".tmp").write_text(str(os.getpid()))
                os.replace(sys.argv[2] + ".tmp", sys.argv[2])
                time.sleep(60)
                os._exit(0)
            time.sleep(60)
    """)
    out, ready = tmp_path / "o.json", tmp_path / "ready"
    parent = subprocess.Popen([sys.executable, "-c", code, str(out), str(ready)])
    t0 = time.time()
    while not ready.exists():
        assert time.time() - t0 < 120
        time.sleep(0.05)
    parent.kill()  # ...and outlives its SIGKILLed parent
    parent.wait()
    try:
        with pytest.raises(rio.OutputBusyError, match=rf"pid {parent.pid} .*that process is gone"):
            with rio.output_lock(out):
                pass
    finally:
        os.kill(int(ready.read_text()), 9)  # the orphaned worker this test started
    t0 = time.time()
    while True:  # the kernel releases the lock once the worker is gone
        try:
            with rio.output_lock(out):
                break
        except rio.OutputBusyError:
            assert time.time() - t0 < 30
            time.sleep(0.05)


def test_check_lengths(tmp_path):
    rio.write_npz(tmp_path / "r.npz", W=np.zeros((5, 2, 2)), loss=np.zeros(5), s=np.array(["a"] * 5))
    assert rio.check_lengths(rio.read_npz(tmp_path / "r.npz"), "run file") == 5
    # the resumed file: W with 554 rows and 800 losses
    bad = {"W": np.zeros((554, 2, 2)), "loss": np.zeros(800)}
    with pytest.raises(ValueError, match=r"run file is damaged: .*W: 554, loss: 800"):
        rio.check_lengths(bad, "run file")
    with pytest.raises(ValueError, match=r"lacks arrays \['steps'\]"):
        rio.check_lengths(bad, "run file", keys=["W", "steps"])
    with pytest.raises(ValueError, match="scalar"):
        rio.check_lengths({"W": np.zeros(3), "eta": np.float64(0.1)}, "run file")
    assert rio.check_lengths({"W": np.zeros((3, 1)), "eta": np.float64(0.1)}, "f", keys=["W"]) == 3
