"""Classification against finite-difference Hessians and loss probes."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn as rd
from reludyn.check import finite_difference_hessian
from reludyn.critical.classify import classify, kind_of, row_pairs
from reludyn.critical.solve import solve_point


def _fd_spectrum(W, V, h=1e-6):
    """Eigenvalues of the central-difference Jacobian of the (verified) gradient."""
    H = finite_difference_hessian(W, V, h)
    return np.linalg.eigvalsh(0.5 * (H + H.T))


def _counts(eig, rtol=1e-5):
    z = np.abs(eig) <= rtol * np.max(np.abs(eig))
    return int(np.sum((eig < 0) & ~z)), int(np.sum(z))


def test_global_minimum():
    P = rd.Problem.orthonormal(3)
    info = classify(P.V.copy(), P.V)
    assert info["kind"] == "global_min"
    assert info["index"] == 0 and info["nullity"] == 0
    assert_allclose(info["eigenvalues"], _fd_spectrum(P.V.copy(), P.V), atol=1e-6)
    assert info["orbit_size"] == 6 and info["in_plane"]
    assert info["normal_residual"] < 1e-12


@pytest.mark.parametrize("K", [2, 3, 4])
def test_symmetric_saddle_index_and_nullity(K):
    P = rd.Problem.orthonormal(K)
    W = np.full((K, K), rd.symmetric_saddle_x(K))
    assert np.linalg.norm(rd.grad(W, P.V)) < 1e-12
    info = classify(W, P.V)
    fd = _fd_spectrum(W, P.V)
    assert (info["index"], info["nullity"]) == _counts(fd)
    assert info["kind"] == "saddle"
    assert info["nullity"] == K - 1  # splits of the common norm among coincident rows
    assert info["symmetry_zero_modes"] == 0
    assert len(info["coincident_pairs"]) == K * (K - 1) // 2
    assert info["orbit_size"] == 1


def test_spurious_minimum_k6_is_a_strict_local_minimum():
    K = 6
    P = rd.Problem.orthonormal(K)
    W0 = -0.66 * np.eye(K) + 0.33 * (1 - np.eye(K))
    r = solve_point(W0, P.V)
    assert r.success
    info = classify(r.W, P.V)
    assert info["kind"] == "spurious_min" and info["loss"] > 0.05
    fd = _fd_spectrum(r.W, P.V)
    assert np.min(fd) > 0
    # loss probe: small random moves all increase J
    rng = np.random.default_rng(0)
    J0 = P.loss(r.W)
    for _ in range(20):
        D = rng.standard_normal(r.W.shape)
        assert P.loss(r.W + 1e-3 * D / np.linalg.norm(D)) > J0
    assert info["symmetry"]["row_classes"] == K
    assert len(info["symmetry"]["values"]) == 2


def test_dead_row_point_is_nondifferentiable_and_uses_live_rows():
    P = rd.Problem.orthonormal(2)
    r = solve_point(np.array([[0.0, 0.0], [0.8, 0.3]]), P.V)
    info = classify(r.W, P.V)
    assert info["kind"] == "nondifferentiable"
    assert info["dead_rows"] == [0]
    assert info["eigenvalues"].shape == (2,)
    assert_allclose(info["eigenvalues"], _fd_spectrum(r.W[1:], P.V), atol=1e-6)


def test_k2_reports_L_signs():
    P = rd.Problem.orthonormal(2)
    info = classify(P.V[[1, 0]].copy(), P.V)
    assert set(info["L_signs"]) == {"L12", "L21", "L12_sum", "L21_sum"}
    assert abs(info["L_signs"]["L12_sum"]) < 1e-12  # Σ_k L_12(e*_k)‖w*_k‖ = 0 at a critical point


def test_kind_rules():
    assert kind_of(0, 5, 0, False, True) == "nondifferentiable"
    assert kind_of(0, 5, 0, True, False) == "global_min"
    assert kind_of(2, 3, 1, False, False) == "saddle"
    assert kind_of(0, 4, 1, False, False) == "degenerate"
    assert kind_of(0, 5, 0, False, False) == "spurious_min"
    assert kind_of(5, 0, 0, False, False) == "max"
    assert kind_of(4, 0, 1, False, False) == "degenerate"


def test_row_pairs():
    W = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    co, op = row_pairs(W)
    assert co == [[0, 1]] and op == [[0, 2], [1, 2]]
