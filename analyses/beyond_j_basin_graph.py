"""Beyond the paper (j): the basin graph for K = M = d = 6 and 8 (orthonormal teacher).

Critical points are catalogued (reludyn.critical.find_critical_points, symmetric and GD
seeds); from every saddle we push off along its most unstable Hessian eigenvectors (and
random unstable combinations), ±ε, and follow GD to the entry it reaches
(reludyn.basins.push_from_saddles); Xavier starts give the basin fraction of each minimum.
The graph shows which saddles feed which minima. Sanity check measured: every edge goes
down in loss.
"""
from __future__ import annotations

import time

import numpy as np

from analyses import common
from reludyn import Problem
from reludyn.plots.graphdraw import format_loss

NAME = "beyond_j_basin_graph"


def parse(argv):
    p = common.make_parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=common.int_list, default=[6, 8], help="K = M = d values (default 6,8)")
    p.add_argument("--seeds", type=int, default=None, help="critical-point seeds (default 200; --fast 40)")
    p.add_argument("--max-eig", type=int, default=None, help="eigen-directions pushed per saddle (default 8; --fast 3)")
    p.add_argument("--n-random", type=int, default=None, help="random unstable directions per saddle (default 6; --fast 1)")
    p.add_argument("--n-basin", type=int, default=None, help="Xavier starts for basin fractions (default 1000; --fast 100)")
    return p.parse_args(argv)


def draw_feed_matrix(G, cat, res, K: int, out) -> str:
    """Saddles (rows, by loss) × minima (columns): fraction of a saddle's pushes reaching each minimum."""
    import matplotlib.pyplot as plt

    saddles = sorted((i for i, e in enumerate(cat.entries) if e.kind == "saddle"),
                     key=lambda i: cat.entries[i].loss)
    minima = sorted((i for i, e in enumerate(cat.entries) if e.kind in ("global_min", "spurious_min")),
                    key=lambda i: cat.entries[i].loss)
    F = np.full((len(saddles), len(minima)), np.nan)
    for r, s in enumerate(saddles):
        for c, m in enumerate(minima):
            if G.has_edge(s, m):
                F[r, c] = G.edges[s, m]["fraction"]
    bf = {row["entry"]: row["fraction"] for row in res.table}
    fig, ax = plt.subplots(figsize=(2.2 + 1.1 * len(minima), 1.2 + 0.22 * len(saddles)))
    im = ax.imshow(F, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(len(saddles)))
    ax.set_yticklabels([f"J={format_loss(cat.entries[s].loss)} idx {cat.entries[s].index}" for s in saddles],
                       fontsize=6)
    ax.set_xticks(range(len(minima)))
    ax.set_xticklabels([("w*" if cat.entries[m].kind == "global_min" else "spurious")
                        + f"\nJ={format_loss(cat.entries[m].loss)}\nbasin {100 * bf.get(m, 0.0):.1f}%"
                        for m in minima], fontsize=7)
    ax.set_title(f"K = M = d = {K}: where pushes off each saddle end", fontsize=9)
    fig.colorbar(im, ax=ax, label="fraction of pushes")
    return common.savefig(fig, out, f"beyond_j_basin_graph_K{K}.png")


def basin_graph(K: int, args) -> tuple[dict, list[str]]:
    from reludyn.basins import (PushSettings, basin_fractions, catalogue_graph, push_from_saddles,
                                write_graphml)
    from reludyn.dynamics import GDSettings
    from reludyn.runner import Executor
    from reludyn.critical import SeedSettings, find_critical_points

    out = common.out_dir(args)
    pb = Problem.orthonormal(K)
    cat = find_critical_points(pb, SeedSettings(n_seeds=args.seeds, seed=args.seed,
                                                strategies=["symmetric", "gd"]))
    flows = push_from_saddles(pb, cat, PushSettings(eps=1e-3, n_random=args.n_random,
                                                    max_eig=args.max_eig, seed=args.seed),
                              dynamics=GDSettings(eta=0.1, max_steps=200_000))
    res = basin_fractions(pb, cat, n=args.n_basin, init="xavier", seed=args.seed,
                          dynamics=GDSettings(eta=0.1, tol=1e-10, max_steps=200_000),
                          executor=Executor(chunk=100))
    G = catalogue_graph(cat, flows, basins=res)
    fig_path = draw_feed_matrix(G, cat, res, K, out)
    write_graphml(G, out / f"beyond_j_basin_graph_K{K}.graphml")
    kinds = {i: e.kind for i, e in enumerate(cat.entries)}
    minima = [i for i, k in kinds.items() if k in ("global_min", "spurious_min")]
    feeds = {i: sorted(int(s) for s in G.predecessors(i)) for i in minima}
    saddles = [i for i, k in kinds.items() if k == "saddle"]
    to_spurious = [s for s in saddles if any(kinds.get(t) == "spurious_min" for t in G.successors(s))]
    only_global = [s for s in saddles if set(G.successors(s)) and
                   all(kinds.get(t) == "global_min" for t in G.successors(s))]
    downhill = all(cat.entries[b].loss < cat.entries[a].loss + 1e-12 for a, b in G.edges)
    bf = {r["entry"]: r["fraction"] for r in res.table}
    info = {
        "K": K, "n_entries": len(cat), "kinds": cat.kinds(), "n_saddles": len(saddles),
        "n_pushes": len(flows), "n_unresolved": int(sum(1 for f in flows if f.target is None)),
        "edges": [{"source": int(a), "target": int(b), "count": int(d["count"]),
                   "source_loss": float(cat.entries[a].loss), "target_loss": float(cat.entries[b].loss),
                   "source_index": int(cat.entries[a].index), "target_kind": kinds[b]}
                  for a, b, d in G.edges(data=True)],
        "minima": [{"entry": i, "kind": kinds[i], "loss": float(cat.entries[i].loss),
                    "n_feeding_saddles": len(feeds[i]), "feeding_saddles": feeds[i],
                    "basin_fraction": bf.get(i, 0.0)} for i in minima],
        "saddles_feeding_spurious": len(to_spurious), "saddles_feeding_only_global": len(only_global),
        "all_edges_downhill": downhill, "basin_unconverged": int(res.n_unconverged),
    }
    return info, [fig_path]


def main(argv=None) -> dict:
    args = parse(argv)
    t0 = time.perf_counter()
    out = common.out_dir(args)
    args.seeds = args.seeds or (40 if args.fast else 200)
    args.max_eig = args.max_eig or (3 if args.fast else 8)
    args.n_random = args.n_random if args.n_random is not None else (1 if args.fast else 6)
    args.n_basin = args.n_basin or (100 if args.fast else 1000)
    if min(args.sizes) < 2:
        raise ValueError("sizes must be >= 2")
    infos, figs = [], []
    for K in args.sizes:
        info, f = basin_graph(K, args)
        infos.append(info)
        figs += f
        common.log(args, f"  K = {K}: {info['n_entries']} entries, {info['n_saddles']} saddles, "
                   f"{len(info['edges'])} edges")
    parts = []
    for i in infos:
        sp = [m for m in i["minima"] if m["kind"] == "spurious_min"]
        parts.append(f"K={i['K']}: {i['n_saddles']} saddles, {len(sp)} spurious minima; "
                     f"{i['saddles_feeding_only_global']} saddles feed only w*, "
                     f"{i['saddles_feeding_spurious']} also feed a spurious min"
                     + (" (J = " + ", ".join(f"{m['loss']:.4f} ← {m['n_feeding_saddles']} saddles"
                                            for m in sp) + ")" if sp else ""))
    downhill = all(i["all_edges_downhill"] for i in infos)
    measured = "; ".join(parts) + f"; every edge goes downhill: {downhill}"
    return common.finish(
        out, NAME, claim="j", title="basin graph K = M = d = 6, 8: which saddles feed which minima",
        figures=figs, measured=measured, verdict=common.MEASURED if downhill else common.NOT_REPRODUCED,
        numbers={"graphs": infos, "seeds": args.seeds, "max_eig": args.max_eig,
                 "n_random": args.n_random, "n_basin": args.n_basin}, t0=t0, fast=args.fast)


if __name__ == "__main__":
    print(main())
