"""Catalogue.load(verify=True) and Catalogue.fingerprint (issue 11, item 4): a catalogue is
checked against what it claims, recomputed from its W and V."""
import json

import numpy as np
import pytest

from reludyn import Problem
from reludyn.critical import Catalogue, SeedSettings, find_critical_points
from reludyn.runner import Executor
from reludyn.io import content_hash


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    out = {}
    for name, P in (("k2", Problem.orthonormal(2)), ("k2m3", Problem.orthonormal(3, K=2))):
        cat = find_critical_points(P, SeedSettings(n_seeds=12, seed=0), 
                                   executor=Executor(workers=1, progress=False))
        assert {"global_min", "saddle"} <= set(cat.kinds())  # the edits below need both
        cat.save(d / f"{name}.json")
        out[name] = d / f"{name}.json"
    return out


def _edit(path, tmp_path, change):
    data = json.loads(path.read_text())
    change(data)
    p = tmp_path / "edited.json"
    p.write_text(json.dumps(data))
    return p


def _saddle(data):
    return next(i for i, e in enumerate(data["entries"]) if e["kind"] == "saddle")


@pytest.mark.parametrize("name", ["k2", "k2m3"])
def test_a_faithful_catalogue_verifies(files, name):
    cat = Catalogue.load(files[name], verify=True)
    data = json.loads(files[name].read_text())
    assert data["fingerprint"] == cat.fingerprint()
    assert cat.fingerprint() == content_hash({"K": cat.problem.K, "V": cat.problem.V,
                                              "W": [e.W for e in cat.entries],
                                              "settings": cat.settings})


def test_edited_teacher_is_refused(files, tmp_path):
    def change(data):  # the case: loaded as is, it gave two "global_min" entries
        data["problem"]["V"][0] = [0.8, 0.6]
    p = _edit(files["k2"], tmp_path, change)
    assert len(Catalogue.load(p).entries)  # the unchecked load still takes it as is
    with pytest.raises(ValueError, match=r"entry \d+: stored loss .* recomputed from its W "
                                         r"and the teacher V"):
        Catalogue.load(p, verify=True)


def test_moved_w_is_refused(files, tmp_path):
    def change(data):
        data["entries"][_saddle(data)]["W"][0][0] += 1e-3
    p = _edit(files["k2"], tmp_path, change)
    i = _saddle(json.loads(files["k2"].read_text()))
    with pytest.raises(ValueError, match=rf"entry {i}: stored (loss|grad_norm) "):
        Catalogue.load(p, verify=True)


@pytest.mark.parametrize("field,value,name", [("kind", "spurious_min", "k2"),
                                               ("kind", "global_min", "k2m3"),
                                               ("index", 0, "k2"), ("nullity", 3, "k2"),
                                               ("loss", 0.25, "k2"), ("grad_norm", 1e-3, "k2")])
def test_edited_fields_are_refused(files, tmp_path, field, value, name):
    i = _saddle(json.loads(files[name].read_text()))
    def change(data):
        data["entries"][i][field] = value
        data.pop("completeness")  # per-kind counts: a careful editor drops the block too
    p = _edit(files[name], tmp_path, change)
    with pytest.raises(ValueError, match=rf"entry {i}: stored {field} "):
        Catalogue.load(p, verify=True)


def test_edited_settings_break_the_fingerprint(files, tmp_path):
    p = _edit(files["k2"], tmp_path, lambda data: data["settings"].__setitem__("dedup_tol", 1e-5))
    Catalogue.load(p)
    with pytest.raises(ValueError, match="fingerprint does not match"):
        Catalogue.load(p, verify=True)
    q = _edit(files["k2"], tmp_path, lambda data: data.pop("fingerprint"))
    Catalogue.load(q, verify=True)  # files written before fingerprints: checked entry by entry


def test_portrait_slice_refuses_an_edited_catalogue(files, tmp_path, capsys):
    from reludyn.cli import main
    i = _saddle(json.loads(files["k2"].read_text()))
    def change(data):
        data["entries"][i]["kind"] = "spurious_min"
        data.pop("completeness")
    p = _edit(files["k2"], tmp_path, change)
    rc = main(["portrait", "slice", "--catalogue", str(p), "--points", "0", "1", "0:1,0",
               "--out", str(tmp_path / "s.png")])
    err = capsys.readouterr().err
    assert rc == 2 and f"entry {i}: stored kind" in err and "Traceback" not in err
