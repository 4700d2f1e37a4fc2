"""Hessian spectrum with multiplicities at a point of Fix(Δ(S_{p1}×…×S_{pr})), by isotypic components.

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
dimension.  H·φ_i is a Hessian-vector product restricted to the component, computed
two ways: (default) in the fixed-point subspace of the finer group fixing the
singled-out indices, where it is the closed-form reduced Hessian of a finer block
structure — O(1) in K; or matrix-free on a few probe rows (:func:`hvp_rows`,
O(K·d) per row and vector: the d×d blocks H_jk are scalar·I plus rank-two terms in
e_{w_j}, e_{w_k}).  Neither forms the (Kd)² matrix; both are tested against the
dense spectrum.
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
        c = np.clip(Eu @ Ev.T, -1.0, 1.0)            # (R, n)
        # s = |e_v − c e_u| from the vectors (as kernels.angles.near_parallel_sin): accurate
        # near parallel rows, where sqrt(1 − c²) loses half the digits
        s = np.linalg.norm(Ev[None, :, :] - c[:, :, None] * Eu[:, None, :], axis=2)
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


def _component_specs(st: BlockStructure):
    """(label, irrep dim, split, copy functions) for every non-trivial isotypic component.

    ``split``: {block: n} — the first n indices of that block become singletons
    (the indices the highest-weight vectors single out); each copy function maps
    index arrays (I, J) to the entries of one copy vector φ(x).
    """
    p, off = st.blocks, st.offsets
    bl_off = np.asarray(off)

    def blk(I):
        return np.searchsorted(bl_off, I, side="right") - 1

    def e(idx):
        return lambda I: (np.asarray(I) == idx).astype(np.float64)

    specs = []
    for a in range(st.r):
        if p[a] < 2:
            continue
        a0 = off[a]

        def x(I, a0=a0):
            return e(a0)(I) - e(a0 + 1)(I)

        def inb(I, c):
            return (blk(I) == c).astype(np.float64)

        fns = [lambda I, J, a=a, x=x: (I == J) * inb(I, a) * x(I),
               lambda I, J, a=a, x=x: (I != J) * inb(I, a) * inb(J, a) * x(I)]
        if p[a] >= 3:
            fns.append(lambda I, J, a=a, x=x: (I != J) * inb(I, a) * inb(J, a) * x(J))
        for b in range(st.r):
            if b != a:
                fns.append(lambda I, J, a=a, b=b, x=x: inb(I, a) * inb(J, b) * x(I))
                fns.append(lambda I, J, a=a, b=b, x=x: inb(I, b) * inb(J, a) * x(J))
        specs.append((f"std_{a + 1}", p[a] - 1, {a: 2}, fns))
        for b in range(a + 1, st.r):
            if p[b] < 2:
                continue
            b0 = off[b]

            def y(I, b0=b0):
                return e(b0)(I) - e(b0 + 1)(I)

            specs.append((f"std_{a + 1}⊠std_{b + 1}", (p[a] - 1) * (p[b] - 1), {a: 2, b: 2},
                          [lambda I, J, x=x, y=y: x(I) * y(J),
                           lambda I, J, x=x, y=y: y(I) * x(J)]))
        if p[a] >= 4:
            def y2(I, a0=a0):
                return e(a0 + 2)(I) - e(a0 + 3)(I)
            specs.append((f"[{p[a] - 2},2]_{a + 1}", p[a] * (p[a] - 3) // 2, {a: 4},
                          [lambda I, J, x=x, y2=y2: x(I) * y2(J) + y2(I) * x(J)]))
            specs.append((f"[{p[a] - 2},1,1]_{a + 1}", (p[a] - 1) * (p[a] - 2) // 2, {a: 4},
                          [lambda I, J, x=x, y2=y2: x(I) * y2(J) - y2(I) * x(J)]))
        elif p[a] == 3:
            def cyc(I, J, a0=a0):
                di = (np.asarray(J) - np.asarray(I)) % 3
                inside = ((I >= a0) & (I < a0 + 3) & (J >= a0) & (J < a0 + 3))
                return inside * np.where(di == 1, 1.0, np.where(di == 2, -1.0, 0.0))
            specs.append((f"[1,1,1]_{a + 1}", 1, {a: 3}, [cyc]))
    return specs


def _refined(st: BlockStructure, split: dict) -> BlockStructure:
    blocks = []
    for c, pc in enumerate(st.blocks):
        k = split.get(c, 0)
        blocks += [1] * k + ([pc - k] if pc > k else [])
    return BlockStructure(tuple(blocks))


def isotypic_spectrum(structure: BlockStructure, theta, method: str = "reduced") -> list[IsotypicBlock]:
    """Eigenvalues of ∇²J at W(θ) per isotypic component (V = I_K, d = K).

    The trivial component uses the reduced Hessian: H on Fix(H) in the
    orthonormal basis B D^{-1/2} (D = orbit sizes) is D^{-1/2}(BᵀHB)D^{-1/2}.
    For the others H maps span{φ_i(x)} into itself, H Φ = Φ B:

    * ``method="reduced"`` (default, O(1) in K): the copies φ_i(x) are fixed by the
      subgroup H' fixing the singled-out indices (x = e_{a0} − e_{a1}, …), so they
      and Hφ_i lie in Fix(H'), a finer block structure (those indices as singleton
      blocks); there Hφ = B'D'⁻¹(B'ᵀHB')θ_φ with the closed-form reduced Hessian of
      the finer structure.
    * ``method="hvp"`` (O(K²)): matrix-free Hessian-vector products
      (:func:`hvp_rows`) on the probe rows, the first ≤ 3 rows of every block.

    B is the least-squares solution of Φ B = HΦ on those coordinates.
    """
    theta = structure._theta(theta)
    if method not in ("reduced", "hvp"):
        raise ValueError(f"method must be 'reduced' or 'hvp', got {method!r}")
    if np.any(structure.row_norms_sq(theta) <= 0.0):
        raise ValueError("the Hessian is not defined at a point with a zero row")
    K = structure.K
    Dh = 1.0 / np.sqrt(structure.orbit_sizes)
    Ht = Dh[:, None] * structure.reduced_hessian(theta) * Dh[None, :]
    blocks = [IsotypicBlock("triv", 1, np.linalg.eigvalsh(0.5 * (Ht + Ht.T)))]
    specs = _component_specs(structure)
    if method == "hvp":
        W = structure.embed(theta)
        I, J = np.meshgrid(np.arange(K), np.arange(K), indexing="ij")
        rows = sorted({int(structure.offsets[a] + i) for a in range(structure.r)
                       for i in range(min(structure.blocks[a], 3))})
    cache: dict = {}
    for label, dim, split, fns in specs:
        if method == "hvp":
            Phi = np.asarray([f(I, J) for f in fns])                   # (n, K, K)
            HPhi = hvp_rows(W, np.eye(K), Phi, rows)
            A = Phi[:, rows, :].reshape(len(fns), -1).T
            Bm = np.linalg.lstsq(A, HPhi.reshape(len(fns), -1).T, rcond=None)[0]
        else:
            key = tuple(sorted(split.items()))
            if key not in cache:
                fine = _refined(structure, split)
                rep = np.asarray(fine.representative_entries())
                th_f = theta[structure.entry_params(rep[:, 0], rep[:, 1])]
                Hf = fine.reduced_hessian(th_f) / fine.orbit_sizes[:, None]
                cache[key] = (rep, Hf)
            rep, Hf = cache[key]
            Theta = np.stack([f(rep[:, 0], rep[:, 1]) for f in fns], axis=1)   # (dim', n)
            Bm = np.linalg.lstsq(Theta, Hf @ Theta, rcond=None)[0]
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


def morse_index(blocks: list[IsotypicBlock], rtol: float = 1e-7) -> tuple[int, int]:
    """(index, nullity) counted with multiplicities; |λ| <= rtol·max|λ| counts as zero."""
    from .classify import index_nullity

    vals, mult = spectrum_with_multiplicities(blocks)
    return index_nullity(vals, rtol, mult)
