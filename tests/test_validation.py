"""The input domain of the kernels (reludyn.validation): row norms in [1e-150, 1e150].

The range is found with the kernels against the exact scaling laws J(sW, sV) = s² J(W, V),
∇J(sW, sV) = s ∇J(W, V), H(sW, sV) = H(W, V): inside it they hold to rounding, past it the
kernels overflow (NaN loss from 1e154) or go subnormal (1e-12 error at 1e-156, NaN gradient
for teacher rows of 1e-200).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn import Problem, grad, hessian, loss, loss_and_grad
from reludyn.validation import ROW_NORM_MAX, ROW_NORM_MIN, student_weights, teacher_matrix

FNS = (loss, grad, hessian, loss_and_grad)


def _unit_rows(rng, n, d):
    A = rng.standard_normal((n, d))
    return A / np.linalg.norm(A, axis=1, keepdims=True)


@pytest.mark.parametrize("K,M,d", [(1, 1, 1), (2, 2, 2), (3, 2, 4), (4, 5, 6)])
@pytest.mark.parametrize("s", [ROW_NORM_MIN, 1e-100, 1e100, ROW_NORM_MAX])
def test_scaling_laws_hold_to_rounding_up_to_the_edges(K, M, d, s):
    rng = np.random.default_rng(K * 100 + M * 10 + d)
    lo, hi = (1.0, 2.0) if s < 1 else (0.5, 1.0)  # student rows inside, the teacher's at s
    V, W = _unit_rows(rng, M, d), _unit_rows(rng, K, d) * rng.uniform(lo, hi, (K, 1))
    J, G, H = loss(W, V), grad(W, V), hessian(W, V)
    # edge rows: the teacher's at exactly s (up to rounding of a unit row times s)
    Js, Gs, Hs = loss(s * W, s * V), grad(s * W, s * V), hessian(s * W, s * V)
    assert np.isfinite(Js) and np.all(np.isfinite(Gs)) and np.all(np.isfinite(Hs))
    assert_allclose(Js / s / s, J, rtol=1e-13)
    assert_allclose(Gs / s, G, rtol=1e-13, atol=1e-13 * np.abs(G).max())
    assert_allclose(Hs, H, rtol=1e-12, atol=1e-12 * np.abs(H).max())


def test_mixed_extremes_are_finite():
    rng = np.random.default_rng(1)
    V, W = _unit_rows(rng, 2, 3) * ROW_NORM_MAX, _unit_rows(rng, 3, 3) * ROW_NORM_MIN
    for fn in FNS:
        out = fn(W, V)
        assert all(np.all(np.isfinite(x)) for x in (out if isinstance(out, tuple) else (out,)))
    # a tiny student against a huge teacher: J is the teacher's energy to rounding
    assert_allclose(loss(W, V), loss(np.zeros_like(W), V), rtol=1e-14)


@pytest.mark.parametrize("norm", [ROW_NORM_MAX * 1.01, 1e155, 1e200, ROW_NORM_MIN * 0.99, 1e-155,
                                  1e-200])
def test_teacher_rows_outside_the_domain_are_refused(norm):
    V = np.array([[1.0, 0.0], [0.0, norm]])  # on the old code: 1e155 gave a NaN loss and
    W = np.array([[0.6, 0.8], [0.8, -0.6]])  # 1e-200 a NaN gradient, silently
    for fn in FNS:
        for VV in (V, V.tolist()):  # the jitted fast path and the detailed validation
            with pytest.raises(ValueError, match=r"V row 1 has norm .* outside the range "
                                                 r"\[1e-150, 1e\+150\]"):
                fn(W, VV)
    with pytest.raises(ValueError, match="outside the range"):
        Problem(V, K=2)
    with pytest.raises(ValueError, match="outside the range"):
        Problem.planar([0.0, 1.0], norms=[1.0, norm])
    with pytest.raises(ValueError, match="outside the range"):
        teacher_matrix(V)


@pytest.mark.parametrize("norm", [ROW_NORM_MAX * 1.01, 1e160, ROW_NORM_MIN * 0.99, 1e-155])
def test_student_rows_outside_the_domain_are_refused(norm):
    V = np.eye(2)
    W = np.array([[0.6, 0.8], [norm, 0.0]])
    for fn in FNS:
        for WW in (W, W.tolist(), W[None]):
            with pytest.raises(ValueError, match=r"W row .*1.* outside the range"):
                fn(WW, V)
    with pytest.raises(ValueError, match="outside the range"):
        student_weights(W, 2)


def test_just_inside_is_accepted_and_zero_student_rows_stay_dead():
    V = np.array([[ROW_NORM_MAX, 0.0], [0.0, ROW_NORM_MIN]])
    assert Problem(V, K=2).M == 2
    W = np.array([[ROW_NORM_MIN, 0.0], [0.0, 0.0]])
    assert np.isfinite(loss(W, V))
    # a row whose squares underflow is a zero (dead) row, as np.linalg.norm says: allowed
    W2 = np.array([[0.6, 0.8], [1e-200, 0.0]])
    assert np.all(np.isfinite(grad(W2, np.eye(2))))
    assert_allclose(grad(W2, np.eye(2))[1], 0.0)


@pytest.mark.parametrize("norm", [1e155, 1e-200])
@pytest.mark.parametrize("cmd", ["train", "catalogue"])
def test_the_cli_refuses_an_out_of_domain_teacher(tmp_path, capsys, norm, cmd):
    """Issue 11 #7: such teachers were accepted and every run 'diverged' at step 0, exit 0."""
    from reludyn.cli import main
    f = tmp_path / "v.csv"
    f.write_text(f"1,0\n0,{norm!r}\n")
    out = tmp_path / ("r.npz" if cmd == "train" else "c.json")
    assert main([cmd, "--teacher", "file", "--teacher-file", str(f), "-n", "2", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "outside the range [1e-150, 1e+150]" in err and "Traceback" not in err
    assert not out.exists()
