"""Certified early assignment (reludyn.dynamics.early protocol, reludyn.critical.early assigner)."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn.critical import Catalogue, certified_assigner, certify_ball
from reludyn.critical.early import CertifiedAssigner
from reludyn.dynamics import GDSettings, gradient_descent, run_ensemble
from reludyn.landscape import hessian
from reludyn.problem import Problem, symmetric_saddle_x

SS = dict(tol=1.6e-10, max_steps=200_000)  # Safran–Shamir: step 0.1, max-row tol


def _starts(k, n, seed):
    return np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(k), (n, k, k))


@pytest.mark.parametrize("k,n", [(6, 40), (8, 30), (10, 50)])
def test_early_and_full_runs_reach_the_same_entry(k, n):
    P = Problem.orthonormal(k)
    W0 = _starts(k, n, seed=100 + k)
    full = gradient_descent(P, W0, 0.1, **SS)
    early = gradient_descent(P, W0, 0.1, **SS, early_assign=CertifiedAssigner(P, 0.1))
    cat = Catalogue(P)
    ef = [cat.assign(w) for w in full.W]
    ee = [cat.assign(w) for w in early.W]
    assert None not in ef
    assert ef == ee
    a = early.reason == "assigned"
    assert a.sum() >= n // 2  # most runs are assigned (the point of the exercise)
    # the others ran exactly as the full runs
    assert_array_equal(early.W[~a], full.W[~a])
    assert_array_equal(early.steps[~a], full.steps[~a])
    assert_array_equal(early.reason[~a], full.reason[~a])
    assert set(full.reason[a]) == {"converged"}  # nothing assigned that did not converge
    assert np.all(early.steps[a] <= full.steps[a])
    assert np.all(early.radius[a] > 0) and np.all(np.isnan(early.radius[~a]))
    # the assigned W is the limit: the full run's end point is within tol/λ_min of it
    assert np.max(np.linalg.norm(early.W[a] - full.W[a], axis=(1, 2))) < 1e-7


@pytest.mark.parametrize("which", ["global", "type_a"])
def test_ball_certificate_against_float_oracle(which):
    """Hessians sampled in the box have spectra inside the certified [m, Mx]; GD from
    points on the sphere of the certified radius converges to the center."""
    from reludyn.certify.safran_shamir import type_a_minimum

    k = 6
    P = Problem.orthonormal(k)
    c = np.eye(k) if which == "global" else type_a_minimum(k)
    b = certify_ball(c, P.V, 0.1)
    assert b is not None and b.radius > 0 and b.delta < 1e-12
    assert b.lam[0] > 0 and 0.1 * b.lam[1] < 2
    rng = np.random.default_rng(0)
    for _ in range(20):
        W = c + rng.uniform(-b.box, b.box, (k, k))
        lam = np.linalg.eigvalsh(hessian(W, P.V))
        assert b.lam[0] <= lam[0] and lam[-1] <= b.lam[1]
    for _ in range(3):
        D = rng.normal(size=(k, k))
        W = c + 0.999 * b.radius * D / np.linalg.norm(D)
        r = gradient_descent(P, W, 0.1, tol=1e-13, norm="fro", max_steps=200_000)
        assert r.reason[0] == "converged" and np.linalg.norm(r.W[0] - c) < 1e-10


def test_saddle_gets_no_ball_and_nearby_runs_are_not_assigned_to_it():
    k = 6
    P = Problem.orthonormal(k)
    S = symmetric_saddle_x(k) * np.eye(k)
    assert certify_ball(S, P.V, 0.1) is None
    a = CertifiedAssigner(P, 0.1)
    rng = np.random.default_rng(3)
    near = S + 1e-9 * rng.normal(size=(4, k, k))
    out = a.assign(near)
    assert not out.mask.any()
    # GD from next to the saddle: its gradient gets small there, it is not assigned
    # there, and it ends exactly as the full run
    full = gradient_descent(P, near, 0.1, **SS)
    early = gradient_descent(P, near, 0.1, **SS, early_assign=a)
    J_s = P.loss(S)
    hit = early.reason == "assigned"
    assert not np.any(np.abs(early.loss[hit] - J_s) < 1e-6)
    assert_array_equal(early.reason[~hit], full.reason[~hit])
    assert_array_equal(early.W[~hit], full.W[~hit])
    cat = Catalogue(P)
    assert [cat.assign(w) for w in early.W] == [cat.assign(w) for w in full.W]


def test_budget_and_other_stops_equal_full_runs():
    k = 6
    P = Problem.orthonormal(k)
    W0 = _starts(k, 12, seed=7)
    W0[0, 2] = 0.0  # a dead row from the start
    for budget in (0, 50, 3000, 200_000):
        full = gradient_descent(P, W0, 0.1, tol=1.6e-10, max_steps=budget, dead_tol=1e-12)
        early = gradient_descent(P, W0, 0.1, tol=1.6e-10, max_steps=budget, dead_tol=1e-12,
                                 early_assign=CertifiedAssigner(P, 0.1))
        a = early.reason == "assigned"
        assert_array_equal(early.W[~a], full.W[~a])
        assert_array_equal(early.steps[~a], full.steps[~a])
        assert_array_equal(early.reason[~a], full.reason[~a])
        assert early.reason[0] == "dead_row"
        # assigned exactly where the full run converges within its budget (reason
        # "assigned" stands for "converged"): a run short of budget is never assigned
        assert set(full.reason[a]) <= {"converged"}
        assert_array_equal(np.where(a, "converged", early.reason), full.reason)
        assert a.any() == (budget == 200_000)  # short budgets: the bound does not fit


def test_protocol_errors_and_settings():
    P = Problem.orthonormal(4)
    W0 = _starts(4, 2, 0)
    with pytest.raises(ValueError, match="record"):
        gradient_descent(P, W0, 0.1, record=True, early_assign=True)
    with pytest.raises(ValueError, match="eta"):
        gradient_descent(P, W0, 0.1, early_assign=CertifiedAssigner(P, 0.2))
    with pytest.raises(TypeError, match="assigner"):
        gradient_descent(P, W0, 0.1, early_assign="yes")
    with pytest.raises(ValueError, match="record"):
        GDSettings(early_assign=True, record=10)
    assert "early_assign" not in GDSettings().to_dict()  # old fingerprints unchanged
    ends = run_ensemble(P, W0, GDSettings(eta=0.1, tol=1e-10, early_assign=True))
    assert "radius" in ends.extra and len(ends) == 2
    assert certified_assigner(P, 0.1) is certified_assigner(P, 0.1)


def test_large_problems_offer_nothing():
    P = Problem.orthonormal(5)
    a = CertifiedAssigner(P, 0.1, max_unknowns=20)
    assert a.tols == ()
    W0 = _starts(5, 3, 1)
    r = gradient_descent(P, W0, 0.1, tol=1e-10, early_assign=a)
    f = gradient_descent(P, W0, 0.1, tol=1e-10)
    assert_array_equal(r.W, f.W)
    assert a.stats["offered"] == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spectrum_bounds_contain_every_matrix_of_the_ball(seed):
    from flint import arb, arb_mat

    from reludyn.critical.early import spectrum_bounds

    rng = np.random.default_rng(seed)
    n = 12
    M = rng.normal(size=(n, n))
    mid = M + M.T
    rad = np.abs(rng.normal(size=(n, n))) * 10.0 ** rng.uniform(-6, -1)
    rad = rad + rad.T
    H = arb_mat([[arb(float(mid[i, j]), float(rad[i, j])) for j in range(n)] for i in range(n)])
    m, mx = spectrum_bounds(H)
    lam = np.linalg.eigvalsh(mid)
    assert m <= lam[0] and lam[-1] <= mx
    # the bound is the Perron root of the radii, not more than its row-sum bound
    assert lam[0] - m <= np.max(rad.sum(axis=1)) * (1 + 1e-9) + 1e-12
    for _ in range(50):
        E = rng.uniform(-1, 1, size=(n, n)) * rad
        A = mid + 0.5 * (E + E.T)
        if rng.random() < 0.5:  # corners of the ball
            A = mid + np.sign(E + E.T) * rad
        lam = np.linalg.eigvalsh(A)
        assert m <= lam[0] and lam[-1] <= mx
