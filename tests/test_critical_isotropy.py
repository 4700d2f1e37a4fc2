"""Isotropy groups: notation, exact order against orbit sizes, catalogue storage."""
import math

import numpy as np
import pytest

from reludyn.critical import Catalogue
from reludyn.critical.fixedpoint import BlockStructure, solve_reduced
from reludyn.critical.isotropy import block_form, group_order, isotropy
from reludyn.critical.symmetry import SymmetryContext, orbit_size
from reludyn.problem import Problem


def _shuffle(W, seed):
    rng = np.random.default_rng(seed)
    return W[rng.permutation(W.shape[0])][:, rng.permutation(W.shape[1])]


def _type_a(K):
    st = BlockStructure((K - 1, 1))
    res = solve_reduced(st, [1.0, -0.7, -0.02, 0.18, 0.13])
    assert res.success
    return st.embed(res.theta)


@pytest.mark.parametrize("K", [3, 6, 20])
def test_global_minimum_has_diagonal_full_isotropy(K):
    ctx = SymmetryContext(np.eye(K), 1e-6)
    iso = isotropy(np.eye(K), ctx)
    assert iso.label == f"Δ(S_{K})" and iso.blocks == (K,)
    assert iso.order == math.factorial(K)
    assert orbit_size(np.eye(K), ctx) * iso.order == group_order(ctx, K)


@pytest.mark.parametrize("K", [4, 7, 20])
def test_random_point_has_trivial_isotropy(K):
    ctx = SymmetryContext(np.eye(K), 1e-6)
    W = np.random.default_rng(K).normal(size=(K, K))
    iso = isotropy(W, ctx)
    assert iso.label == "trivial" and iso.order == 1
    assert orbit_size(W, ctx) == group_order(ctx, K)


@pytest.mark.parametrize("K", [6, 10, 20])
def test_type_a_isotropy_and_block_form(K):
    ctx = SymmetryContext(np.eye(K), 1e-6)
    W0 = _type_a(K)
    W = _shuffle(W0, K)
    iso = isotropy(W, ctx)
    assert iso.label == f"Δ(S_{K - 1}×S_1)"
    assert iso.blocks == (K - 1, 1)
    assert iso.order == math.factorial(K - 1)
    assert orbit_size(W, ctx) * iso.order == group_order(ctx, K)
    assert sorted(map(len, iso.row_orbits)) == [1, K - 1]
    Wb, blocks = block_form(W, iso)
    assert blocks == (K - 1, 1)
    assert BlockStructure(blocks).distance_to_fix(Wb) < 1e-12


def test_order_times_orbit_is_group_order_on_many_structures():
    rng = np.random.default_rng(5)
    for blocks in [(3, 2, 1), (2, 2, 2), (4, 2), (3, 3), (2, 2), (5,)]:
        st = BlockStructure(blocks)
        K = st.K
        ctx = SymmetryContext(np.eye(K), 1e-6)
        for _ in range(3):
            th = rng.integers(-3, 4, st.dim) / 3.0
            W = _shuffle(st.embed(th), int(rng.integers(1000)))
            iso = isotropy(W, ctx)
            o = orbit_size(W, ctx)
            assert iso.order is not None and o * iso.order == group_order(ctx, K), (blocks, th)
            # every element implied by the reported orbits is counted: orbits partition the indices
            assert sorted(i for orb in iso.row_orbits for i in orb) == list(range(K))


def test_non_orthonormal_teacher_reports_order_and_orbits():
    V = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)], [-0.5, np.sqrt(0.75)]])  # not all angles equal
    ctx = SymmetryContext(V, 1e-6)
    W = np.array([[1.0, 0.2], [0.3, 0.9], [0.3, 0.9]])
    iso = isotropy(W, ctx)
    assert iso.order == 2                      # the two equal rows
    assert orbit_size(W, ctx) * iso.order == group_order(ctx, 3)
    assert [1, 2] in iso.row_orbits


def test_extra_coordinates_give_a_continuous_factor():
    K, d = 4, 6
    V = np.eye(K, d)
    ctx = SymmetryContext(V, 1e-6)
    iso = isotropy(np.eye(K, d), ctx)
    assert iso.label == "Δ(S_4) × O(2)" and iso.continuous == "O(2)" and iso.blocks == (4,)
    W = np.eye(K, d)
    W[:, 4] = 0.3                                # out of span V, complement of dim 2
    assert isotropy(W, ctx).order is None


def test_catalogue_stores_isotropy_and_old_files_load(tmp_path):
    problem = Problem.orthonormal(4, 4, 4)
    cat = Catalogue(problem)
    cat.add(np.eye(4))
    cat.add(_shuffle(_type_a(4), 1))
    labels = [e.isotropy_label for e in cat.entries]
    assert labels == ["Δ(S_4)", "Δ(S_3×S_1)"]
    p = tmp_path / "c.json"
    cat.save(p)
    back = Catalogue.load(p)
    assert [e.isotropy for e in back.entries] == [e.isotropy for e in cat.entries]
    assert "Δ(S_3×S_1)" in cat.csv_text()
    table = cat.table(by_isotropy=True)
    assert "-- isotropy Δ(S_4)" in table and "-- isotropy Δ(S_3×S_1)" in table
    # a catalogue written before the isotropy field existed still loads
    data = cat.to_dict()
    for e in data["entries"]:
        del e["isotropy"]
    old = Catalogue.from_dict(data)
    assert old.entries[0].isotropy is None and old.entries[0].isotropy_label == ""
    assert "(not computed)" in old.table(by_isotropy=True)


def test_one_extra_coordinate_out_of_plane_orders():
    K = 3
    ctx = SymmetryContext(np.eye(K, K + 1), 1e-6)
    rng = np.random.default_rng(2)
    for W in [np.concatenate([np.eye(K), np.full((K, 1), 0.4)], axis=1),
              np.concatenate([0.3 * np.ones((K, K)) + 0.5 * np.eye(K),
                              np.array([[0.4], [-0.4], [0.0]])], axis=1),
              rng.normal(size=(K, K + 1))]:
        iso = isotropy(W, ctx)
        o = orbit_size(W, ctx)
        assert o * iso.order == group_order(ctx, K, out_of_plane=True), iso
