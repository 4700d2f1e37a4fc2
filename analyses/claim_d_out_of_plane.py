"""Claim d (paper claim 3): out-of-plane critical points are not isolated.

For K = M = 2 (orthonormal teacher, the plane span(e_1, e_2)) and d = 3..8 the catalogue of
critical points (reludyn.critical.find_critical_points) is searched for points with rows off
the teacher plane. For each such point we measure (i) the nullity of the Hessian against d;
(ii) the dimension of the orbit of the point under rotations of the orthogonal complement,
n(n−1)/2 − (n−k)(n−k−1)/2 with n = d − 2 and k the rank of the out-of-plane parts (the paper's
manifold); (iii) that H t = 0 for every tangent vector t of that orbit; and (iv) that random
rotations of the complement keep ∇J = 0. The paper's claim: manifolds for d ≥ K + 2.
"""
from __future__ import annotations

import time

import numpy as np

from analyses import common
from reludyn import Problem, grad, hessian

NAME = "claim_d_out_of_plane"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--dims", type=common.int_list, default=None, help="d values (default 3-8)")
    p.add_argument("--seeds", type=int, default=None, help="critical-point seeds per d (default 400; --fast 80)")
    return p.parse_args(argv)


def orbit_dimension(n: int, k: int) -> int:
    """dim of the SO(n) orbit of k linearly independent vectors in R^n."""
    return n * (n - 1) // 2 - (n - k) * (n - k - 1) // 2


def orbit_tangents(W: np.ndarray, M: int) -> np.ndarray:
    """Tangent vectors (T, K·d) of W under rotations of coordinates M..d−1 (the complement)."""
    K, d = W.shape
    out = []
    for a in range(M, d):
        for b in range(a + 1, d):
            A = np.zeros((d, d))
            A[a, b], A[b, a] = 1.0, -1.0
            out.append((W @ A.T).ravel())
    return np.array(out) if out else np.zeros((0, K * d))


def random_complement_rotation(rng, d: int, M: int) -> np.ndarray:
    Q = np.eye(d)
    n = d - M
    if n > 0:
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        Q[M:, M:] = q * np.sign(np.diag(r))
    return Q


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    from reludyn.critical import SeedSettings, find_critical_points

    dims = args.dims or list(range(3, 9))
    seeds = args.seeds or (80 if args.fast else 400)
    if min(dims) < 3:
        raise ValueError("out-of-plane points need d >= 3")
    rng = np.random.default_rng(args.seed)
    rows = []
    for d in dims:
        pb = Problem.orthonormal(2, d)
        cat = find_critical_points(pb, SeedSettings(n_seeds=seeds, seed=args.seed))
        for e in cat.entries:
            if e.in_plane or e.dead_rows:
                continue
            W = np.asarray(e.W)
            outp = W[:, 2:]
            k = int(np.linalg.matrix_rank(outp, tol=1e-8 * max(1.0, np.abs(W).max())))
            pred = orbit_dimension(d - 2, k)
            H = hessian(W, pb.V)
            T = orbit_tangents(W, 2)
            t_rank = int(np.linalg.matrix_rank(T, tol=1e-9)) if T.size else 0
            HT = float(np.max(np.abs(H @ T.T))) if T.size else 0.0
            g_rot = max(float(np.linalg.norm(grad(W @ random_complement_rotation(rng, d, 2).T, pb.V)))
                        for _ in range(5))
            rows.append({"d": d, "loss": float(e.loss), "kind": e.kind, "index": int(e.index),
                         "nullity": int(e.nullity), "plane_distance": float(e.plane_distance),
                         "out_of_plane_rank": k, "predicted_orbit_dim": pred,
                         "tangent_rank": t_rank, "max_abs_H_tangent": HT,
                         "grad_norm": float(e.grad_norm), "max_grad_after_rotation": g_rot,
                         "hits": int(e.hits), "catalogue_symmetry_zero_modes": int(e.symmetry_zero_modes)})
        common.log(args, f"  d = {d}: {len(cat)} critical points, "
                   f"{sum(1 for r in rows if r['d'] == d)} off the plane")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    losses = sorted({round(r["loss"], 6) for r in rows})
    for J, mk in zip(losses, "osd^v<>p"):
        sel = [r for r in rows if round(r["loss"], 6) == J]
        ax.plot([r["d"] for r in sel], [r["nullity"] for r in sel], mk, ms=8, mfc="none",
                label=f"found, J = {J:.4f} (k = {sel[0]['out_of_plane_rank']})")
        ax.plot([r["d"] for r in sel], [r["predicted_orbit_dim"] for r in sel], "k" + mk, ms=3,
                label="rotation-orbit dimension" if J == losses[0] else None)
    ax.axvline(2 + 2 - 0.5, color="0.6", ls=":", lw=1)
    ax.text(4 - 0.45, 0.2, "d ≥ K + 2", fontsize=8, color="0.4")
    ax.set_xlabel("d")
    ax.set_ylabel("Hessian nullity")
    ax.set_title("Claim d: out-of-plane critical points, K = M = 2")
    ax.legend(fontsize=7)
    fig1 = common.savefig(fig, out, "claim_d_out_of_plane.png")

    found = bool(rows)
    match = all(r["nullity"] == r["predicted_orbit_dim"] == r["tangent_rank"] for r in rows)
    flat = all(r["max_abs_H_tangent"] < 1e-8 and r["max_grad_after_rotation"] < 1e-8 for r in rows)
    manifold_ds = sorted({r["d"] for r in rows if r["nullity"] > 0})
    ok = found and match and flat
    measured = (f"{len(rows)} out-of-plane critical points over d = {dims[0]}..{dims[-1]} "
                f"(J = {', '.join(f'{J:.5f}' for J in losses)}); Hessian nullity = rotation-orbit "
                f"dimension = rank of orbit tangents for all: {match} ("
                + ", ".join(f"d={r['d']}: {r['nullity']}" for r in rows[:8])
                + f"); H·tangent ≈ 0 and ∇J = 0 after random rotations (≤1e-8): {flat}; positive "
                  f"nullity for d ∈ {manifold_ds}")
    return common.finish(
        out, NAME, claim="d", title="out-of-plane critical manifolds, K = 2, d = 3..8",
        figures=[fig1], measured=measured,
        verdict=(common.REPRODUCED if ok else common.NOT_REPRODUCED) if found else common.NOT_REPRODUCED,
        numbers={"rows": rows, "seeds": seeds, "dims": dims}, t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
