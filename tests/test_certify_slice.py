"""Gauge slices: which points are reduced, and the slice map W = P Y Bᵀ."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn import symmetric_saddle_x
from reludyn.certify.slice import Slice, make_slice


def test_generic_point_uses_full_coordinates():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    sl = make_slice(W, np.eye(4))
    assert sl.identity and sl.zero_modes == 0
    sl.validate(np.eye(4))
    assert_allclose(sl.to_W(sl.from_W(W)), W)


def test_coincident_rows_share_coordinates():
    W = np.full((4, 4), symmetric_saddle_x(4))
    sl = make_slice(W, np.eye(4))
    assert not sl.identity and sl.zero_modes == 3 and sl.groups.tolist() == [0, 0, 0, 0]
    assert_allclose(sl.to_W(sl.from_W(W)), W, atol=1e-15)
    assert sl.L.shape == (16, 4)
    sl.validate(np.eye(4))


@pytest.mark.parametrize("d, expected", [(4, 1), (5, 2), (7, 4)])
def test_out_of_plane_orbit_dimension(d, expected):
    V = np.eye(2, d)
    rng = np.random.default_rng(d)
    u = rng.standard_normal(d - 2)
    u /= np.linalg.norm(u)
    W = np.zeros((2, d))
    W[:, :2] = 0.52
    W[0, 2:] = 0.4 * u
    W[1, 2:] = -0.4 * u
    sl = make_slice(W, V)
    assert sl.zero_modes == expected and sl.B.shape == (d, 3)
    assert_allclose(sl.to_W(sl.from_W(W)), W, atol=1e-14)
    assert Slice.from_dict(sl.to_dict()).to_dict() == sl.to_dict()
    sl.validate(V)
    with pytest.raises(ValueError, match="zero_modes"):
        Slice(sl.groups, sl.B, sl.zero_modes + 1, False, "").validate(V)


def test_two_out_of_plane_directions_unsupported():
    W = np.zeros((2, 5))
    W[:, 0] = 1.0
    W[0, 2] = 0.3
    W[1, 3] = 0.3
    with pytest.raises(ValueError, match="span 2 >= 2 directions"):
        make_slice(W, np.eye(1, 5))
