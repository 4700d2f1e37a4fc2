"""``reludyn certify`` and certify_catalogue: table, JSON certificates, resume, errors."""
import numpy as np
import pytest

from reludyn import Problem, symmetric_saddle_x
from reludyn.certify import verify
from reludyn.certify.catalogue import certify_catalogue
from reludyn.certify.safran_shamir import type_a_minimum
from reludyn.cli import main
from reludyn.critical import Catalogue
from reludyn.io import read_json


@pytest.fixture(scope="module")
def catalogue_file(tmp_path_factory):
    pb = Problem.orthonormal(6)
    cat = Catalogue(pb)
    cat.add(pb.V)
    cat.add(type_a_minimum(6))
    cat.add(np.full((6, 6), symmetric_saddle_x(6)))
    path = tmp_path_factory.mktemp("cat") / "cat.json"
    cat.save(path)
    return path


def test_cli_certifies_and_resumes(catalogue_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["certify", str(catalogue_file), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "3 of 3 entries certified" in text
    assert "certified isolated minimum of index 0" in text
    assert "index 25" in text  # x_s at K = 6: (K − 1)(d − 1)
    V = np.eye(6)
    for i in range(3):
        assert verify(read_json(out / "certificates" / f"entry_{i}.json"), V).ok
    # resumed: the executor finds every task done and rebuilds the same certificates
    cat = Catalogue.load(catalogue_file)
    again = certify_catalogue(cat, out, entries=[0, 1, 2])
    assert [c.status for _, c in again] == ["certified", "certified", "certified_manifold"]


def test_cli_entries_subset(catalogue_file, tmp_path, capsys):
    assert main(["certify", str(catalogue_file), "--entries", "1", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    assert "1 of 1 entries certified" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["--entries", "7"], "out of range"),
    (["--prec", "5"], "prec must be"),
])
def test_cli_errors(catalogue_file, tmp_path, capsys, argv, msg):
    rc = main(["certify", str(catalogue_file), "--out", str(tmp_path / "o"), "--no-progress", *argv])
    assert rc == 2 and msg in capsys.readouterr().err


def test_cli_missing_file(tmp_path, capsys):
    assert main(["certify", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
