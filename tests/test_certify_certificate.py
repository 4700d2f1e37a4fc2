"""Acceptance tests of issue 14: certified minima, saddles, manifolds; failures; verify."""
import json
import math

import numpy as np
import pytest

from reludyn import grad, hessian, loss, newton_polish, symmetric_saddle_x
from reludyn.certify import CertifySettings, certify_point, verify
from reludyn.certify.safran_shamir import type_a_minimum

# published type-A losses (Safran & Shamir 2018, LITERATURE.md), 10 digits
PUBLISHED = {6: 0.0250805810, 10: 0.0187021946, 20: 0.0112755819}


def _loss_longdouble(W, V):
    """J = ½ Σ σ_i σ_j κ(x_i, x_j) over rows x = [W; V] (σ = ±1), in numpy longdouble."""
    dt = np.longdouble
    pi = np.arccos(dt(-1))
    X = np.vstack([W, V]).astype(dt)
    sg = np.r_[np.ones(len(W)), -np.ones(len(V))].astype(dt)
    n = np.sqrt((X * X).sum(1))
    E = X / n[:, None]
    c = np.clip(E @ E.T, dt(-1), dt(1))
    np.fill_diagonal(c, dt(1))
    th = np.arccos(c)
    s = np.sqrt(np.maximum((1 - c) * (1 + c), dt(0)))
    kap = np.outer(n, n) * (s + (pi - th) * c)
    return float((np.outer(sg, sg) * kap).sum() / (4 * pi))


@pytest.fixture(scope="module")
def type_a():
    return {k: type_a_minimum(k) for k in PUBLISHED}


@pytest.mark.parametrize("k", [6, 10, 20])
def test_type_a_certified_strict_minimum(type_a, k):
    W, V = type_a[k], np.eye(k)
    c = certify_point(W, V)
    assert c.status == "certified" and c.kind == "minimum" and c.index == 0
    lo, hi = c.loss
    assert hi - lo < 1e-10
    # J moves by at most |∇J|·r between the center and the certified point
    move = np.abs(grad(W, V)).sum() * c.radius + 1e-15
    # independent oracle: J at the center in extended precision (longdouble)
    assert lo - move - 1e-14 <= _loss_longdouble(W, V) <= hi + move + 1e-14
    # the float kernel's loss, up to its rounding: it sums O((Σ|w| + Σ|v|)²) terms that cancel
    # to J (at k = 20 it is 3.4e-13 off the longdouble value)
    scale = (np.linalg.norm(W, axis=1).sum() + np.linalg.norm(V, axis=1).sum()) ** 2
    f = loss(W, V)
    assert lo - move - 64 * np.finfo(float).eps * scale <= f <= hi + move + 64 * np.finfo(float).eps * scale
    assert abs(0.5 * (lo + hi) - PUBLISHED[k]) < 1e-10
    assert c.lambda_min_lower > 0
    # λ_min enclosure contains the float Hessian's
    lam = np.linalg.eigvalsh(hessian(W, V))
    assert c.eigenvalues[0][0] <= lam[0] + 1e-12 and lam[0] - 1e-12 <= c.eigenvalues[0][1]
    if k == 6:  # published λ_min ≈ 0.0047
        assert abs(c.lambda_min_lower - 0.0047) < 1e-4
    if k < 20:  # verify repeats the whole computation: ~4 s more at k = 20
        assert verify(c, V).ok


def test_global_minimum_lambda_min():
    for K, d in [(3, 3), (5, 5), (4, 6)]:
        V = np.eye(K, d)
        c = certify_point(V, V)
        assert c.certified and c.index == 0
        if K == d:
            assert c.lambda_min_lower >= 0.25 - 1 / (2 * math.pi) - 1e-9
        assert c.loss[0] <= 0.0 <= c.loss[1]


def test_symmetric_saddle_index():
    K = 5
    V = np.eye(K)
    W = np.full((K, K), symmetric_saddle_x(K))
    c = certify_point(W, V)
    assert c.certified and c.index == (K - 1) * (K - 1)
    # the K − 1 splits of the coincident rows' norm are a critical manifold
    assert c.status == "certified_manifold" and c.manifold_dim == K - 1
    assert verify(c, V).ok


@pytest.mark.parametrize("move", [(0, 0), (1, 3)])
def test_point_off_a_critical_point_fails(type_a, move):
    W = type_a[6].copy()
    W[move] += 1e-3
    c = certify_point(W, np.eye(6))
    assert c.status == "failed" and not c.certified and c.radius is None
    assert "not certified" in c.message
    assert not verify(c, np.eye(6)).ok


def _out_of_plane_saddle(seed=0):
    """K = M = 2, d = 5: rows (α, α, ±ζ u) with u a random unit vector off span(V)."""
    V = np.eye(2, 5)
    p = np.array([0.5246, 0.409])
    for _ in range(50):  # Newton on the 2-parameter fixed-point family
        W = np.array([[p[0], p[0], p[1], 0, 0], [p[0], p[0], -p[1], 0, 0]])
        B = np.array([[1, 1, 0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, -1, 0, 0]], float)
        g = B @ grad(W, V).ravel()
        p = p - np.linalg.solve(B @ hessian(W, V) @ B.T, g)
    R = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))[0]
    W[:, 2:] = W[:, 2:] @ R
    return newton_polish(W, V, tol=1e-14).W, V


def test_out_of_plane_family_is_manifold_of_dimension_2():
    W, V = _out_of_plane_saddle()
    assert np.abs(W[:, 3:]).max() > 0.05  # genuinely rotated off the coordinate axes
    c = certify_point(W, V)
    assert c.status == "certified_manifold" and c.manifold_dim == 2
    assert "certified critical manifold of dimension 2" in c.message
    assert c.index == 1
    # full Hessian: exactly two eigenvalue enclosures contain 0
    assert sum(lo <= 0 <= hi for lo, hi in c.eigenvalues) == 2
    assert verify(c, V).ok


def test_dead_rows_not_certifiable():
    V = np.eye(3)
    W = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    c = certify_point(W, V)
    assert c.status == "not_certifiable" and "dead rows [0]" in c.message


def test_edited_certificates_fail_verify(type_a, tmp_path):
    from reludyn.io import read_json, write_json

    V = np.eye(6)
    c = certify_point(type_a[6], V)
    path = tmp_path / "c.json"
    write_json(path, c.to_dict())
    d = read_json(path)
    assert verify(d, V).ok
    shrunk = json.loads(json.dumps(d))
    shrunk["radius"] /= 10
    assert not verify(shrunk, V).ok
    for delta in (1e-3, 20 * c.radius):
        moved = json.loads(json.dumps(d))
        moved["center"][2][1] += delta
        r = verify(moved, V)
        assert not r.ok and "Krawczyk" in r.reasons[0]
    lied = json.loads(json.dumps(d))
    lied["loss"] = [lied["loss"][0] + 1e-12, lied["loss"][1]]
    assert not verify(lied, V).ok
    assert not verify(d, np.eye(6) * 1.0000001).ok


def test_edited_slice_fails_verify():
    W, V = _out_of_plane_saddle(seed=1)
    d = certify_point(W, V).to_dict()
    assert verify(d, V).ok
    bad = json.loads(json.dumps(d))
    bad["slice"]["zero_modes"] = 1
    assert not verify(bad, V).ok
    bad = json.loads(json.dumps(d))
    bad["slice"]["B"] = [row[1:] for row in bad["slice"]["B"]]  # drop a teacher row
    bad["center"] = [row[1:] for row in bad["center"]]
    r = verify(bad, V)
    assert not r.ok and "invalid slice" in r.reasons[0]


def test_settings_are_validated():
    with pytest.raises(ValueError, match="max_radius"):
        CertifySettings(max_radius=-1.0)
    with pytest.raises(ValueError, match="batch"):
        certify_point(np.ones((2, 3, 3)), np.eye(3))
