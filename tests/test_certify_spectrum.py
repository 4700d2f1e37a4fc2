"""Eigenvalue enclosures of ball matrices and the Morse count."""
import numpy as np
import pytest
from flint import arb_mat

from reludyn.certify.balls import ball_matrix, precision
from reludyn.certify.spectrum import eigenvalue_enclosures, morse_count


@pytest.mark.parametrize("n, rad, seed", [(4, 0.0, 0), (12, 1e-9, 1), (30, 1e-4, 2)])
def test_enclosures_contain_every_member(n, rad, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    A = A + A.T
    with precision(64):
        enc = eigenvalue_enclosures(arb_mat(ball_matrix(A, rad)))
    lo = np.array([e[0] for e in enc])
    hi = np.array([e[1] for e in enc])
    assert np.all(lo <= hi) and np.all(np.diff(lo) >= -2 * (rad * n + 1e-12))
    for _ in range(5):  # random symmetric members of the ball matrix
        E = rng.uniform(-rad, rad, (n, n))
        lam = np.linalg.eigvalsh(A + np.triu(E) + np.triu(E, 1).T)
        assert np.all(lo <= lam + 1e-13) and np.all(lam - 1e-13 <= hi)
    # tight for point matrices; O(n²·rad) otherwise (Frobenius norm of |Q|ᵀ rad |Q|)
    assert np.max(hi - lo) < 1e-10 + 4 * n * n * rad


def test_morse_count():
    enc = [(-2.0, -1.0), (-1e-9, 1e-9), (0.5, 0.6)]
    assert morse_count(enc, 1) == (1, "decided")
    idx, msg = morse_count(enc, 0)
    assert idx is None and msg.startswith("undecided")
    idx, msg = morse_count(enc, 2)
    assert idx is None and msg.startswith("inconsistent")
