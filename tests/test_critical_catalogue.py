"""Catalogue: add/match, JSON round trip, damaged files, CSV."""
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import reludyn as rd
from reludyn.critical import SCHEMA_VERSION, Catalogue, CriticalPoint


@pytest.fixture
def cat():
    P = rd.Problem.orthonormal(2)
    c = Catalogue(P, provenance={"note": "test"})
    c.add(P.V.copy(), source="a")
    c.add(np.full((2, 2), rd.symmetric_saddle_x(2)), source="b")
    return c


def test_add_merges_symmetric_copies(cat):
    P = cat.problem
    i, new = cat.add(P.V[[1, 0]].copy(), source="c")  # row permutation of the minimum
    assert not new and i == 0 and cat.entries[0].hits == 2
    assert cat.entries[0].sources == ["a", "c"]
    assert cat.entries[0].orbit_size == 2
    # coincident rows with another split of the same total norm: same entry (and the
    # stored representative has equal rows)
    xs = rd.symmetric_saddle_x(2)
    W = np.array([[1.2 * xs, 1.2 * xs], [0.8 * xs, 0.8 * xs]])
    assert np.linalg.norm(rd.grad(W, P.V)) < 1e-12
    assert cat.match(W) == 1
    assert len(cat) == 2
    assert cat.match(np.array([[1.0, 0.1], [0.0, 1.0]])) is None


def test_json_round_trip_is_exact(cat, tmp_path):
    path = tmp_path / "c.json"
    cat.save(path)
    back = Catalogue.load(path)
    assert back.problem == cat.problem and len(back) == len(cat)
    for a, b in zip(cat.entries, back.entries):
        assert_array_equal(a.W, b.W)
        assert_array_equal(a.eigenvalues, b.eigenvalues)
        assert (a.kind, a.index, a.nullity, a.hits, a.orbit_size) == \
            (b.kind, b.index, b.nullity, b.hits, b.orbit_size)
        assert a.to_dict() == b.to_dict()
    assert back.provenance == {"note": "test"}
    assert back.settings == cat.settings
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION and "reludyn_version" in data


def test_damaged_or_mismatched_files(cat, tmp_path):
    path = tmp_path / "c.json"
    cat.save(path)
    good = json.loads(path.read_text())
    with pytest.raises(ValueError, match="does not exist"):
        Catalogue.load(tmp_path / "missing.json")
    path.write_text(path.read_text()[:-20])
    with pytest.raises(ValueError, match="damaged"):
        Catalogue.load(path)
    cases = [
        ({**good, "schema_version": 99}, "schema version"),
        ({**good, "schema": "other"}, "not a reludyn catalogue"),
        ({k: v for k, v in good.items() if k != "problem"}, "problem"),
        ({**good, "entries": [{**good["entries"][0], "W": [[1.0, 2.0, 3.0]]}]}, "entry 0"),
        ({**good, "entries": [{**good["entries"][0], "kind": "weird"}]}, "kind"),
        ({**good, "entries": [{"W": [[1, 0], [0, 1]]}]}, "lacks keys"),
        ([1, 2, 3], "JSON object"),
    ]
    for data, msg in cases:
        path.write_text(json.dumps(data))
        with pytest.raises(ValueError, match=msg):
            Catalogue.load(path)
    path.write_text(json.dumps(good))
    with pytest.raises(ValueError, match="not for"):
        Catalogue.load(path, problem=rd.Problem.orthonormal(3))


def test_csv_summary(cat, tmp_path):
    path = tmp_path / "c.csv"
    cat.to_csv(path)
    lines = path.read_text().strip().split("\n")
    assert lines[0].split(",")[:4] == ["id", "loss", "kind", "index"]
    assert len(lines) == 1 + len(cat)
    assert lines[1].split(",")[2] == "global_min"
    assert "saddle" in cat.table()


def test_bad_arguments():
    with pytest.raises(TypeError, match="Problem"):
        Catalogue("not a problem")
    c = Catalogue(rd.Problem.orthonormal(2))
    with pytest.raises(ValueError, match="shape|rows"):
        c.add(np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        c.match(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="unknown catalogue settings"):
        Catalogue(rd.Problem.orthonormal(2), settings={"bogus": 1})


def test_critical_point_fields():
    fields = set(CriticalPoint.__dataclass_fields__)
    assert {"W", "loss", "grad_norm", "eigenvalues", "index", "nullity", "symmetry_zero_modes",
            "kind", "in_plane", "plane_distance", "hits", "orbit_size"} <= fields


# --- Catalogue.assign: one match, at most one polish, at most one add ---------------------
def test_assign_matches_polishes_and_adds_once():
    from reludyn.problem import symmetric_saddle_x

    K = 3
    prob = rd.Problem.orthonormal(K)
    cat = Catalogue(prob)
    g, _ = cat.add(prob.teacher_padded())
    # a row permutation of the teacher is the same entry; hits are not counted by assign
    assert cat.assign(prob.V[[2, 0, 1]]) == g and cat.entries[g].hits == 1
    # a point near the symmetric saddle: no entry matches it unpolished ...
    Ws = np.full((K, K), symmetric_saddle_x(K))
    near = Ws + 1e-7 * np.random.default_rng(0).standard_normal((K, K))
    assert cat.assign(near, polish=False) is None and len(cat) == 1
    # ... polishing finds the saddle, but add=False leaves the catalogue alone
    assert cat.assign(near, add=False) is None and len(cat) == 1
    s = cat.assign(near)
    assert s == 1 and len(cat) == 2 and cat.entries[s].kind == "saddle"
    assert cat.entries[s].method == "newton" and cat.entries[s].sources == ["basins"]
    # the stored point is critical (independent check of ∇J) and the saddle of x_s 11ᵀ
    assert np.linalg.norm(prob.grad(cat.entries[s].W)) <= 1e-10
    assert np.max(np.abs(cat.entries[s].W - Ws)) < 1e-9
    # the same saddle again: matched, not added twice
    assert cat.assign(near) == s and len(cat) == 2
    # far from any critical point, Newton fails: None, nothing added
    far = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [-2.0, 0.0, 1.0]])
    res = rd.newton_polish(far, prob.V, tol=1e-11)
    if not res.success:
        assert cat.assign(far) is None and len(cat) == 2
