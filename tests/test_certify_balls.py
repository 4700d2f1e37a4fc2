"""Ball formulas enclose the float kernels (an independent implementation) over boxes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_array_less

from reludyn import grad, hessian, loss
from reludyn.certify.balls import (NotCertifiable, arb_mat_to_numpy, ball_matrix, geometry,
                                   grad_ball, hessian_ball, loss_ball, precision)

FLOAT_TOL = 1e-12  # float kernels' own rounding, relative to the size of the quantity


def _inside(mid, rad, x, scale):
    assert_array_less(np.abs(x - mid), rad + FLOAT_TOL * scale)


def _check_box(W, V, r, rng, n_points=3):
    with precision(64):
        Wb = ball_matrix(W, r)
        g = geometry(Wb, V)
        L = loss_ball(Wb, V, g)
        Gm, Gr = arb_mat_to_numpy(grad_ball(Wb, V, g))
        Hm, Hr = arb_mat_to_numpy(hessian_ball(Wb, V, g))
    Lm, Lr = float(L.mid()), float(L.rad())
    for i in range(n_points):
        X = W if i == 0 else W + r * rng.uniform(-1, 1, W.shape)
        _inside(Lm, Lr, loss(X, V), 1 + abs(Lm))
        _inside(Gm, Gr, grad(X, V), 1 + np.abs(Gm).max())
        _inside(Hm, Hr, hessian(X, V), 1 + np.abs(Hm).max())
    return Gr.max(), Hr.max(), g


@settings(max_examples=25, deadline=None)
@given(K=st.integers(1, 3), M=st.integers(1, 3), d=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1), log_r=st.integers(-12, -6))
def test_ball_formulas_enclose_float_kernels(K, M, d, seed, log_r):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((K, d))
    V = rng.standard_normal((M, d))
    if np.linalg.norm(W, axis=1).min() < 0.1:
        W += 0.5
    gr, hr, _ = _check_box(W, V, 10.0 ** log_r, rng)
    if d >= 2:  # generic pairs (no θ near 0 or π): radii shrink with the box
        assert gr < 1e-3 and hr < 1e-2


@pytest.mark.parametrize("case", ["coincident", "opposite", "teacher", "anti_teacher"])
def test_degenerate_pairs_are_enclosed_and_reported(case):
    rng = np.random.default_rng(3)
    V = rng.standard_normal((2, 3))
    W = rng.standard_normal((3, 3))
    if case == "coincident":
        W[1] = 2.0 * W[0]
    elif case == "opposite":
        W[1] = -0.5 * W[0]
    elif case == "teacher":
        W[2] = 1.5 * V[0]
    else:
        W[2] = -1.5 * V[1]
    _, _, g = _check_box(W, V, 1e-10, rng)
    pairs = g.touching_pairs()
    if case in ("coincident", "opposite"):
        assert pairs["student"] == [[0, 1]]
    else:
        assert pairs["teacher"] == [[2, 0 if case == "teacher" else 1]]


def test_dead_row_box_is_refused():
    W = np.array([[1e-12, 0.0], [1.0, 1.0]])
    with pytest.raises(NotCertifiable, match="student row 0 can be zero"):
        geometry(ball_matrix(W, 1e-9), np.eye(2))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), r=st.sampled_from([1e-3, 0.05, 0.3]))
def test_wide_boxes_still_enclose(seed, r):
    """Large boxes reach every branch of the angle enclosure (|c| <= 0.9, near ±1, wide c)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((3, 3))
    W *= (2.0 / np.linalg.norm(W, axis=1))[:, None]  # rows of norm 2: no dead row in the box
    V = rng.standard_normal((2, 3))
    W[1] = W[0] + 0.01 * rng.standard_normal(3)  # a nearly coincident pair
    _check_box(W, V, r, rng, n_points=6)
