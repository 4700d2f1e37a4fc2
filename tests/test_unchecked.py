"""landscape.unchecked (the door for the upper layers) against the checked public functions.

Every path into the kernels must give the same bits: the checked fast path
(C-contiguous float64 single point), the validated slow path (any other
layout), the unchecked door, and a batch against its items one by one.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reludyn import landscape
from reludyn.landscape import unchecked


def _case(K, M, d, seed, mode):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((M, d))
    W = rng.standard_normal((K, d))
    if mode == "parallel":
        W[0] = 1.7 * V[0] + 1e-9 * rng.standard_normal(d)
    elif mode == "coincident" and K > 1:
        W[1] = W[0] * (1 + 1e-12)
    elif mode == "opposite":
        W[0] = -2.0 * V[0]
    return W, V


def _parts(name, result):
    """The arrays of one result: (J, ∇J) for loss_and_grad, else the result alone."""
    return list(result) if name == "loss_and_grad" else [result]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and np.array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(K=st.integers(1, 5), M=st.integers(1, 4), d=st.integers(1, 6), seed=st.integers(0, 10**6),
       mode=st.sampled_from(["random", "parallel", "coincident", "opposite"]))
def test_every_path_gives_the_same_bits(K, M, d, seed, mode):
    W, V = _case(K, M, d, seed, mode)
    Wf, Vf = np.asfortranarray(W), V.tolist()  # not fast-path inputs: validated slow path
    Vu = unchecked.teacher(V)
    Ws = np.stack([W, 0.5 * W + 0.1, W[::-1].copy()])
    for name in ("loss", "grad", "loss_and_grad", "hessian"):
        public, door = getattr(landscape, name), getattr(unchecked, name)
        fast = _parts(name, public(W, V))
        for other in (public(Wf, Vf), door(W, Vu)):
            for x, y in zip(fast, _parts(name, other)):
                _same(x, y)
        batch = _parts(name, public(Ws, V))
        items = [_parts(name, public(w, V)) for w in Ws]
        for i, part in enumerate(batch):
            _same(part, [it[i] for it in items])
            _same(_parts(name, door(Ws, Vu))[i], part)


def test_out_arguments_are_filled_in_place():
    W, V = _case(3, 2, 4, 7, "random")
    G = np.empty_like(W)
    assert unchecked.grad(W, V, out=G) is G
    _same(G, landscape.grad(W, V))
    G2 = np.empty_like(W)
    J, G3 = unchecked.loss_and_grad(W, V, out=G2)
    assert G3 is G2 and J == landscape.loss_and_grad(W, V)[0]
    H = np.empty((W.size, W.size))
    assert unchecked.hessian(W, V, out=H) is H
    _same(H, landscape.hessian(W, V))


def test_teacher_copies_only_when_needed():
    V = np.arange(6.0).reshape(2, 3) + 1
    assert unchecked.teacher(V) is V
    ro = V.copy()
    ro.flags.writeable = False
    for bad in (ro, np.asfortranarray(V), V.astype(np.float32), V.tolist()):
        out = unchecked.teacher(bad)
        assert out.flags.c_contiguous and out.flags.writeable and out.dtype == np.float64
        _same(out, V)


def test_hessian_fast_path_still_names_dead_rows():
    W, V = _case(3, 2, 4, 1, "random")
    W[1] = 1e-200  # squares underflow: np.linalg.norm says 0, so this row is dead too
    with pytest.raises(landscape.DeadRowError, match=r"\[1\]"):
        landscape.hessian(W, V)


def test_geometry_angles_match_numpy():
    W, V = _case(3, 2, 5, 3, "random")
    nrm, E, C, S, T = unchecked.geometry(W, V)
    X = np.vstack([W, V])
    np.testing.assert_allclose(nrm, np.linalg.norm(X, axis=1), rtol=1e-15)
    Eref = X / np.linalg.norm(X, axis=1, keepdims=True)
    cref = np.clip(Eref[:3] @ Eref.T, -1, 1)
    np.testing.assert_allclose(C[:, 3:], cref[:, 3:], atol=1e-15)
    np.testing.assert_allclose(T[:, 3:], np.arccos(cref[:, 3:]), atol=1e-14)
    np.testing.assert_allclose(S ** 2 + C ** 2, 1.0, atol=1e-14)
