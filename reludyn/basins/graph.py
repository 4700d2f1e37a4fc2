"""The basin graph: catalogue entries as nodes, observed saddle flows as edges (networkx).

Nodes are catalogue entry indices (int) with attributes ``loss``, ``kind``, ``index``,
``nullity``, ``orbit_size``, ``grad_norm`` and, where known, ``basin_fraction``,
``basin_lo``, ``basin_hi`` (95% Wilson interval) and ``n_pushes`` / ``n_unresolved``
(unstable-manifold pushes started from a saddle / pushes that reached no entry).
Edges ``s -> t`` are observed flows with ``count`` and ``fraction`` (of the pushes
from ``s``). Attributes are plain Python scalars so GraphML and node-link JSON load
back into networkx unchanged (a missing value is an absent attribute, never None).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

import networkx as nx
import numpy as np

from ..io import atomic_write, read_json

# attribute -> type, so GraphML declares one type per key whatever the inputs held
NODE_FIELDS = {"loss": float, "kind": str, "index": int, "nullity": int, "orbit_size": int,
               "grad_norm": float}


def _get(obj, name: str, default=None):
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _scalar(v):
    """Plain Python scalar for GraphML/JSON; None for missing or non-scalar values."""
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, str):
        return v
    return None


def _flow_pair(f) -> tuple[int, int | None]:
    if isinstance(f, (tuple, list)) and len(f) == 2:
        s, t = f
    else:
        s, t = _get(f, "source"), _get(f, "target")
    if s is None or isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        raise ValueError(f"a flow needs an integer source entry, got {f!r}")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, np.integer))):
        raise ValueError(f"a flow target must be an entry index or None, got {t!r}")
    if t is not None and t < 0:
        t = None
    return int(s), (None if t is None else int(t))


def build_basin_graph(entries: Iterable, flows: Iterable = (), fractions=None,
                      graph_attrs: Mapping[str, Any] | None = None) -> nx.DiGraph:
    """Build the DiGraph of catalogue entries and observed flows.

    entries: sequence of CriticalPoint-like objects or dicts (node i is ``entries[i]``).
    flows: ``(source, target)`` pairs or objects with ``.source`` / ``.target``; a
    target of None (or < 0) is a push that reached no entry (counted as ``n_unresolved``).
    fractions: None, a BasinResult (anything with ``.table``), or a mapping
    ``index -> (fraction, lo, hi)``. graph_attrs: scalar graph-level attributes.
    """
    entries = list(entries)
    G = nx.DiGraph()
    for k, v in (graph_attrs or {}).items():
        sv = _scalar(v)
        if sv is not None:
            G.graph[str(k)] = sv
    for i, e in enumerate(entries):
        attrs = {}
        for name, typ in NODE_FIELDS.items():
            v = _scalar(_get(e, name))
            if v is not None:
                attrs[name] = typ(v)
        G.add_node(i, **attrs)

    n = len(entries)
    pushes = Counter()
    unresolved = Counter()
    edges = Counter()
    for f in flows:
        s, t = _flow_pair(f)
        for which, v in (("source", s), ("target", t)):
            if v is not None and not 0 <= v < n:
                raise ValueError(f"flow {which} {v} is not an entry index (there are {n} entries)")
        pushes[s] += 1
        if t is None:
            unresolved[s] += 1
        else:
            edges[(s, t)] += 1
    for s, total in pushes.items():
        G.nodes[s]["n_pushes"] = int(total)
        G.nodes[s]["n_unresolved"] = int(unresolved[s])
    for (s, t), c in sorted(edges.items()):
        G.add_edge(s, t, count=int(c), fraction=c / pushes[s])

    if fractions is not None:
        attach_fractions(G, fractions)
    return G


def attach_fractions(G: nx.DiGraph, fractions) -> nx.DiGraph:
    """Set ``basin_fraction``/``basin_lo``/``basin_hi`` from a BasinResult or a mapping.

    With a BasinResult, entries no start reached get fraction 0 and interval (0, hi) (the
    catalogue may have grown after the run; those entries get the same)."""
    if hasattr(fractions, "table"):
        items = {row["entry"]: (row["fraction"], row["lo"], row["hi"]) for row in fractions.table}
        n = getattr(fractions, "n", 0)
        if n:  # entries no start reached: fraction 0 with its Wilson upper bound
            from .fractions import wilson_interval

            for node in G:
                items.setdefault(node, (0.0, *wilson_interval(0, int(n))))
    elif isinstance(fractions, Mapping):
        items = dict(fractions)
    else:
        raise TypeError("fractions must be a BasinResult or a mapping index -> (fraction, lo, hi)")
    for i, val in items.items():
        i = int(i)
        if i not in G:
            raise ValueError(f"basin fraction given for entry {i}, which is not a node")
        if isinstance(val, (tuple, list)):
            if len(val) != 3:
                raise ValueError(f"fraction of entry {i} must be (fraction, lo, hi), got {val!r}")
            frac, lo, hi = (float(x) for x in val)
            G.nodes[i].update(basin_fraction=frac, basin_lo=lo, basin_hi=hi)
        else:
            G.nodes[i]["basin_fraction"] = float(val)
    return G


# --- files ---------------------------------------------------------------
def write_graphml(G: nx.DiGraph, path) -> None:
    """GraphML, atomically. Load with :func:`read_graphml` (integer node ids)."""
    def write(fh):
        nx.write_graphml(G, fh)
    atomic_write(Path(path), write)


def read_graphml(path) -> nx.DiGraph:
    """A graph written by :func:`write_graphml`; ValueError naming a missing or damaged file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"GraphML file {str(path)!r} does not exist")
    try:
        G = nx.read_graphml(path, node_type=int)
    except Exception as exc:
        raise ValueError(f"GraphML file {str(path)!r} is damaged: {exc}") from None
    G = nx.DiGraph(G)
    for k in ("node_default", "edge_default"):  # reader bookkeeping, not our data
        if G.graph.get(k) == {}:
            del G.graph[k]
    return G


def _node_link_data(G):
    try:
        return nx.node_link_data(G, edges="edges")
    except TypeError:  # networkx < 3.4
        return nx.node_link_data(G)


def write_node_link(G: nx.DiGraph, path) -> None:
    """Node-link JSON (networkx's ``node_link_data`` with key ``edges``), atomically."""
    text = json.dumps(_node_link_data(G), indent=1, allow_nan=True)
    atomic_write(Path(path), lambda fh: fh.write(text.encode()))


def read_node_link(path) -> nx.DiGraph:
    """A graph written by :func:`write_node_link`."""
    data = read_json(path, "node-link graph file")
    if not isinstance(data, dict) or "nodes" not in data:
        raise ValueError(f"node-link graph file {str(path)!r} has no 'nodes' list")
    try:
        if "edges" in data:
            try:
                G = nx.node_link_graph(data, edges="edges")
            except TypeError:  # networkx < 3.4
                G = nx.node_link_graph({**{k: v for k, v in data.items() if k != "edges"},
                                        "links": data["edges"]})
        else:
            G = nx.node_link_graph(data)
    except Exception as exc:
        raise ValueError(f"node-link graph file {str(path)!r} is damaged: {exc}") from None
    return nx.DiGraph(G)


def graphs_equal(G: nx.DiGraph, H: nx.DiGraph) -> bool:
    """Same nodes, edges and attributes (floats compared exactly, NaN equal to NaN)."""
    def same(a, b):
        if a.keys() != b.keys():
            return False
        for k in a:
            x, y = a[k], b[k]
            if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
                continue
            if type(x) is not type(y) or x != y:
                return False
        return True

    if G.is_directed() != H.is_directed() or not same(G.graph, H.graph):
        return False
    if set(G.nodes) != set(H.nodes) or set(G.edges) != set(H.edges):
        return False
    return all(same(G.nodes[n], H.nodes[n]) for n in G.nodes) and all(
        same(G.edges[e], H.edges[e]) for e in G.edges)


def catalogue_graph(catalogue, flows: Iterable = (), basins=None) -> nx.DiGraph:
    """The basin graph of a Catalogue: its entries, the pushes ``flows`` (ManifoldFlow or
    pairs) and, optionally, a BasinResult's fractions; the problem's sizes as graph attributes."""
    p = catalogue.problem
    return build_basin_graph(catalogue.entries, flows, fractions=basins,
                             graph_attrs={"K": p.K, "M": p.M, "d": p.d, "teacher": p.kind})
