"""Labels of the basin-graph drawings (issue 11 small faults): no "-0" loss, no overlap."""
import itertools

import matplotlib
import networkx as nx
import pytest

from reludyn.plots.graphdraw import draw_basin_graph, draw_fractions, format_loss

matplotlib.use("Agg")


@pytest.mark.parametrize("J,spec,text", [(-0.0, ".4f", "0.0000"), (-1e-17, ".4f", "0.0000"),
                                         (-0.0, ".3g", "0"), (2e-13, ".3g", "0"),
                                         (0.0885, ".4f", "0.0885"), (-0.5, ".2f", "-0.50")])
def test_format_loss(J, spec, text):
    assert format_loss(J, spec) == text


def test_fraction_bars_never_say_minus_zero():
    rows = [{"entry": 0, "kind": "global_min", "loss": -0.0, "fraction": 0.7, "lo": 0.6, "hi": 0.8},
            {"entry": 1, "kind": "spurious_min", "loss": 0.02, "fraction": 0.3, "lo": 0.2, "hi": 0.4}]
    fig, ax = draw_fractions(rows)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0: global_min\nJ=0"  # was "J=-0" (max(-0.0, 0.0) is -0.0)


def _k4_like_graph():
    """Minima at equal loss, saddles at equal loss between neighbours (as the K = 4 graph)."""
    G = nx.DiGraph(K=4, M=4, d=4)
    for n in range(4):
        G.add_node(n, loss=0.0 if n == 0 else 0.05, kind="global_min" if n == 0 else "spurious_min",
                   index=0, basin_fraction=0.25)
    for n, targets in zip(range(4, 10), itertools.combinations(range(4), 2)):
        G.add_node(n, loss=0.1, kind="saddle", index=1, basin_fraction=0.0)
        for t in targets:
            G.add_edge(n, t, fraction=0.5)
    # distinct saddles with the same targets and losses equal to 1e-8: one spot on the plot
    for n, dj in ((10, 0.0), (11, 1e-8), (12, 2e-8)):
        G.add_node(n, loss=0.2 + dj, kind="saddle", index=2, basin_fraction=0.0)
        for t in range(4):
            G.add_edge(n, t, fraction=0.25)
    return G


def test_node_labels_do_not_overlap(tmp_path):
    G = _k4_like_graph()
    fig, ax = draw_basin_graph(G, tmp_path / "g.png")
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts if t.get_text().split("\n")[0].isdigit()]
    assert len(boxes) == G.number_of_nodes()
    clashes = [(i, j) for i, j in itertools.combinations(range(len(boxes)), 2)
               if boxes[i].overlaps(boxes[j])]
    assert clashes == []
