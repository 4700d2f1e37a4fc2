"""Phase portraits and landscape slices: the fields against finite differences and closed forms."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn
from reludyn import Problem, symmetric_saddle_x
from reludyn.plots.portraits import (integrate_2d, one_relu_field, one_relu_portrait,
                                     projected_symmetric_field, symmetric_field,
                                     symmetric_fixed_points, symmetric_portrait)
from reludyn.dynamics.init import symmetric_point


def symmetric_point_W(x, y, K):
    return symmetric_point(K, float(x), float(y))
from reludyn.plots.slices import landscape_slice, slice_plane, slice_values


def _restricted_loss(x, y, K):
    return reludyn.loss(symmetric_point_W(x, y, K), np.eye(K))


@pytest.mark.parametrize("K", [2, 3, 5])
def test_projected_field_is_restricted_gradient(K):
    # j(x, y) = J(xA + yB): dj/dx = <grad J, A> = K * mean diag, dj/dy = K(K-1) * mean offdiag
    rng = np.random.default_rng(K)
    h = 1e-6
    for x, y in rng.uniform(-0.8, 1.2, size=(6, 2)):
        u, v = projected_symmetric_field(np.array([x]), np.array([y]), K)
        djx = (_restricted_loss(x + h, y, K) - _restricted_loss(x - h, y, K)) / (2 * h)
        djy = (_restricted_loss(x, y + h, K) - _restricted_loss(x, y - h, K)) / (2 * h)
        assert_allclose([u[0], v[0]], [-djx / K, -djy / (K * (K - 1))], atol=1e-7)


@pytest.mark.parametrize("K", [2, 4, 10])
def test_family_is_invariant_and_closed_form_agrees(K):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1.5, size=(2, 40))
    for a, b in zip(x[:5], y[:5]):  # -grad J lies in span{A, B}: the projection loses nothing
        G = reludyn.grad(symmetric_point_W(a, b, K), np.eye(K))
        u, v = projected_symmetric_field(np.array(a), np.array(b), K)
        assert_allclose(-G, symmetric_point_W(u, v, K), atol=1e-13)
    assert_allclose(np.array(symmetric_field(x, y, K)), np.array(projected_symmetric_field(x, y, K)),
                    atol=1e-12)


@pytest.mark.parametrize("K", [2, 5, 10])
def test_fixed_points(K):
    pts = symmetric_fixed_points(K, box=(-1.0, 2.0, -1.0, 1.5), n_grid=15)
    xs = symmetric_saddle_x(K)
    by_pos = {(round(p.x, 8), round(p.y, 8)): p for p in pts}
    teacher = by_pos[(1.0, 0.0)]
    assert teacher.kind == "sink" and teacher.index == 0 and teacher.loss < 1e-20
    sad = by_pos[(round(xs, 8), round(xs, 8))]
    assert sad.kind == "saddle" and sad.index >= 1
    for p in pts:
        u, v = projected_symmetric_field(np.array(p.x), np.array(p.y), K)
        assert abs(u) + abs(v) < 1e-10


@pytest.mark.parametrize("K", [2, 5, 10])
def test_paper_trajectory_reaches_teacher(K):
    # claim 6: from (0.001, 0) the symmetric flow goes to w* = (1, 0)
    def f(z):
        u, v = symmetric_field(np.array([z[0]]), np.array([z[1]]), K)
        return [u[0], v[0]]
    tr = integrate_2d(f, (1e-3, 0.0), t_max=200.0)
    assert_allclose(tr[-1], [1.0, 0.0], atol=1e-6)


def test_one_relu_field_matches_paper_formula():
    ws = np.array([0.7, -1.1])
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(2, 7))
    U, V = one_relu_field(X, Y, ws)
    for x, y, u, v in zip(X, Y, U, V):
        w = np.array([x, y])
        th = math.acos(np.clip(w @ ws / (np.linalg.norm(w) * np.linalg.norm(ws)), -1, 1))
        g = 0.5 * (w - ws) + (th * ws - np.linalg.norm(ws) * math.sin(th) * w / np.linalg.norm(w)) / (2 * math.pi)
        assert_allclose([u, v], -g, atol=1e-12)


def test_portraits_draw(tmp_path):
    fig, ax, pts = symmetric_portrait(3, n=25, trajectories=[(1e-3, 0.0), (0.2, 0.5)])
    assert any(p.kind == "sink" for p in pts)
    fig.savefig(tmp_path / "s.png", dpi=40)
    fig, ax = one_relu_portrait((1.0, 1.0), n=20, trajectories=[(-1, 0.5)])
    fig.savefig(tmp_path / "o.png", dpi=40)
    assert (tmp_path / "s.png").stat().st_size > 1000 and (tmp_path / "o.png").stat().st_size > 1000


def test_portrait_bad_input():
    with pytest.raises(ValueError, match="K >= 2"):
        symmetric_portrait(1)
    with pytest.raises(TypeError):
        symmetric_portrait(2.5)
    with pytest.raises(ValueError, match="nonzero"):
        one_relu_portrait((0.0, 0.0))
    with pytest.raises(ValueError, match="same shape"):
        projected_symmetric_field(np.zeros(2), np.zeros(3), 3)
    with pytest.raises(ValueError, match="NaN"):
        projected_symmetric_field(np.array([np.nan]), np.zeros(1), 3)


# --- slices -----------------------------------------------------------------
def _three(problem, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(problem.K, problem.d)) for _ in range(3)]


def test_slice_plane_geometry():
    prob = Problem.orthonormal(3, 4)
    P = _three(prob)
    pl = slice_plane(*P)
    assert_allclose([np.sum(pl.E1 * pl.E1), np.sum(pl.E2 * pl.E2), np.sum(pl.E1 * pl.E2)],
                    [1, 1, 0], atol=1e-14)
    for (a, b), Pi in zip(pl.coords, P):
        assert_allclose(pl.point(a, b), Pi, atol=1e-13)
        assert_allclose(pl.project(Pi), (a, b, 0.0), atol=1e-12)
    off = P[0] + 0.3 * pl.E1 + np.random.default_rng(5).normal(size=P[0].shape)
    a, b, dist = pl.project(off)
    assert dist > 0.1


def test_slice_gradient_is_directional_derivative():
    prob = Problem.gaussian(3, 4, seed=2)
    pl = slice_plane(*_three(prob, 3))
    A = np.array([[0.1, -0.4], [0.7, 0.2]])
    B = np.array([[0.3, 0.5], [-0.2, 0.9]])
    L, ga, gb = slice_values(prob, pl, A, B)
    h = 1e-6
    for i in range(2):
        for j in range(2):
            a, b = A[i, j], B[i, j]
            assert_allclose(L[i, j], prob.loss(pl.point(a, b)), rtol=1e-13)
            da = (prob.loss(pl.point(a + h, b)) - prob.loss(pl.point(a - h, b))) / (2 * h)
            db = (prob.loss(pl.point(a, b + h)) - prob.loss(pl.point(a, b - h))) / (2 * h)
            assert_allclose([ga[i, j], gb[i, j]], [da, db], atol=1e-7)


def test_slice_draw_with_catalogue(tmp_path):
    prob = Problem.orthonormal(3)
    P = [prob.teacher_padded(), prob.teacher_padded()[[1, 0, 2]], np.full((3, 3), 0.3)]
    cat = SimpleNamespace(entries=[SimpleNamespace(W=P[0], kind="global_min"),
                                   SimpleNamespace(W=P[1], kind="global_min"),
                                   SimpleNamespace(W=np.eye(3)[[2, 1, 0]], kind="global_min"),
                                   SimpleNamespace(W=(P[0] + P[1]) / 2, kind="saddle")])
    fig, ax, pl = landscape_slice(prob, P, labels=["w*", "perm", "sym"], catalogue=cat, n=21)
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(stars) == 2  # the third global minimum lies off the plane
    assert len([ln for ln in ax.lines if ln.get_marker() == "X"]) == 1
    fig.savefig(tmp_path / "sl.png", dpi=40)


def test_slice_bad_input():
    prob = Problem.orthonormal(2)
    W = prob.teacher_padded()
    with pytest.raises(ValueError, match="collinear"):
        slice_plane(W, 2 * W, 3 * W)
    with pytest.raises(ValueError, match="coincide"):
        slice_plane(W, W, 2 * W)
    with pytest.raises(ValueError, match="shape"):
        landscape_slice(prob, [np.eye(3), 2 * np.eye(3), np.ones((3, 3))])
    with pytest.raises(ValueError, match="three"):
        landscape_slice(prob, [W, 2 * W])
    with pytest.raises(TypeError):
        slice_plane("a", W, W)
    with pytest.raises(ValueError, match="NaN"):
        slice_plane(W * np.nan, W, W)
