"""Hessian spectrum with multiplicities at a point of Fix(Δ(S_{p1}×…×S_{pr})) from its isotypic decomposition.

The Hessian H at W ∈ Fix(H_p) commutes with the action of G = S_{p1}×…×S_{pr}
(rows and columns permuted together).  With R^{p} = triv ⊕ std for each block,
R^{K×K} = ⊕_{a,b} R^{p_a} ⊗ R^{p_b} splits into these isotypic components
(irreducible for G, dimension, number of copies):

  * triv, 1, dim Fix = r + r² − #{p_a = 1}          (H restricted: the reduced Hessian)
  * std_a, p_a − 1, 2r + 1 (2r when p_a = 2)         copies: diagonal of (a, a), off-diagonal
    row-indexed and column-indexed, (a, b) row-indexed and (b, a) column-indexed, b ≠ a
  * std_a ⊠ std_b (a < b), (p_a − 1)(p_b − 1), 2      copies: x⊗y on (a, b), y⊗x on (b, a)
  * [p_a−2, 2], p_a(p_a−3)/2, 1 (p_a ≥ 4)             symmetric zero-sum matrices in (a, a)
  * [p_a−2, 1, 1], (p_a−1)(p_a−2)/2, 1 (p_a ≥ 3)      antisymmetric zero-sum matrices in (a, a)

For type A, Δ(S_{K−1}×S_1), that is 5 + 5 + 1 + 1 = 12 distinct eigenvalues.
By Schur's lemma H maps the copy φ_i(x) of a "highest-weight" vector x
(x = e_{a0} − e_{a1}, …) to Σ_j B_ji φ_j(x); the eigenvalues of the small
matrix B are those of H on the component, each with multiplicity the irrep's
dimension.  B comes from Hessian-vector products evaluated only on a few
probe rows (:func:`hvp_rows`, O(K·d) per row and vector, matrix-free: the d×d
blocks H_jk are scalar·I plus rank-two terms in e_{w_j}, e_{w_k}), so the cost
per K is O(r·K²) and the (Kd)² matrix is never formed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fixedpoint import BlockStructure

TWO_PI = 2.0 * math.pi


def hvp_rows(W: np.ndarray, V: np.ndarray, vecs: np.ndarray, rows) -> np.ndarray:
    """Rows ``rows`` of H·v for each v in ``vecs`` (n, K, d): returns (n, len(rows), d).

    Uses the kernels' block formulas (see :mod:`reludyn.kernels`):
      H_jj = ½I + Σ_{k≠j} D(w_j; w_k) − Σ_m D(w_j; v_m),
      D(u; v) = |v|/(2π|u|)[s(I − e_u e_uᵀ) + q qᵀ/s],  q = e_v − c e_u,
      H_jk = [(π − θ)I + s e_j e_kᵀ + q rᵀ/s]/(2π),  q = e_k − c e_j,  r = e_j − c e_k.
    Rows of W must be nonzero.
    """
    W = np.asarray(W, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    vecs = np.asarray(vecs, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    a = np.linalg.norm(W, axis=1)
    E = W / a[:, None]
    bv = np.linalg.norm(V, axis=1)
    EV = V / np.where(bv > 0, bv, 1.0)[:, None]
    Ej = E[rows]                                     # (R, d)

    def angles(Eu, Ev):
        c = np.clip(Ej @ Ev.T, -1.0, 1.0)            # (R, n)
        # s = |e_v − c e_u| is accurate near parallel rows
        s = np.sqrt(np.maximum(np.einsum("nd,nd->n", Ev, Ev)[None, :]
                               - 2 * c * (Ej @ Ev.T) + c * c, 0.0))
        return c, s, np.arctan2(s, c)

    c, s, th = angles(Ej, E)
    cm, sm, _ = angles(Ej, EV)
    R = len(rows)
    self_mask = np.zeros_like(c, dtype=bool)
    self_mask[np.arange(R), rows] = True
    s_safe = np.where(s > 1e-14, s, np.inf)
    sm_safe = np.where(sm > 1e-14, sm, np.inf)

    vj = vecs[:, rows, :]                            # (n, R, d)
    ejvj = np.einsum("nrd,rd->nr", vj, Ej)           # e_j·v_j
    x = vj @ E.T                                     # (n, R, K): e_k·v_j
    xm = vj @ EV.T                                   # (n, R, M)
    y = np.einsum("nkd,rd->nrk", vecs, Ej)           # e_j·v_k
    z = np.einsum("nkd,kd->nk", vecs, E)             # e_k·v_k

    out = 0.5 * vj
    # diagonal block, student partners
    f = np.where(self_mask, 0.0, a[None, :] / (TWO_PI * a[rows, None]))   # (R, K)
    fs = (f * s).sum(1)                                                    # (R,)
    out = out + fs[None, :, None] * (vj - Ej[None] * ejvj[..., None])
    h = (f / s_safe)[None] * (x - c[None] * ejvj[..., None])               # (n, R, K)
    out = out + h @ E - (h * c[None]).sum(-1)[..., None] * Ej[None]
    # diagonal block, teacher partners (sign −)
    fm = bv[None, :] / (TWO_PI * a[rows, None])                            # (R, M)
    fsm = (fm * sm).sum(1)
    out = out - fsm[None, :, None] * (vj - Ej[None] * ejvj[..., None])
    hm = (fm / sm_safe)[None] * (xm - cm[None] * ejvj[..., None])
    out = out - (hm @ EV - (hm * cm[None]).sum(-1)[..., None] * Ej[None])
    # off-diagonal blocks H_jk v_k
    wgt = np.where(self_mask, 0.0, (math.pi - th) / TWO_PI)                # (R, K)
    out = out + np.einsum("rk,nkd->nrd", wgt, vecs)
    ss = np.where(self_mask, 0.0, s / TWO_PI)
    out = out + (ss[None] * z[:, None, :]).sum(-1)[..., None] * Ej[None]
    u = np.where(self_mask[None], 0.0, (y - c[None] * z[:, None, :]) / (TWO_PI * s_safe[None]))
    out = out + u @ E - (u * c[None]).sum(-1)[..., None] * Ej[None]
    return out


@dataclass
class IsotypicBlock:
    """One isotypic component: irrep ``label``, its dimension, the eigenvalues of H on it."""

    label: str
    dim: int
    eigenvalues: np.ndarray

    @property
    def copies(self) -> int:
        return len(self.eigenvalues)


def _components(st: BlockStructure):
    """(label, irrep dim, list of (K, K) copy vectors, probe rows) for every non-trivial component."""
    K, p, off = st.K, st.blocks, st.offsets
    bl = st.block_of
    out = []

    def idx(a):
        return np.arange(off[a], off[a] + p[a])

    probe_rows = sorted({int(off[a] + i) for a in range(st.r) for i in range(min(p[a], 3))})
    for a in range(st.r):
        if p[a] < 2:
            continue
        a0, a1 = off[a], off[a] + 1
        xa = np.zeros(K)
        xa[a0], xa[a1] = 1.0, -1.0
        ina = bl == a
        vecs = []
        v = np.zeros((K, K)); v[a0, a0], v[a1, a1] = 1.0, -1.0
        vecs.append(v)
        offd = np.outer(ina, ina) & ~np.eye(K, dtype=bool)
        vecs.append(np.where(offd, xa[:, None], 0.0))            # row-indexed
        if p[a] >= 3:
            vecs.append(np.where(offd, xa[None, :], 0.0))        # column-indexed
        for b in range(st.r):
            if b == a:
                continue
            inb = bl == b
            vecs.append(np.where(np.outer(ina, inb), xa[:, None], 0.0))
            vecs.append(np.where(np.outer(inb, ina), xa[None, :], 0.0))
        out.append((f"std_{a + 1}", p[a] - 1, vecs, probe_rows))
        for b in range(a + 1, st.r):
            if p[b] < 2:
                continue
            yb = np.zeros(K)
            yb[off[b]], yb[off[b] + 1] = 1.0, -1.0
            u1 = np.outer(xa, yb)
            out.append((f"std_{a + 1}⊠std_{b + 1}", (p[a] - 1) * (p[b] - 1), [u1, u1.T.copy()],
                        probe_rows))
        ia = idx(a)
        if p[a] >= 4:
            x = np.zeros(K); x[ia[0]], x[ia[1]] = 1.0, -1.0
            y = np.zeros(K); y[ia[2]], y[ia[3]] = 1.0, -1.0
            out.append((f"[{p[a] - 2},2]_{a + 1}", p[a] * (p[a] - 3) // 2,
                        [np.outer(x, y) + np.outer(y, x)], probe_rows))
            out.append((f"[{p[a] - 2},1,1]_{a + 1}", (p[a] - 1) * (p[a] - 2) // 2,
                        [np.outer(x, y) - np.outer(y, x)], probe_rows))
        elif p[a] == 3:
            m = np.zeros((K, K))
            i0, i1, i2 = ia
            m[i0, i1], m[i1, i2], m[i2, i0] = 1.0, 1.0, 1.0
            m[i1, i0], m[i2, i1], m[i0, i2] = -1.0, -1.0, -1.0
            out.append(("[1,1,1]_%d" % (a + 1), 1, [m], probe_rows))
    return out


def isotypic_spectrum(structure: BlockStructure, theta) -> list[IsotypicBlock]:
    """Eigenvalues of ∇²J at W(θ) per isotypic component (V = I_K, d = K).

    The trivial component uses the reduced Hessian: H on Fix(H) in the
    orthonormal basis B D^{-1/2} (D = orbit sizes) is D^{-1/2}(BᵀHB)D^{-1/2}.
    The others use :func:`hvp_rows` on the probe rows (first ≤ 3 rows of every
    block) and solve Φ[probe] B = (HΦ)[probe] by least squares.
    """
    theta = structure._theta(theta)
    W = structure.embed(theta)
    if np.any(np.linalg.norm(W, axis=1) == 0.0):
        raise ValueError("the Hessian is not defined at a point with a zero row")
    K = structure.K
    V = np.eye(K)
    Dh = 1.0 / np.sqrt(structure.orbit_sizes)
    Ht = Dh[:, None] * structure.reduced_hessian(theta) * Dh[None, :]
    blocks = [IsotypicBlock("triv", 1, np.linalg.eigvalsh(0.5 * (Ht + Ht.T)))]
    for label, dim, vecs, rows in _components(structure):
        Phi = np.asarray(vecs)                                   # (n, K, K)
        HPhi = hvp_rows(W, V, Phi, rows)                         # (n, R, K)
        A = Phi[:, rows, :].reshape(len(vecs), -1).T             # (R·K, n)
        Bm = np.linalg.lstsq(A, HPhi.reshape(len(vecs), -1).T, rcond=None)[0]
        ev = np.linalg.eigvals(Bm)
        blocks.append(IsotypicBlock(label, dim, np.sort(ev.real)))
    return blocks


def spectrum_with_multiplicities(blocks: list[IsotypicBlock]) -> tuple[np.ndarray, np.ndarray]:
    """(distinct eigenvalues ascending, their multiplicities) from :func:`isotypic_spectrum`."""
    vals = np.concatenate([b.eigenvalues for b in blocks])
    mult = np.concatenate([np.full(b.copies, b.dim) for b in blocks])
    order = np.argsort(vals, kind="stable")
    return vals[order], mult[order]


def expand_spectrum(blocks: list[IsotypicBlock]) -> np.ndarray:
    """The full (K², ) spectrum, ascending, each eigenvalue repeated by its multiplicity."""
    vals, mult = spectrum_with_multiplicities(blocks)
    return np.repeat(vals, mult)


def morse_index(blocks: list[IsotypicBlock], rtol: float = 1e-9) -> tuple[int, int]:
    """(index, nullity) counted with multiplicities; |λ| <= rtol·max|λ| counts as zero."""
    vals, mult = spectrum_with_multiplicities(blocks)
    tol = rtol * max(1.0, float(np.max(np.abs(vals))))
    return int(mult[vals < -tol].sum()), int(mult[np.abs(vals) <= tol].sum())
