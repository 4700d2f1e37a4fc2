"""Basins of attraction: basin fractions, unstable-manifold flows, the basin graph.

Above ``dynamics`` (end points come from :func:`reludyn.dynamics.ensemble.run_chunked`,
through :mod:`reludyn.runner`) and ``critical`` (:meth:`Catalogue.assign`); beside
``plots``, which it never imports.
"""
from ..runner import Executor, Task, fingerprint, run_tasks
from .fractions import BasinResult, basin_fractions, wilson_interval
from .graph import (attach_fractions, build_basin_graph, catalogue_graph, graphs_equal,
                    read_graphml, read_node_link, write_graphml, write_node_link)
from .manifolds import ManifoldFlow, PushSettings, flows_table, push_from_saddles, unstable_directions

__all__ = [
    "Executor", "Task", "fingerprint", "run_tasks",
    "BasinResult", "basin_fractions", "wilson_interval",
    "ManifoldFlow", "PushSettings", "flows_table", "push_from_saddles", "unstable_directions",
    "attach_fractions", "build_basin_graph", "catalogue_graph", "graphs_equal", "read_graphml", "read_node_link",
    "write_graphml", "write_node_link",
]
