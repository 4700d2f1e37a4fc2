"""Monte-Carlo estimators over x ~ N(0, I_d): the independent oracle for the closed forms.

Samples are drawn in chunks from ``numpy.random.default_rng(seed)``, so memory
stays O(chunk · (d + K + M)) however many samples are requested, and the same
(seed, n, chunk) gives the same estimate. Standard errors are sample standard
deviations over √n, combined across chunks with Chan's pairwise update.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import as_float_array, check_finite, positive_int, student_weights, teacher_matrix


@dataclass
class MCEstimate:
    """Sample mean ``mean`` and its standard error ``se`` (same shape), from ``n`` samples."""

    mean: np.ndarray | float
    se: np.ndarray | float
    n: int

    def z(self, exact) -> np.ndarray:
        """(mean − exact)/se elementwise: the error in units of the standard error."""
        se = np.where(np.asarray(self.se) > 0, self.se, np.inf)
        return (np.asarray(self.mean) - exact) / se


class _Moments:
    """Running mean and sum of squared deviations, merged chunk by chunk."""

    def __init__(self):
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, samples: np.ndarray) -> None:
        nb = samples.shape[0]
        mb = samples.mean(axis=0)
        m2b = ((samples - mb) ** 2).sum(axis=0)
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta**2 * (self.n * nb / n)
        self.n = n

    def estimate(self) -> MCEstimate:
        var = self.m2 / max(self.n - 1, 1)
        return MCEstimate(self.mean, np.sqrt(var / self.n), self.n)


def _chunks(n: int, chunk: int):
    while n > 0:
        m = min(n, chunk)
        yield m
        n -= m


def _setup(W, V, n, chunk):
    V = teacher_matrix(V)
    Ws, batch = student_weights(W, V.shape[1])
    if batch:
        raise ValueError("Monte-Carlo estimators take a single W of shape (K, d)")
    return Ws[0], V, positive_int(n, "n", minimum=2), positive_int(chunk, "chunk")


def _residual(X, W, V):
    return np.maximum(X @ W.T, 0.0).sum(axis=1) - np.maximum(X @ V.T, 0.0).sum(axis=1)


def mc_loss(W, V, n: int = 1_000_000, seed: int = 0, chunk: int = 65_536) -> MCEstimate:
    """Estimate J(W) = ½ E[(g(x; W) − g(x; V))²] from n samples. W (K, d), V (M, d)."""
    W, V, n, chunk = _setup(W, V, n, chunk)
    rng = np.random.default_rng(seed)
    acc = _Moments()
    for m in _chunks(n, chunk):
        X = rng.standard_normal((m, V.shape[1]))
        acc.add(0.5 * _residual(X, W, V) ** 2)
    est = acc.estimate()
    return MCEstimate(float(est.mean), float(est.se), est.n)


def mc_grad(W, V, n: int = 1_000_000, seed: int = 0, chunk: int = 65_536) -> MCEstimate:
    """Estimate ∇_W J = E[(g(x; W) − g(x; V)) 1(Wx > 0) xᵀ] from n samples; mean, se are (K, d)."""
    W, V, n, chunk = _setup(W, V, n, chunk)
    rng = np.random.default_rng(seed)
    acc = _Moments()
    K, d = W.shape
    for m in _chunks(n, chunk):
        X = rng.standard_normal((m, d))
        r = _residual(X, W, V)
        gate = (X @ W.T > 0.0) * r[:, None]  # (m, K)
        acc.add((gate[:, :, None] * X[:, None, :]).reshape(m, K * d))
    est = acc.estimate()
    return MCEstimate(est.mean.reshape(K, d), est.se.reshape(K, d), est.n)


def mc_gating(e, w, n: int = 1_000_000, seed: int = 0, chunk: int = 65_536) -> MCEstimate:
    """Estimate E[x 1(eᵀx > 0) 1(wᵀx > 0) wᵀx] (the paper's gating lemma); mean, se are (d,)."""
    e = as_float_array(e, "e")
    w = as_float_array(w, "w")
    check_finite(e, "e")
    check_finite(w, "w")
    if e.ndim != 1 or e.shape != w.shape:
        raise ValueError(f"e and w must be vectors of the same length, got {e.shape} and {w.shape}")
    n = positive_int(n, "n", minimum=2)
    chunk = positive_int(chunk, "chunk")
    rng = np.random.default_rng(seed)
    acc = _Moments()
    for m in _chunks(n, chunk):
        X = rng.standard_normal((m, e.size))
        wx = X @ w
        acc.add(X * ((X @ e > 0) * (wx > 0) * wx)[:, None])
    return acc.estimate()
