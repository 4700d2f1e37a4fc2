"""Self-check: closed forms against Monte Carlo and finite differences on random problems."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .landscape import grad, hessian, loss
from .montecarlo import mc_grad, mc_loss


@dataclass
class CheckRow:
    """One problem's errors: Monte-Carlo |z| (error / standard error) and finite-difference max error."""

    K: int
    M: int
    d: int
    loss: float
    loss_z: float
    grad_max_z: float
    grad_fd_err: float
    hess_fd_err: float
    hess_asym: float

    @property
    def ok(self) -> bool:
        return (self.loss_z < 5 and self.grad_max_z < 5
                and self.grad_fd_err < 1e-6 and self.hess_fd_err < 1e-5 and self.hess_asym < 1e-12)


def finite_difference_grad(W, V, h: float = 1e-6) -> np.ndarray:
    """Central differences of the loss, (K, d)."""
    W = np.asarray(W, dtype=float)
    G = np.empty_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        G[idx] = (loss(W + E, V) - loss(W - E, V)) / (2 * h)
    return G


def finite_difference_hessian(W, V, h: float = 1e-6) -> np.ndarray:
    """Central differences of the gradient, (K·d, K·d), W flattened row-major."""
    W = np.asarray(W, dtype=float)
    n = W.size
    H = np.empty((n, n))
    for i in range(n):
        E = np.zeros(n)
        E[i] = h
        E = E.reshape(W.shape)
        H[:, i] = ((grad(W + E, V) - grad(W - E, V)) / (2 * h)).ravel()
    return H


def run_check(sizes=((1, 1, 2), (2, 2, 3), (3, 2, 5), (4, 5, 6)), n_samples: int = 400_000,
              seed: int = 0) -> list[CheckRow]:
    """For each (K, M, d): random Gaussian W, V from ``seed``; compare every closed form."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (K, M, d) in enumerate(sizes):
        W = rng.standard_normal((K, d))
        V = rng.standard_normal((M, d))
        J = loss(W, V)
        G = grad(W, V)
        H = hessian(W, V)
        el = mc_loss(W, V, n_samples, seed=seed + 1000 + i)
        eg = mc_grad(W, V, n_samples, seed=seed + 2000 + i)
        rows.append(CheckRow(
            K, M, d, J,
            float(abs(el.z(J))),
            float(np.abs(eg.z(G)).max()),
            float(np.abs(finite_difference_grad(W, V) - G).max()),
            float(np.abs(finite_difference_hessian(W, V) - H).max()),
            float(np.abs(H - H.T).max()),
        ))
    return rows


def format_table(rows: list[CheckRow]) -> str:
    head = (f"{'K':>3} {'M':>3} {'d':>3} {'loss':>10} {'MC |z| loss':>12} {'MC max|z| grad':>15}"
            f" {'FD err grad':>12} {'FD err Hess':>12} {'Hess asym':>10}  verdict")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.K:3d} {r.M:3d} {r.d:3d} {r.loss:10.4f} {r.loss_z:12.2f} {r.grad_max_z:15.2f}"
                     f" {r.grad_fd_err:12.2e} {r.hess_fd_err:12.2e} {r.hess_asym:10.1e}  "
                     f"{'ok' if r.ok else 'FAIL'}")
    return "\n".join(lines)
