"""Basins of attraction: sweeps/executors, basin fractions, unstable-manifold flows, the basin graph.

Importing this package needs neither matplotlib nor the dynamics/critical layers;
those load when a function that needs them runs.
"""
from .executor import Task, fingerprint, run_tasks
from .fractions import BasinResult, assign_entry, basin_fractions, wilson_interval
from .graph import (attach_fractions, build_basin_graph, catalogue_graph, graphs_equal,
                    read_graphml, read_node_link, write_graphml, write_node_link)
from .manifolds import ManifoldFlow, flows_table, push_from_saddles, unstable_directions
from .sweep import catalogue_sweep, planar_grid, problem_grid

__all__ = [
    "catalogue_sweep", "planar_grid", "problem_grid",
    "Task", "fingerprint", "run_tasks",
    "BasinResult", "assign_entry", "basin_fractions", "wilson_interval",
    "ManifoldFlow", "flows_table", "push_from_saddles", "unstable_directions",
    "attach_fractions", "build_basin_graph", "catalogue_graph", "graphs_equal", "read_graphml", "read_node_link",
    "write_graphml", "write_node_link",
]
