"""Isotypic Hessian spectrum against the dense spectrum, multiplicities included."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn.critical.fixedpoint import BlockStructure, solve_reduced
from reludyn.critical.isotypic import (expand_spectrum, hvp_rows, isotypic_spectrum, morse_index,
                                       spectrum_with_multiplicities)
from reludyn.landscape import hessian


def _theta(st, seed):
    rng = np.random.default_rng(seed)
    th = rng.normal(0.0, 0.4, st.dim)
    for a in range(st.r):
        th[st.alpha(a)] += 0.9
    return th


@pytest.mark.parametrize("blocks", [(2,), (3,), (4,), (5, 1), (13, 1), (16,), (2, 2),
                                    (3, 2, 1), (4, 4), (6, 1, 1), (5, 3, 2)])
@pytest.mark.parametrize("method", ["reduced", "hvp"])
def test_isotypic_equals_dense_spectrum(blocks, method):
    st = BlockStructure(blocks)
    th = _theta(st, st.K)
    comp = isotypic_spectrum(st, th, method=method)
    full = expand_spectrum(comp)
    dense = np.linalg.eigvalsh(hessian(st.embed(th), np.eye(st.K)))
    assert full.shape == dense.shape          # multiplicities add up to K²
    assert_allclose(full, dense, atol=1e-10)


def test_type_a_has_twelve_distinct_eigenvalues_with_predicted_multiplicities():
    for K in (8, 20, 30):
        st = BlockStructure((K - 1, 1))
        res = solve_reduced(st, [1.0, -0.75, -0.01, 0.13, 0.09])
        assert res.success
        comp = isotypic_spectrum(st, res.theta)
        vals, mult = spectrum_with_multiplicities(comp)
        assert len(vals) == 12
        n = K - 1
        dims = {c.label: (c.dim, c.copies) for c in comp}
        assert dims["triv"] == (1, 5) and dims["std_1"] == (n - 1, 5)
        assert dims[f"[{n - 2},2]_1"] == (n * (n - 3) // 2, 1)
        assert dims[f"[{n - 2},1,1]_1"] == ((n - 1) * (n - 2) // 2, 1)
        dense = np.linalg.eigvalsh(hessian(st.embed(res.theta), np.eye(K)))
        assert_allclose(np.repeat(vals, mult), dense, atol=1e-10)
        # distinct values cluster into 12 groups in the dense spectrum too
        assert np.sum(np.diff(dense) > 1e-7) + 1 == 12
        assert morse_index(comp) == (int(np.sum(dense < -1e-9)), 0)


def test_hvp_rows_against_dense_hessian():
    rng = np.random.default_rng(3)
    for K, M, d in [(4, 3, 5), (6, 6, 6), (3, 5, 4)]:
        W = rng.normal(size=(K, d))
        V = rng.normal(size=(M, d))
        vecs = rng.normal(size=(3, K, d))
        H = hessian(W, V)
        rows = [0, K - 1]
        got = hvp_rows(W, V, vecs, rows)
        for n in range(3):
            want = (H @ vecs[n].ravel()).reshape(K, d)[rows]
            assert_allclose(got[n], want, atol=1e-12)


def test_bad_inputs():
    st = BlockStructure((4, 1))
    with pytest.raises(ValueError, match="method"):
        isotypic_spectrum(st, _theta(st, 0), method="dense")
    with pytest.raises(ValueError, match="zero row"):
        isotypic_spectrum(st, np.zeros(st.dim))


def test_hvp_rows_near_parallel_rows_match_the_dense_hessian():
    """Rows 1e-7 apart in angle: the sines come from the vectors, so H·v keeps full accuracy
    (sqrt(1 − c²) would lose half the digits there)."""
    from reludyn import landscape
    from reludyn.critical.isotypic import hvp_rows

    rng = np.random.default_rng(0)
    K, M, d = 4, 3, 5
    V = rng.standard_normal((M, d))
    W = rng.standard_normal((K, d))
    W[1] = 1.3 * W[0] + 1e-7 * rng.standard_normal(d)
    v = rng.standard_normal((2, K, d))
    ref = (v.reshape(2, -1) @ landscape.hessian(W, V).T).reshape(2, K, d)[:, :3]
    np.testing.assert_allclose(hvp_rows(W, V, v, [0, 1, 2]), ref, rtol=0, atol=1e-12)
