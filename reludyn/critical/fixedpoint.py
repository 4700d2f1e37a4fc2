"""Fixed-point subspaces Fix(H) of diagonal isotropy groups and J restricted to them.

Setting: orthonormal teacher V = I_K, d = K, so J is invariant under
W ↦ P_π W P_ρᵀ for (π, ρ) ∈ S_K × S_K.  For a block structure p = (p_1, …, p_r),
Σ p_a = K, the diagonal subgroup H = Δ(S_{p_1} × … × S_{p_r}) permutes rows and
columns of block a by the same permutation.  Rows and columns are ordered block
by block.  W ∈ Fix(H) iff it is constant on the orbits of H on index pairs (i, j):

  * α_a  on the diagonal entries of block a (i = j ∈ a),
  * β_aa on the off-diagonal entries of block a (only when p_a ≥ 2),
  * β_ab on the whole (row-block a, column-block b) rectangle, a ≠ b,

so dim Fix(H) = r + r² − #{a : p_a = 1}: 5 for (K−1, 1), 2 for (K).  The
parameter vector θ lists α_1..α_r, then the β_ab in row-major (a, b) order.

Reduced loss.  With κ(u, v) written through A = |u|², B = |v|², C = u·v,

    κ = (S + (π − θ) C) / (2π),  S = √(AB − C²),  θ = atan2(S, C),

J = ½ Σ_jk κ(w_j, w_k) − Σ_jm κ(w_j, e_m) + const.  Rows of one block are
permutations of each other, so every (student, student) and (student, teacher)
pair belongs to one of O(r²) *pair types*, and A, B, C of a type are quadratic
(resp. linear) forms in θ whose coefficients count columns of each block.
J(θ) = const + Σ_types mult · F(A(θ), B(θ), C(θ)), with F's first and second
partial derivatives in closed form (below), so the cost grows with r, not K.

Metric: ``reduced_grad`` is the plain derivative ∂J/∂θ = Bᵀ∇J(W(θ)) where B
(K², dim) is the 0/1 embedding matrix (``embedding_matrix``); likewise
``reduced_hessian`` = Bᵀ ∇²J B.  Because ∇J(W) ∈ Fix(H) for W ∈ Fix(H)
(equivariance), ∇J(W) = B (BᵀB)⁻¹ ∂J/∂θ: the full gradient is recovered
exactly and a zero of the reduced gradient is a critical point of J
(principle of symmetric criticality).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

TWO_PI = 2.0 * math.pi

_TOKEN = re.compile(r"^\s*(?:(\d+)|[Kk]\s*(?:([+-])\s*(\d+))?)\s*$")


def parse_blocks(text: str, K: int | None = None) -> tuple[int, ...]:
    """Block sizes from a string such as ``"K-1,1"``, ``"K"``, ``"3,2,1"`` (K substituted).

    Also accepts the notation ``"Δ(S_5×S_1)"`` / ``"S_5xS_1"``.  Raises ValueError
    naming the problem when the string does not parse, a size is < 1, or the sizes
    do not add up to K (when K is given).
    """
    if not isinstance(text, str):
        raise TypeError(f"isotropy must be a string like 'K-1,1', got {type(text).__name__}")
    s = text.strip()
    m = re.fullmatch(r"(?:Δ|D|Delta)?\s*\(?\s*(S_?\{?[^()]*)\)?", s)
    if m and "S" in s:
        parts = re.split(r"[×x*]", m.group(1))
        s = ",".join(re.sub(r"^S_?\{?|\}$", "", p.strip()) for p in parts)
    tokens = [t for t in s.split(",")]
    if not s or any(not t.strip() for t in tokens):
        raise ValueError(f"cannot parse isotropy {text!r}: expected block sizes like 'K-1,1' or '3,2,1'")
    sizes = []
    for t in tokens:
        mt = _TOKEN.match(t)
        if not mt:
            raise ValueError(f"cannot parse isotropy {text!r}: bad block size {t.strip()!r} "
                             "(use integers, 'K' or 'K-<n>')")
        if mt.group(1) is not None:
            sizes.append(int(mt.group(1)))
        else:
            if K is None:
                raise ValueError(f"isotropy {text!r} mentions K but no K was given")
            off = int(mt.group(3) or 0)
            sizes.append(K + off if mt.group(2) == "+" else K - off)
    if any(p < 1 for p in sizes):
        raise ValueError(f"isotropy {text!r} gives a block size < 1 at K = {K}: {tuple(sizes)}")
    if K is not None and sum(sizes) != K:
        raise ValueError(f"isotropy {text!r}: block sizes {tuple(sizes)} add up to {sum(sizes)}, not K = {K}")
    return tuple(sizes)


def blocks_label(blocks) -> str:
    """Standard notation Δ(S_{p1}×…×S_{pr})."""
    return "Δ(" + "×".join(f"S_{p}" for p in blocks) + ")"


# ---------------------------------------------------------------- κ(A, B, C)
def _kappa_derivs(A, B, C, order=2):
    """F = κ as a function of A = |u|², B = |v|², C = u·v, and its partial derivatives.

    F_A = S/(4πA), F_B = S/(4πB), F_C = (π − θ)/(2π);
    F_AA = (2C² − AB)/(8πSA²), F_BB = (2C² − AB)/(8πSB²), F_AB = 1/(8πS),
    F_CC = 1/(2πS), F_AC = −C/(4πAS), F_BC = −C/(4πBS)   (S = √(AB − C²)).
    Arrays broadcast.  Returns (F, grad (…, 3), hess (…, 3, 3)).

    At (numerically) parallel or opposite pairs, S <= 1e-7·√(AB) (S = √(AB − C²) loses
    half its digits there), the second
    derivatives are set to 0 like the kernels' q qᵀ/s terms at s = 0: along
    directions keeping the pair parallel they cancel exactly, and the remaining
    Hessian is F_C ∇²C, the kernels' continuous limit.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    S = np.sqrt(np.maximum(A * B - C * C, 0.0))
    th = np.arctan2(S, C)
    F = (S + (math.pi - th) * C) / TWO_PI
    g = np.stack([S / (2 * TWO_PI * A), S / (2 * TWO_PI * B), (math.pi - th) / TWO_PI], axis=-1)
    if order < 2:
        return F, g, None
    par = S <= 1e-7 * np.sqrt(A * B)
    Ss = np.where(par, 1.0, S)
    t = 2 * C * C - A * B
    h = np.empty(A.shape + (3, 3))
    h[..., 0, 0] = t / (4 * TWO_PI * Ss * A * A)
    h[..., 1, 1] = t / (4 * TWO_PI * Ss * B * B)
    h[..., 0, 1] = h[..., 1, 0] = 1.0 / (4 * TWO_PI * Ss)
    h[..., 2, 2] = 1.0 / (TWO_PI * Ss)
    h[..., 0, 2] = h[..., 2, 0] = -C / (2 * TWO_PI * A * Ss)
    h[..., 1, 2] = h[..., 2, 1] = -C / (2 * TWO_PI * B * Ss)
    h[par] = 0.0
    return F, g, h


@dataclass(frozen=True)
class BlockStructure:
    """Fix(Δ(S_{p1}×…×S_{pr})) in R^{K×K} for V = I_K, d = K.  ``blocks``: (p_1, …, p_r)."""

    blocks: tuple[int, ...]

    def __post_init__(self):
        b = tuple(int(p) for p in self.blocks)
        if not b or any(p < 1 for p in b):
            raise ValueError(f"blocks must be positive integers, got {self.blocks!r}")
        object.__setattr__(self, "blocks", b)

    @classmethod
    def parse(cls, text: str, K: int) -> "BlockStructure":
        return cls(parse_blocks(text, K))

    @property
    def K(self) -> int:
        return sum(self.blocks)

    @property
    def r(self) -> int:
        return len(self.blocks)

    @property
    def label(self) -> str:
        return blocks_label(self.blocks)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        return tuple(int(x) for x in np.concatenate([[0], np.cumsum(self.blocks)[:-1]]))

    @cached_property
    def params(self) -> tuple:
        """Parameter names: ("a", a) for α_a, ("b", a, b) for β_ab."""
        out = [("a", a) for a in range(self.r)]
        for a in range(self.r):
            for b in range(self.r):
                if a != b or self.blocks[a] >= 2:
                    out.append(("b", a, b))
        return tuple(out)

    @property
    def dim(self) -> int:
        return len(self.params)

    @cached_property
    def _index(self) -> dict:
        return {p: i for i, p in enumerate(self.params)}

    def alpha(self, a: int) -> int:
        return self._index[("a", a)]

    def beta(self, a: int, b: int) -> int | None:
        return self._index.get(("b", a, b))

    @cached_property
    def block_of(self) -> np.ndarray:
        return np.repeat(np.arange(self.r), self.blocks)

    @cached_property
    def orbit_sizes(self) -> np.ndarray:
        """Number of entries of W carrying each parameter (the diagonal of BᵀB)."""
        p = self.blocks
        out = np.empty(self.dim)
        for i, name in enumerate(self.params):
            if name[0] == "a":
                out[i] = p[name[1]]
            else:
                a, b = name[1], name[2]
                out[i] = p[a] * (p[a] - 1) if a == b else p[a] * p[b]
        return out

    # ------------------------------------------------------- embedding
    @cached_property
    def index_matrix(self) -> np.ndarray:
        """(K, K) integer array: the parameter carried by each entry of W."""
        bl = self.block_of
        idx = np.empty((self.K, self.K), dtype=np.int64)
        for a in range(self.r):
            for b in range(self.r):
                if a != b or self.blocks[a] >= 2:
                    idx[np.ix_(bl == a, bl == b)] = self.beta(a, b)
        for i in range(self.K):
            idx[i, i] = self.alpha(bl[i])
        return idx

    def entry_param(self, i: int, j: int) -> int:
        """The parameter carried by entry (i, j) of W, in O(log r)."""
        a = int(np.searchsorted(self.offsets, i, side="right") - 1)
        b = int(np.searchsorted(self.offsets, j, side="right") - 1)
        return self.alpha(a) if i == j else self.beta(a, b)

    def entry_params(self, I, J) -> np.ndarray:
        """Vectorized :meth:`entry_param` over index arrays I, J."""
        I = np.asarray(I, dtype=np.int64)
        J = np.asarray(J, dtype=np.int64)
        off = np.asarray(self.offsets)
        a = np.searchsorted(off, I, side="right") - 1
        b = np.searchsorted(off, J, side="right") - 1
        beta = np.full((self.r, self.r), -1, dtype=np.int64)
        for (kind, *ab), i in self._index.items():
            if kind == "b":
                beta[ab[0], ab[1]] = i
        alpha = np.array([self.alpha(x) for x in range(self.r)], dtype=np.int64)
        return np.where(I == J, alpha[a], beta[a, b])

    def representative_entries(self) -> list[tuple[int, int]]:
        """One entry (i, j) of W per parameter, in parameter order."""
        off = self.offsets
        out = []
        for name in self.params:
            if name[0] == "a":
                out.append((off[name[1]], off[name[1]]))
            else:
                a, b = name[1], name[2]
                out.append((off[a], off[b] + 1) if a == b else (off[a], off[b]))
        return out

    def row_norms_sq(self, theta) -> np.ndarray:
        """|w_i|² for a row of each block (r,)."""
        t = self._theta(theta)
        p = self.blocks
        out = np.empty(self.r)
        for a in range(self.r):
            acc = t[self.alpha(a)] ** 2
            for c in range(self.r):
                n = p[c] - (c == a)
                if n:
                    acc += n * t[self.beta(a, c)] ** 2
            out[a] = acc
        return out

    def embed(self, theta) -> np.ndarray:
        """W (K, K) from θ (dim,)."""
        theta = self._theta(theta)
        return theta[self.index_matrix]

    def restrict(self, W) -> np.ndarray:
        """θ of the orthogonal projection of W (K, K) onto Fix(H) (orbit means)."""
        W = np.asarray(W, dtype=np.float64)
        if W.shape != (self.K, self.K):
            raise ValueError(f"W must have shape {(self.K, self.K)}, got {W.shape}")
        return np.bincount(self.index_matrix.ravel(), W.ravel(), self.dim) / self.orbit_sizes

    def embedding_matrix(self) -> np.ndarray:
        """B (K², dim): vec(W) = B θ (row-major vec)."""
        B = np.zeros((self.K * self.K, self.dim))
        B[np.arange(self.K * self.K), self.index_matrix.ravel()] = 1.0
        return B

    def distance_to_fix(self, W) -> float:
        W = np.asarray(W, dtype=np.float64)
        return float(np.max(np.abs(W - self.embed(self.restrict(W)))))

    def _theta(self, theta) -> np.ndarray:
        t = np.asarray(theta, dtype=np.float64)
        if t.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},) for {self.label}, got {t.shape}")
        return t

    # ------------------------------------------------------- pair types
    @cached_property
    def _types(self):
        """The pair types as small arrays.

        Row norms: A_a = θᵀ R_a θ (R: (r, P, P)).  Student pairs s (ordered, j ≠ k):
        multiplicity ms, row blocks (sa, sb), C = θᵀ Q_s θ (Q: (S, P, P)).  Teacher
        pairs t: multiplicity mt (negative: J has −κ), row block ta, C = θ[tc] (B = 1).
        """
        p, r, P = self.blocks, self.r, self.dim
        al = [self.alpha(a) for a in range(r)]
        be = [[self.beta(a, b) for b in range(r)] for a in range(r)]
        R = np.zeros((r, P, P))
        for a in range(r):
            R[a, al[a], al[a]] += 1.0
            for c in range(r):
                n = p[c] - (c == a)
                if n:
                    R[a, be[a][c], be[a][c]] += n
        Q = np.zeros((r * r, P, P))
        ms, sa, sb = [], [], []
        for a in range(r):
            for b in range(r):
                m = p[a] * (p[b] - (a == b))
                if m == 0:
                    continue
                q = Q[len(ms)]
                # column j (row j's own), column k (row k's own), then the rest of each block
                q[al[a], be[b][a]] += 0.5
                q[be[b][a], al[a]] += 0.5
                q[be[a][b], al[b]] += 0.5
                q[al[b], be[a][b]] += 0.5
                for c in range(r):
                    n = p[c] - (c == a) - (c == b)
                    if n:
                        q[be[a][c], be[b][c]] += 0.5 * n
                        q[be[b][c], be[a][c]] += 0.5 * n
                ms.append(0.5 * m)                     # J carries ½ Σ_{j≠k}
                sa.append(a)
                sb.append(b)
        Q = Q[:len(ms)]
        mt, ta, tc = [], [], []
        for a in range(r):
            for b in range(r):
                for own in ((True, False) if a == b else (False,)):
                    m = p[a] if own else p[a] * (p[b] - (a == b))
                    if m:
                        mt.append(-float(m))
                        ta.append(a)
                        tc.append(al[a] if own else be[a][b])
        self_w = 0.25 * np.asarray(p, dtype=np.float64)   # ½ Σ_j κ(w_j, w_j) = ¼ Σ_j |w_j|²
        ix = np.int64
        return (R, Q, np.array(ms, dtype=np.float64), np.array(sa, dtype=ix), np.array(sb, dtype=ix),
                np.array(mt, dtype=np.float64), np.array(ta, dtype=ix), np.array(tc, dtype=ix), self_w)

    @property
    def teacher_energy(self) -> float:
        K = self.K
        return 0.5 * (0.5 * K + K * (K - 1) / TWO_PI)

    # ------------------------------------------------------- J restricted
    def _eval(self, theta, order):
        t = self._theta(theta)
        R, Q, ms, sa, sb, mt, ta, tc, self_w = self._types
        r, P = R.shape[0], len(t)
        S = Q.shape[0]
        Rt = R @ t                                    # (r, P): ½∇A_a
        Ar = Rt @ t
        Qt = Q @ t                                    # (S, P): ½∇C_s
        A = np.concatenate([Ar[sa], Ar[ta]])
        B = np.concatenate([Ar[sb], np.ones(len(mt))])
        C = np.concatenate([Qt @ t, t[tc]])
        mult = np.concatenate([ms, mt])
        F, g, h = _kappa_derivs(A, B, C, order)
        val = float(mult @ F + self_w @ Ar + self.teacher_energy)
        if order == 0:
            return val, None, None
        nT = len(mt)
        eC = np.zeros((nT, P))
        eC[np.arange(nT), tc] = 1.0
        D = np.empty((S + nT, 3, P))                  # ∇A, ∇B, ∇C per type
        D[:, 0] = 2 * np.concatenate([Rt[sa], Rt[ta]])
        D[:S, 1] = 2 * Rt[sb]
        D[S:, 1] = 0.0
        D[:S, 2] = 2 * Qt
        D[S:, 2] = eC
        mg = mult[:, None] * g
        grad = np.einsum("ti,tip->p", mg, D) + 2 * self_w @ Rt
        if order == 1:
            return val, grad, None
        hD = np.matmul(h, D)
        T = S + nT
        hess = (mult[:, None, None] * D).reshape(T * 3, P).T @ hD.reshape(T * 3, P)
        wR = (np.bincount(np.concatenate([sa, ta]), np.concatenate([mg[:S, 0], mg[S:, 0]]), r)
              + np.bincount(sb, mg[:S, 1], r) + self_w)
        hess += 2 * np.tensordot(wR, R, 1)
        hess += 2 * np.tensordot(mg[:S, 2], Q, 1)
        return val, grad, 0.5 * (hess + hess.T)

    def reduced_loss(self, theta) -> float:
        """J(W(θ)) in O(r²·dim²) operations."""
        return self._eval(theta, 0)[0]

    def reduced_grad(self, theta) -> np.ndarray:
        """∂J/∂θ = Bᵀ∇J(W(θ)) (dim,)."""
        return self._eval(theta, 1)[1]

    def reduced_loss_grad(self, theta):
        v, g, _ = self._eval(theta, 1)
        return v, g

    def reduced_hessian(self, theta) -> np.ndarray:
        """∂²J/∂θ² = Bᵀ∇²J(W(θ))B (dim, dim)."""
        return self._eval(theta, 2)[2]

    def full_grad(self, theta) -> np.ndarray:
        """∇J(W(θ)) (K, K) from the reduced gradient: B (BᵀB)⁻¹ ∂J/∂θ."""
        g = self.reduced_grad(theta) / self.orbit_sizes
        return g[self.index_matrix]


# ------------------------------------------------------------ root finding
@dataclass(frozen=True)
class ReducedSolveSettings:
    """Newton on ∂J/∂θ = 0: ``tol`` on max|∂J/∂θ / orbit size| (= max-entry of ∇J)."""

    tol: float = 1e-12
    max_iter: int = 100


@dataclass
class ReducedResult:
    theta: np.ndarray
    loss: float
    grad_norm: float      # max |∇J| entry of the embedded point
    iterations: int
    success: bool


def solve_reduced(structure: BlockStructure, theta0, settings: ReducedSolveSettings = ReducedSolveSettings()
                  ) -> ReducedResult:
    """Damped Newton for a critical point of J on Fix(H), from θ0 (dim,).

    The step solves H_red δ = −g (least squares when singular); a backtracking
    search on ‖g/orbit‖ accepts it, else a Levenberg–Marquardt step is tried.
    Critical points of any index are found (this is root finding, not descent).
    """
    t = structure._theta(theta0).copy()
    w = structure.orbit_sizes

    def gnorm(x):
        g = structure.reduced_grad(x)
        return float(np.max(np.abs(g / w))), g

    gn, g = gnorm(t)
    it = 0
    while it < settings.max_iter and gn > settings.tol and np.all(np.isfinite(t)):
        it += 1
        H = structure.reduced_hessian(t)
        try:
            step = np.linalg.solve(H, -g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, -g, rcond=None)[0]
        accepted = False
        for lam in (0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
            if lam:
                HtH = H.T @ H
                step = np.linalg.solve(HtH + lam * np.trace(HtH) / len(t) * np.eye(len(t)), -H.T @ g)
            for f in (1.0, 0.5, 0.25, 0.1):
                x = t + f * step
                if np.any(structure.row_norms_sq(x) <= 1e-24):
                    continue
                try:
                    gx, g2 = gnorm(x)
                except FloatingPointError:
                    continue
                if np.isfinite(gx) and gx < gn:
                    t, gn, g, accepted = x, gx, g2, True
                    break
            if accepted:
                break
        if not accepted:
            break
    return ReducedResult(theta=t, loss=structure.reduced_loss(t) if np.all(np.isfinite(t)) else np.nan,
                         grad_norm=gn, iterations=it, success=bool(gn <= settings.tol))


def fixed_point_seeds(structure: BlockStructure, n: int, seed: int, scale: float = 1.0,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """(n, dim) starting parameters: diagonal entries ~ ±U(0, 1.2), off-diagonal ~ N(0, 1/K)
    (scaled); drawn from ``rng`` when given, else from a generator seeded by ``seed``."""
    if rng is None:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 13, structure.dim]))
    th = rng.normal(0.0, 1.0 / math.sqrt(structure.K), size=(n, structure.dim))
    for a in range(structure.r):
        th[:, structure.alpha(a)] = rng.uniform(-1.2, 1.2, size=n)
    return scale * th


def find_reduced_critical_points(structure: BlockStructure, n_starts: int = 64, seed: int = 0,
                                 settings: ReducedSolveSettings = ReducedSolveSettings(),
                                 dedup_tol: float = 1e-7) -> list[ReducedResult]:
    """Critical points of J on Fix(H) from ``n_starts`` seeded starts, deduplicated, sorted by loss.

    Two parameter vectors are the same point when their embedded W agree within
    ``dedup_tol`` (max entry); coincident rows are not merged here.
    """
    found: list[ReducedResult] = []
    for th0 in fixed_point_seeds(structure, n_starts, seed):
        with np.errstate(all="ignore"):
            res = solve_reduced(structure, th0, settings)
        if not res.success:
            continue
        if any(np.max(np.abs(res.theta - f.theta)) <= dedup_tol * max(1.0, np.max(np.abs(f.theta)))
               for f in found):
            continue
        found.append(res)
    found.sort(key=lambda r: r.loss)
    return found
