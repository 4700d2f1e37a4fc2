"""Baselines for the benchmarks: the closed form in plain vectorized NumPy and in JAX.

The NumPy version computes the angle matrix with arccos and broadcasting, the
way the paper's author code does. The JAX version jit-compiles the closed-form
loss and differentiates it with jax.grad / jax.hessian; its self terms κ(w, w)
are written as ‖w‖²/2 and arccos is evaluated at a masked safe value on the
diagonal, so the derivative is finite (otherwise the comparison is unfair).
"""
from __future__ import annotations

import numpy as np


def numpy_grad(W: np.ndarray, V: np.ndarray) -> np.ndarray:
    K = W.shape[0]
    X = np.vstack([W, V])
    nx = np.linalg.norm(X, axis=1)
    E = X / nx[:, None]
    C = np.clip(E[:K] @ E.T, -1.0, 1.0)
    T = np.arccos(C)
    S = np.sqrt(1.0 - C * C)
    coef = np.pi - T
    radial = S[:, :K] @ nx[:K] - S[:, K:] @ nx[K:]
    return (coef[:, :K] @ W - coef[:, K:] @ V + radial[:, None] * E[:K]) / (2 * np.pi)


def numpy_loss(W: np.ndarray, V: np.ndarray) -> float:
    K = W.shape[0]
    X = np.vstack([W, V])
    nx = np.linalg.norm(X, axis=1)
    E = X / nx[:, None]
    C = np.clip(E @ E.T, -1.0, 1.0)
    T = np.arccos(C)
    kap = np.outer(nx, nx) * (np.sqrt(1 - C * C) + (np.pi - T) * C) / (2 * np.pi)
    sign = np.r_[np.ones(K), -np.ones(V.shape[0])]
    return 0.5 * float(sign @ kap @ sign)


def make_jax(K: int):
    """Return (loss, grad, hessian) jitted JAX functions of W for a fixed teacher, or None."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def loss(W, V):
        X = jnp.vstack([W, V])
        n = X.shape[0]
        nx = jnp.sqrt(jnp.sum(X * X, axis=1))
        E = X / nx[:, None]
        eye = jnp.eye(n, dtype=bool)
        C = jnp.where(eye, 0.0, jnp.clip(E @ E.T, -1 + 1e-15, 1 - 1e-15))
        T = jnp.arccos(C)
        kap = jnp.outer(nx, nx) * (jnp.sqrt(1 - C * C) + (jnp.pi - T) * C) / (2 * jnp.pi)
        kap = jnp.where(eye, 0.5 * nx * nx, kap)
        sign = jnp.concatenate([jnp.ones(K), -jnp.ones(V.shape[0])])
        return 0.5 * sign @ kap @ sign

    return jax.jit(loss), jax.jit(jax.grad(loss)), jax.jit(jax.hessian(loss))
