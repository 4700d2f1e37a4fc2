"""The basin graph: construction from entries and flows, GraphML / node-link JSON round trips."""
import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose

from reludyn.basins.graph import (attach_fractions, build_basin_graph, graphs_equal, read_graphml,
                                  read_node_link, write_graphml, write_node_link)

ENTRIES = [
    {"loss": 0.0, "kind": "global_min", "index": 0, "nullity": 0, "orbit_size": 2, "grad_norm": 1e-14},
    {"loss": np.float64(0.05), "kind": "spurious_min", "index": np.int64(0), "nullity": 0,
     "orbit_size": 4},
    {"loss": 0.3, "kind": "saddle", "index": 2, "nullity": 1, "orbit_size": 1,
     "eigenvalues": np.array([-1.0, -0.5, 0.0, 2.0])},  # non-scalar: not a node attribute
    {"loss": 0.2, "kind": "saddle", "index": 1, "nullity": 0, "orbit_size": 2},
]
FLOWS = [(2, 0), (2, 0), (2, 3), (2, None), (3, 0), (3, 1), (3, 1), (3, 1)]


def _graph():
    return build_basin_graph(ENTRIES, FLOWS, fractions={0: (0.7, 0.6, 0.8), 1: (0.3, 0.2, 0.4)},
                             graph_attrs={"K": 2, "M": 2, "d": 2, "teacher": "orthonormal",
                                          "skip": [1, 2]})


def test_nodes_and_edges():
    G = _graph()
    assert isinstance(G, nx.DiGraph)
    assert sorted(G.nodes) == [0, 1, 2, 3]
    assert G.nodes[2] == {"loss": 0.3, "kind": "saddle", "index": 2, "nullity": 1, "orbit_size": 1,
                          "n_pushes": 4, "n_unresolved": 1}
    assert type(G.nodes[1]["loss"]) is float and type(G.nodes[1]["index"]) is int
    assert G.nodes[0]["basin_fraction"] == 0.7 and G.nodes[0]["basin_hi"] == 0.8
    assert "basin_fraction" not in G.nodes[2]
    assert sorted(G.edges) == [(2, 0), (2, 3), (3, 0), (3, 1)]
    assert G.edges[2, 0] == {"count": 2, "fraction": 0.5}
    assert G.edges[2, 3] == {"count": 1, "fraction": 0.25}
    assert G.edges[3, 1] == {"count": 3, "fraction": 0.75}
    # fractions out of each pushed saddle plus the unresolved share add to 1
    for s in (2, 3):
        out = sum(G.edges[e]["fraction"] for e in G.out_edges(s))
        assert_allclose(out + G.nodes[s]["n_unresolved"] / G.nodes[s]["n_pushes"], 1.0)
    assert G.graph == {"K": 2, "M": 2, "d": 2, "teacher": "orthonormal"}


def test_flow_objects():
    class F:
        def __init__(self, s, t):
            self.source, self.target = s, t
    G = build_basin_graph(ENTRIES, [F(3, 0), F(3, -1)])
    assert G.edges[3, 0]["fraction"] == 0.5 and G.nodes[3]["n_unresolved"] == 1


def test_roundtrips(tmp_path):
    G = _graph()
    write_graphml(G, tmp_path / "g.graphml")
    H = read_graphml(tmp_path / "g.graphml")
    assert graphs_equal(G, H), (G.nodes(data=True), H.nodes(data=True))
    write_node_link(G, tmp_path / "g.json")
    J = read_node_link(tmp_path / "g.json")
    assert graphs_equal(G, J)
    assert nx.utils.graphs_equal(G, J)


def test_graphs_equal_detects_changes():
    G, H = _graph(), _graph()
    assert graphs_equal(G, H)
    H.nodes[0]["loss"] = 1e-300
    assert not graphs_equal(G, H)
    H = _graph()
    H.edges[2, 0]["count"] = 2.0  # same value, other type
    assert not graphs_equal(G, H)
    H = _graph()
    H.remove_edge(2, 3)
    assert not graphs_equal(G, H)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="not an entry index"):
        build_basin_graph(ENTRIES, [(2, 7)])
    with pytest.raises(ValueError, match="integer source"):
        build_basin_graph(ENTRIES, [("a", 1)])
    with pytest.raises(ValueError, match="not a node"):
        attach_fractions(_graph(), {9: (0.1, 0.0, 0.2)})
    with pytest.raises(TypeError):
        attach_fractions(_graph(), [0.1])
    with pytest.raises(ValueError, match="does not exist"):
        read_graphml(tmp_path / "none.graphml")
    (tmp_path / "bad.graphml").write_text("<graphml><oops")
    with pytest.raises(ValueError, match="damaged"):
        read_graphml(tmp_path / "bad.graphml")
    (tmp_path / "bad.json").write_text("{\"x\": 1}")
    with pytest.raises(ValueError, match="nodes"):
        read_node_link(tmp_path / "bad.json")


def test_attach_basin_result_fills_zero_fractions():
    from types import SimpleNamespace

    from reludyn.basins.fractions import wilson_interval
    res = SimpleNamespace(n=50, table=[{"entry": 0, "fraction": 0.9, "lo": 0.8, "hi": 0.95}])
    G = build_basin_graph(ENTRIES, FLOWS, fractions=res)
    assert G.nodes[0]["basin_fraction"] == 0.9
    for n in (1, 2, 3):
        assert G.nodes[n]["basin_fraction"] == 0.0
        assert (G.nodes[n]["basin_lo"], G.nodes[n]["basin_hi"]) == wilson_interval(0, 50)


def test_layout_and_drawing(tmp_path):
    from reludyn.plots.graphdraw import draw_basin_graph, draw_fractions, graph_layout
    G = _graph()
    pos = graph_layout(G)
    for n in G:
        assert pos[n][1] == G.nodes[n]["loss"]  # loss on the vertical axis
    assert pos[0][0] == 0.0 and pos[1][0] == 1.0  # minima by increasing loss
    assert_allclose(pos[3][0], 0.25 * 0 + 0.75 * 1)  # saddle above its targets, weighted
    assert_allclose(pos[2][0], (0.5 * 0 + 0.25 * pos[3][0]) / 0.75)
    fig, ax = draw_basin_graph(G, tmp_path / "g", color_by="index", yscale="symlog")
    assert (tmp_path / "g.png").stat().st_size > 1000 and (tmp_path / "g.svg").is_file()
    assert ax.get_ylabel() == "loss J"
    draw_basin_graph(G, tmp_path / "k.png")
    assert (tmp_path / "k.png").is_file() and not (tmp_path / "k.svg").exists()
    table = [{"entry": 0, "kind": "global_min", "loss": 0.0, "fraction": 0.7, "lo": 0.6, "hi": 0.8}]
    draw_fractions(table, tmp_path / "f.png")
    assert (tmp_path / "f.png").is_file()
    with pytest.raises(ValueError, match="color_by"):
        draw_basin_graph(G, color_by="size")
    with pytest.raises(ValueError, match=".png"):
        draw_basin_graph(G, tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="empty"):
        draw_fractions([])
    H = nx.DiGraph()
    H.add_node(0)
    with pytest.raises(ValueError, match="loss"):
        draw_basin_graph(H)
    with pytest.raises(TypeError):
        draw_basin_graph(nx.Graph())
