"""Regenerate the basin figures of figures/: ``python -m analyses.basin_figures [OUT] [--quick]``.

- portrait_symmetric_K{2,5,10}.png, portrait_one_relu.png: phase portraits (claims 5, 6).
- graph_symmetric_saddle_K{2,5,10}.png: pushes off the symmetric saddle of an orthonormal
  teacher; every K shows the saddle -> global-minimum edge labelled with the saddle's index.
- basins_K10.png, graph_basins_K10.png: K = M = d = 10, Xavier starts, GD with η = 0.1:
  basin fractions with 95% Wilson intervals, and the catalogue's saddle flows.
- slice_K6_spurious.png: the K = M = d = 6 landscape on the plane through a spurious
  minimum, the nearest copy of the teacher and the nearest copy of the lowest saddle above it.

Numbers (catalogues, basin tables, graphs) go to OUT/data_basins/ when ``data=True``.
:func:`make_all` is what an analysis script can call (it lives here, with the paper scripts:
the library never imports figure-making code).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def portraits(out: Path, Ks=(2, 5, 10)) -> dict:
    from reludyn.plots.graphdraw import save_figure
    from reludyn.plots.portraits import one_relu_portrait, symmetric_portrait

    info = {}
    for K in Ks:
        fig, _, pts = symmetric_portrait(K, trajectories=[(1e-3, 0.0), (0.3, 0.6), (-0.2, 0.1)])
        save_figure(fig, out / f"portrait_symmetric_K{K}.png")
        info[K] = [(p.x, p.y, p.kind, p.index) for p in pts]
    fig, _ = one_relu_portrait((1.0, 0.0))
    save_figure(fig, out / "portrait_one_relu.png")
    return info


def symmetric_saddle_graphs(out: Path, Ks=(2, 5, 10), data: Path | None = None,
                            max_eig: int | None = None) -> dict:
    """Push off the symmetric saddle x_s 11ᵀ for each K; returns {K: (saddle index, edges)}."""
    from reludyn.critical import Catalogue
    from reludyn.problem import Problem, symmetric_saddle_x
    from reludyn.plots.graphdraw import draw_basin_graph
    from reludyn.basins.graph import catalogue_graph, write_graphml, write_node_link
    from reludyn.basins.manifolds import PushSettings, push_from_saddles
    from reludyn.dynamics import GDSettings

    res = {}
    for K in Ks:
        prob = Problem.orthonormal(K)
        cat = Catalogue(prob)
        s, _ = cat.add(np.full((K, K), symmetric_saddle_x(K)))
        cat.add(prob.teacher_padded())
        flows = push_from_saddles(prob, cat, PushSettings(eps=1e-3, n_random=8, max_eig=max_eig),
                                  dynamics=GDSettings(eta=0.1, max_steps=200_000))
        G = catalogue_graph(cat, flows)
        draw_basin_graph(G, out / f"graph_symmetric_saddle_K{K}.png",
                         title=f"pushes off the symmetric saddle\northonormal teacher, K = {K}")
        if data is not None:
            write_graphml(G, data / f"graph_symmetric_saddle_K{K}.graphml")
            write_node_link(G, data / f"graph_symmetric_saddle_K{K}.json")
            cat.save(data / f"catalogue_symmetric_saddle_K{K}.json")
        res[K] = (G.nodes[s]["index"], {(a, b): G.edges[a, b]["count"] for a, b in G.edges},
                  {i: e.kind for i, e in enumerate(cat.entries)})
    return res


def basins_K10(out: Path, n: int = 1000, workers: int = 1, data: Path | None = None,
               max_eig: int = 12, n_random: int = 8, scheduler=None):
    """Basin fractions for K = M = d = 10 (Xavier, GD η = 0.1) and the graph of its saddles."""
    from reludyn.critical import SeedSettings, find_critical_points
    from reludyn.problem import Problem
    from reludyn.plots.graphdraw import draw_basin_graph, draw_fractions
    from reludyn.basins.fractions import basin_fractions
    from reludyn.dynamics import GDSettings
    from reludyn.runner import Executor
    from reludyn.basins.graph import catalogue_graph, write_graphml, write_node_link
    from reludyn.basins.manifolds import PushSettings, push_from_saddles

    prob = Problem.orthonormal(10)
    cat = find_critical_points(prob, SeedSettings(n_seeds=12, seed=0, strategies=["symmetric"]))
    work = None if data is None else data / "basins_K10_tasks"
    res = basin_fractions(prob, cat, n=n, init="xavier", seed=0, dynamics=GDSettings(eta=0.1),
                          executor=Executor(workers=workers, scheduler=scheduler, chunk=50,
                                            out_dir=work, progress=True))
    draw_fractions(res.table, out / "basins_K10.png",
                   title=f"K = M = d = 10, Xavier, GD η = 0.1\n{n} starts, "
                         f"{res.n_unconverged} not converged")
    flows = push_from_saddles(prob, cat, PushSettings(eps=1e-3, n_random=n_random, max_eig=max_eig),
                              dynamics=GDSettings(eta=0.1, max_steps=200_000),
                              executor=Executor(workers=workers, scheduler=scheduler, chunk=64,
                                                progress=True))
    G = catalogue_graph(cat, flows, basins=res)
    draw_basin_graph(G, out / "graph_basins_K10.png",
                     title="K = M = d = 10: saddle flows (edge %: share of pushes)\n"
                           "node size and %: Xavier basin fraction")
    if data is not None:
        from reludyn.io import write_json

        cat.save(data / "catalogue_K10.json")
        write_json(data / "basins_K10.json", {"problem": prob.to_dict(), **res.to_dict()})
        write_graphml(G, data / "graph_basins_K10.graphml")
        write_node_link(G, data / "graph_basins_K10.json")
    return res, G, cat


def _nearest_copy(W, target):
    """The copy R W C of W (row permutation R, column permutation C) closest to ``target``.

    For the orthonormal teacher V = I_K (d = K), permuting the columns of W together with
    the teacher rows is a symmetry of J, and permuting W's rows is one too.
    """
    from itertools import permutations

    from reludyn.critical.symmetry import match_rows

    best, best_d = W, np.inf
    for cols in permutations(range(W.shape[1])):
        Wc = W[:, cols]
        cand = Wc[match_rows(Wc, target, squared=False)]
        d = np.linalg.norm(cand - target)
        if d < best_d:
            best, best_d = cand, d
    return best


def slice_K6(out: Path, data: Path | None = None):
    """A slice of the K = M = d = 6 landscape through a spurious minimum, the nearest copy of
    the teacher and the nearest copy of the lowest saddle above that minimum."""
    from reludyn.critical import SeedSettings, find_critical_points
    from reludyn.problem import Problem
    from reludyn.plots.graphdraw import save_figure
    from reludyn.plots.slices import landscape_slice

    prob = Problem.orthonormal(6)
    # the symmetric family of K = 6 holds a spurious minimum (x, y) ≈ (−0.663, 0.331)
    cat = find_critical_points(prob, SeedSettings(n_seeds=12, seed=0, strategies=["symmetric"]))
    spurious = [i for i, e in enumerate(cat.entries) if e.kind == "spurious_min"]
    if not spurious:
        raise RuntimeError("no spurious minimum in the K = 6 catalogue")
    sp = min(spurious, key=lambda i: cat.entries[i].loss)
    Wsp = cat.entries[sp].W
    teacher = _nearest_copy(prob.V.copy(), Wsp)
    saddles = [i for i, e in enumerate(cat.entries)
               if e.kind == "saddle" and e.loss > cat.entries[sp].loss]
    third = min(saddles, key=lambda i: cat.entries[i].loss)
    Wsad = _nearest_copy(cat.entries[third].W, Wsp)
    e3 = cat.entries[third]
    from reludyn.plots.graphdraw import format_loss  # "J=0.0000", never "J=-0.0000"

    fig, ax, _ = landscape_slice(prob, [Wsp, teacher, Wsad],
                                 labels=[f"spurious min (J={format_loss(cat.entries[sp].loss)})",
                                         "nearest copy of w*",
                                         f"saddle idx {e3.index} (J={format_loss(e3.loss)})"],
                                 catalogue=cat, n=81, margin=0.35)
    save_figure(fig, out / "slice_K6_spurious.png")
    if data is not None:
        cat.save(data / "catalogue_K6.json")
    return cat, sp, third


def make_all(out="figures", *, quick: bool = False, workers: int = 1, data: bool = False,
             scheduler=None) -> dict:
    """Write every basin figure to ``out``; ``quick`` shrinks the runs (for smoke tests)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dpath = out / "data_basins" if data else None
    if dpath is not None:
        dpath.mkdir(exist_ok=True)
    summary = {}
    t = time.perf_counter()
    summary["portraits"] = portraits(out, Ks=(2, 3) if quick else (2, 5, 10))
    _log(f"portraits done ({time.perf_counter() - t:.1f}s)")
    summary["saddle_graphs"] = symmetric_saddle_graphs(out, Ks=(2, 3) if quick else (2, 5, 10),
                                                       data=dpath, max_eig=4 if quick else None)
    _log(f"symmetric-saddle graphs done ({time.perf_counter() - t:.1f}s)")
    res, G, cat = basins_K10(out, n=40 if quick else 1000, workers=workers, data=dpath,
                             max_eig=2 if quick else 12, n_random=1 if quick else 8,
                             scheduler=scheduler)
    summary["basins_K10"] = res
    _log(res.summary())
    _log(f"K = 10 basins and graph done ({time.perf_counter() - t:.1f}s)")
    summary["slice_K6"] = slice_K6(out, data=dpath)
    _log(f"K = 6 slice done ({time.perf_counter() - t:.1f}s)")
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analyses.basin_figures", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="figures")
    ap.add_argument("--quick", action="store_true", help="small runs (a smoke test)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scheduler", help="Dask scheduler tcp://host:port")
    ap.add_argument("--data", action="store_true", help="also write catalogues, tables, graphs")
    a = ap.parse_args(argv)
    s = make_all(a.out, quick=a.quick, workers=a.workers, data=a.data, scheduler=a.scheduler)
    for K, (idx, edges, kinds) in s["saddle_graphs"].items():
        print(f"K = {K}: symmetric saddle index {idx}; edges "
              + ", ".join(f"{a}->{b} ({kinds[b]}) x{c}" for (a, b), c in sorted(edges.items())))
    print(s["basins_K10"].summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
