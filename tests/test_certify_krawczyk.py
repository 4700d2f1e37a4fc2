"""Krawczyk test: the certified ball holds the (independently) polished critical point."""
import numpy as np
import pytest

from reludyn import Problem, newton_polish
from reludyn.certify import certify_point
from reludyn.certify.balls import precision
from reludyn.certify.krawczyk import krawczyk
from reludyn.certify.slice import make_slice
from reludyn.certify.safran_shamir import type_a_minimum


@pytest.mark.parametrize("noise", [1e-10, 1e-8])
def test_ball_contains_polished_point(noise):
    V = np.eye(6)
    W_true = type_a_minimum(6)
    W = W_true + noise * np.random.default_rng(0).standard_normal(W_true.shape)
    c = certify_point(W, V)
    assert c.status == "certified"
    dist = np.abs(np.asarray(c.center) - W_true).max()
    assert dist <= c.radius
    # the radius is not wasteful: within a small factor of the distance to the true point
    assert c.radius < 20 * max(dist, 1e-14)


def test_gaussian_teacher_saddles_and_radius_threshold():
    pb = Problem.gaussian(3, 4, K=3, seed=5)
    rng = np.random.default_rng(1)
    found = 0
    for s in range(6):
        r = newton_polish(rng.standard_normal((3, 4)), pb.V, tol=1e-13)
        if not r.success:
            continue
        c = certify_point(r.W, pb.V)
        if c.status != "certified":
            continue
        found += 1
        sl = make_slice(r.W, pb.V)
        with precision(64):
            assert krawczyk(sl, np.asarray(c.center), pb.V, c.radius).ok
            # below |C ∇J(center)| no box can contain K(X)
            res = krawczyk(sl, np.asarray(c.center), pb.V, c.radius)
            assert not krawczyk(sl, np.asarray(c.center), pb.V, 0.5 * res.residual).ok
    assert found >= 1
