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
