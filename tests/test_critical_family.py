"""Families followed in K: type A and the anti-aligned ΔS_K family against full-space oracles."""
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn.cli import main
from reludyn.critical.family import fit_asymptotics, follow_family, pattern_of
from reludyn.critical.fixedpoint import BlockStructure
from reludyn.critical.seeds import block_partitions, make_seeds
from reludyn.landscape import grad, hessian, loss
from reludyn.problem import Problem

TYPE_A_6 = np.array([0.986704, -0.601512, -0.050413, 0.308011, 0.224516])  # rounded start


@pytest.fixture(scope="module")
def type_a():
    return follow_family((6, TYPE_A_6), range(3, 31), pattern="K-1,1")


def test_type_a_minimum_for_6_to_20_saddle_for_3_to_5(type_a):
    idx = dict(zip(type_a.K.tolist(), type_a.index.tolist()))
    assert all(idx[K] == 0 for K in range(6, 21))
    assert all(idx[K] > 0 for K in (3, 4, 5))
    assert type_a.first_minimum_K() == 6
    assert {"K_from": 5, "K_to": 6, "index_from": idx[5], "index_to": 0} in type_a.index_changes()


def test_type_a_published_losses_and_lambda_min(type_a):
    pts = {p.K: p for p in type_a.points}
    for K, J in {6: 0.0250805810, 10: 0.0187021946, 20: 0.0112755819}.items():
        assert abs(pts[K].loss - J) < 1e-9
    assert abs(pts[6].lambda_min - 0.0047) < 5e-5        # Safran & Shamir: ≈ 0.0047


@pytest.mark.parametrize("K", [4, 9, 17])
def test_family_points_against_dense_full_space(type_a, K):
    p = [q for q in type_a.points if q.K == K][0]
    st = BlockStructure((K - 1, 1))
    W = st.embed(p.theta)
    V = np.eye(K)
    assert np.max(np.abs(grad(W, V))) < 1e-11
    assert_allclose(loss(W, V), p.loss, atol=1e-13)
    dense = np.linalg.eigvalsh(hessian(W, V))
    assert_allclose(dense[0], p.lambda_min, atol=1e-10)
    assert int(np.sum(dense < -1e-9)) == p.index
    assert_allclose(np.repeat(p.eigenvalues, p.multiplicities), dense, atol=1e-10)


def test_anti_aligned_family_is_of_form_aI_plus_bJ():
    fam = follow_family((6, [-0.663397, 0.33071]), range(3, 25), pattern="K")
    for p in fam.points:
        assert p.theta[0] < 0 < p.theta[1]
        K = p.K
        W = p.theta[0] * np.eye(K) + p.theta[1] * (np.ones((K, K)) - np.eye(K))
        assert np.max(np.abs(grad(W, np.eye(K)))) < 1e-11
    assert fam.first_minimum_K() is not None


def test_fit_recovers_a_known_series():
    K = np.arange(20, 400)
    c = [0.3, -0.2, 0.5, 0.1]
    J = sum(ci * K ** (-i / 2) for i, ci in enumerate(c)) / K
    f = fit_asymptotics(K, J, n_terms=4)
    assert_allclose(f["coefficients"], c, atol=1e-9)
    f2 = fit_asymptotics(K, J * K, n_terms=4, times_K=False)
    assert_allclose(f2["coefficients"], c, atol=1e-9)
    with pytest.raises(ValueError, match="at least"):
        fit_asymptotics(K[:2], J[:2])


def test_follow_family_errors():
    with pytest.raises(ValueError, match="not near a critical point"):
        follow_family((6, np.zeros(5)), range(6, 8), pattern="K-1,1")
    with pytest.raises(ValueError, match="isotropy"):
        follow_family((6, TYPE_A_6), range(6, 8), pattern="K-1;1")
    assert pattern_of((9, 1)) == "K-1,1" and pattern_of((7,)) == "K"


def test_isotropy_seed_strategy():
    parts = block_partitions(6)
    assert (6,) in parts and (5, 1) in parts and (4, 1, 1) in parts and (3, 2, 1) in parts
    assert all(len(p) <= 3 and sum(p) == 6 for p in parts) and len(set(parts)) == len(parts)
    pr = Problem.orthonormal(5, 5, 5)
    a = make_seeds(pr, "isotropy", 12, seed=3)
    b = make_seeds(pr, "isotropy", 20, seed=3)
    assert_allclose(a.W, b.W[:12])
    g = np.array([np.max(np.abs(grad(W, pr.V))) for W in a.W])
    assert np.mean(g < 1e-10) > 0.5          # most seeds are already critical points
    with pytest.raises(ValueError, match="isotropy"):
        make_seeds(Problem.orthonormal(2, 3, 3), "isotropy", 2)  # K != M


def test_cli_family(tmp_path, capsys):
    out = tmp_path / "fam.json"
    assert main(["family", "--isotropy", "K-1,1", "--K", "5:12", "--start-K", "6",
                 "--n-starts", "30", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0.0250805810" in text and "index 3 -> 0 between K = 5 and K = 6" in text
    data = json.loads(out.read_text())
    assert [p["K"] for p in data["points"]] == list(range(5, 13))
    assert (tmp_path / "fam.png").is_file()


def test_cli_family_bad_isotropy(capsys):
    assert main(["family", "--isotropy", "K-one,1", "--K", "6:8"]) == 2
    err = capsys.readouterr().err
    assert "cannot parse isotropy" in err and "Traceback" not in err


def test_isotropy_critical_points_dense_and_isotypic_agree():
    from reludyn.critical import isotropy_critical_points
    st = BlockStructure((7, 1))
    dense = isotropy_critical_points(st, n_starts=24, seed=1)
    iso = isotropy_critical_points(st, n_starts=24, seed=1, dense_max_K=0)
    assert len(dense) == len(iso) > 3
    for a, b in zip(dense, iso):
        assert_allclose(a.loss, b.loss, atol=1e-14)
        assert a.index == b.index and a.nullity == b.nullity
        assert_allclose(a.lambda_min, b.lambda_min, atol=1e-10)


def test_cli_family_refuses_bad_file_names_before_any_work(tmp_path, capsys, monkeypatch):
    """--out / --figure suffixes are refused before the family is followed (nothing lost)."""
    import reludyn.critical.family as fam_mod

    def never(*a, **k):
        raise AssertionError("the family was followed before the file names were checked")

    monkeypatch.setattr(fam_mod, "follow_family", never)
    for extra in (["--out", str(tmp_path / "f.npz")], ["--figure", str(tmp_path / "f.jpg")]):
        assert main(["family", "--isotropy", "K-1,1", "--K", "6:1000"] + extra) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
