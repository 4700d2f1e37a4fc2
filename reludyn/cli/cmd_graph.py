"""``reludyn graph``: unstable-manifold pushes from saddles and the basin graph."""
from __future__ import annotations

import argparse
from pathlib import Path

from .cmd_basins import (add_dynamics_args, add_executor_args, dynamics_from_args,
                         executor_from_args, load_catalogue)
from .common import (add_problem_args, locked, nonneg_int_arg, output_dir_arg, positive_float_arg,
                     positive_int_arg)


def register(sub) -> None:
    p = sub.add_parser(
        "graph",
        help="push off every saddle of a catalogue and draw the saddle-to-minimum graph",
        description="For every saddle of the catalogue, start flows at ±eps along each unstable "
        "Hessian eigenvector (and random unit combinations when the index is > 1), follow them "
        "to their ends and build the basin graph (nodes: entries; edges: observed flows). "
        "Writes OUT/graph.graphml, OUT/graph.json (node-link), OUT/graph.png, OUT/graph.svg, "
        "OUT/flows.json and the (possibly grown) OUT/catalogue.json.",
    )
    add_problem_args(p)
    p.add_argument("--catalogue", required=True, help="catalogue JSON (e.g. from `reludyn basins`)")
    p.add_argument("--basins", help="basins.json from `reludyn basins` on the same catalogue: "
                   "adds basin fractions to the nodes")
    p.add_argument("-o", "--out", "--output", dest="out", required=True, type=output_dir_arg,
                   help="output directory")
    p.add_argument("--eps", type=positive_float_arg, default=1e-3, help="push length (default 1e-3)")
    p.add_argument("--n-random", type=nonneg_int_arg, default=4,
                   help="random unstable combinations per saddle of index > 1 (default 4)")
    p.add_argument("--max-eig", type=positive_int_arg,
                   help="push along at most this many unstable eigenvectors per saddle")
    p.add_argument("--chain", action="store_true", help="also push from saddles the flows discover")
    p.add_argument("--seed", type=nonneg_int_arg, default=0, help="seed of the random combinations")
    p.add_argument("--color-by", choices=["kind", "index"], default="kind")
    add_dynamics_args(p, eta=0.05)
    add_executor_args(p)
    p.set_defaults(func=locked(run, "out"), chunk=64)


def run(args: argparse.Namespace) -> int:
    from ..basins.graph import attach_fractions, catalogue_graph, write_graphml, write_node_link
    from ..basins.manifolds import PushSettings, flows_table, push_from_saddles
    from ..io import read_json, write_json
    from ..plots.graphdraw import draw_basin_graph

    cat = load_catalogue(args, required=True)
    cat_print = cat.fingerprint()  # before the pushes grow it: what --basins must be made from
    out = Path(args.out)  # output_dir_arg refused a non-directory at parse time
    fr = None
    if args.basins:  # checked before any work: it must be made from this catalogue
        data = read_json(args.basins, "basins file")
        if not isinstance(data, dict) or not isinstance(data.get("table"), list):
            raise ValueError(f"basins file {args.basins!r} has no 'table' list")
        if "problem" in data and data["problem"].get("V") != cat.problem.to_dict()["V"]:
            raise ValueError(f"basins file {args.basins!r} is for another problem than the catalogue")
        stored = data.get("catalogue_fingerprint")
        if stored is None:
            raise ValueError(f"basins file {args.basins!r} does not record which catalogue it was "
                             "made from (written by an older version); rerun `reludyn basins`")
        if stored != cat_print:
            raise ValueError(f"basins file {args.basins!r} was made from another catalogue than "
                             f"{args.catalogue!r} (fingerprint {str(stored)[:16]}..., not "
                             f"{cat_print[:16]}...): its entry ids would be matched blindly; use "
                             "the catalogue.json that `reludyn basins` wrote next to it")
        try:
            fr = {int(r["entry"]): (float(r["fraction"]), float(r["lo"]), float(r["hi"]))
                  for r in data["table"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"basins file {args.basins!r} has a damaged table: {exc}") from None
    n_before = len(cat.entries)
    push = PushSettings(eps=args.eps, n_random=args.n_random, seed=args.seed,
                        max_eig=args.max_eig, chain=args.chain)
    flows = push_from_saddles(cat.problem, cat, push, dynamics=dynamics_from_args(args),
                              executor=executor_from_args(args, out / "pushes"))
    G = catalogue_graph(cat, flows)
    if fr is not None:
        attach_fractions(G, fr)
    out.mkdir(parents=True, exist_ok=True)
    write_graphml(G, out / "graph.graphml")
    write_node_link(G, out / "graph.json")
    write_json(out / "flows.json", {"settings": {"eps": args.eps, "n_random": args.n_random,
                                                 "seed": args.seed, "dynamics": args.dynamics,
                                                 "eta": args.eta, "tol": args.tol},
                                    "flows": flows_table(flows)})
    cat.save(out / "catalogue.json")
    draw_basin_graph(G, out / "graph", color_by=args.color_by)
    n_saddles = len({f.source for f in flows})
    print(f"{len(flows)} pushes from {n_saddles} saddles; {G.number_of_edges()} edges; "
          f"{len(cat.entries) - n_before} new catalogue entries")
    for s, t, a in sorted(G.edges(data=True)):
        print(f"  {s:3d} ({G.nodes[s]['kind']}, index {G.nodes[s].get('index')}) -> "
              f"{t:3d} ({G.nodes[t]['kind']}): {a['count']} pushes, {a['fraction']:.3f}")
    print(f"wrote {out}/graph.graphml, graph.json, graph.png, graph.svg, flows.json, catalogue.json")
    return 0
