"""The Safran–Shamir "type A" spurious minima of k = n (V = I_k) as float points.

Type A has isotropy Δ(S_{k−1} × S_1) (Arjevani & Field), so it lies in the 5-parameter
family W[i,i] = a, W[i,j] = b (i ≠ j < k−1), W[i,k−1] = c, W[k−1,j] = e, W[k−1,k−1] = f.
That family is a fixed-point set of a symmetry group of J, so a zero of the gradient
projected on it is a critical point of J (symmetric criticality); we solve the 5 equations
by Newton from the continuation start below, then Newton-polish in the full space.
The starts (a, b, c, e, f) at k = 6, 20 were located by minimising J on the family from random
starts; its losses match the published ones (k = 6: 0.0250805810, 10: 0.0187021946,
20: 0.0112755819), which the tests check.
"""
from __future__ import annotations

import numpy as np

# (a, b, c, e, f) of type A at k = 6 and k = 20 (8 digits); other k continue from the
# nearest start below
_STARTS = {6: (0.98670382, -0.0504134, 0.30801099, 0.22451581, -0.60151192),
           20: (1.00300375, -0.00365514, 0.09318741, 0.06371471, -0.81002058)}


def type_a_matrix(params, k: int) -> np.ndarray:
    """W (k, k) of the Δ(S_{k−1} × S_1) ansatz with params (a, b, c, e, f)."""
    a, b, c, e, f = (float(x) for x in params)
    W = np.full((k, k), b)
    np.fill_diagonal(W, a)
    W[: k - 1, k - 1] = c
    W[k - 1, : k - 1] = e
    W[k - 1, k - 1] = f
    return W


def _solve(k: int, p: np.ndarray, iters: int = 50) -> np.ndarray:
    from ..landscape import grad, hessian

    V = np.eye(k)
    basis = np.stack([(type_a_matrix(np.eye(5)[i], k) - type_a_matrix(np.zeros(5), k)).ravel()
                      for i in range(5)])
    for _ in range(iters):
        W = type_a_matrix(p, k)
        g = basis @ grad(W, V).ravel()
        if np.abs(g).max() < 1e-15:
            break
        Jm = basis @ hessian(W, V) @ basis.T
        p = p - np.linalg.solve(Jm, g)
    return p


def type_a_minimum(k: int) -> np.ndarray:
    """Float type-A critical point (k, k) for V = I_k, 6 <= k <= 20, gradient ~1e-15."""
    from ..newton import newton_polish

    if not (isinstance(k, int) and 6 <= k <= 20):
        raise ValueError(f"k must be an integer in [6, 20], got {k!r}")
    k0 = max(kk for kk in _STARTS if kk <= k)
    p = np.array(_STARTS[k0])
    for kk in range(k0, k + 1):
        p = _solve(kk, p)
    res = newton_polish(type_a_matrix(p, k), np.eye(k), tol=1e-14)
    return res.W
