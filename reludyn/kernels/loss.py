"""The population loss, assembled once from the angle layout of :mod:`.angles`.

    κ(u, v) = |u||v| (s + (π − θ) c) / (2π),
    J(W) = ½ Σ_{j,k} κ(w_j, w_k) − Σ_{j,m} κ(w_j, v_m) + ½ Σ_{m,n} κ(v_m, v_n).
"""
from __future__ import annotations

import math

from numba import njit

from .angles import TWO_PI, geometry


@njit(cache=True, error_model="numpy")
def loss_from_angles(K, nrm, C, S, T, teacher_energy):
    """J from norms (N,) and the student rows' cos/sin/angle (K, N) with [W; V].

    Student pairs (n < K) and student-teacher pairs (n >= K) are summed apart,
    each in row order; ``teacher_energy`` is the constant ½ Σ κ(v_m, v_n).
    """
    N = nrm.shape[0]
    ww = 0.0
    wv = 0.0
    for j in range(K):
        aj = nrm[j]
        ww += 0.5 * math.pi * aj * aj
        for n in range(j + 1, N):
            h = aj * nrm[n] * (S[j, n] + (math.pi - T[j, n]) * C[j, n])
            if n < K:
                ww += h
            else:
                wv += h
    return (ww - wv) / TWO_PI + teacher_energy


@njit(cache=True)
def teacher_energy_kernel(V):
    """½ Σ_{m,n} κ(v_m, v_n): the loss's constant term (the loss of W = V against no teacher)."""
    nrm, E, C, S, T = geometry(V, V[:0])
    return loss_from_angles(V.shape[0], nrm, C, S, T, 0.0)


@njit(cache=True)
def loss_with_energy(W, V, teacher_energy):
    """J(W) given ``teacher_energy`` = teacher_energy_kernel(V), precomputed once per V."""
    nrm, E, C, S, T = geometry(W, V)
    return loss_from_angles(W.shape[0], nrm, C, S, T, teacher_energy)


@njit(cache=True)
def loss_kernel(W, V):
    """J(W) for one student (K, d) and teacher (M, d)."""
    return loss_with_energy(W, V, teacher_energy_kernel(V))
