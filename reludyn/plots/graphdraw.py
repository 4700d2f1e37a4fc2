"""Draw a basin graph with loss on the vertical axis, read like a disconnectivity graph.

Minima sit on a row by increasing loss; each saddle is placed above the mean horizontal
position of the points its flows reach (so a saddle sits over the minima it connects).
Nodes are coloured by kind or by Morse index; edge width grows with the fraction of a
saddle's pushes that took that edge; node labels give the entry id and, where known,
the basin fraction.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from .portraits import new_axes

KIND_COLORS = {"global_min": "gold", "spurious_min": "tab:red", "saddle": "tab:orange",
               "max": "k", "degenerate": "tab:purple", "nondifferentiable": "0.5"}


def format_loss(J: float, spec: str = ".4f", zero_below: float = 1e-12) -> str:
    """Format a loss for a label: |J| < zero_below (rounding at the global minimum, where the
    kernels may return -1e-17 or -0.0) is printed as 0, never as "-0.0000"."""
    J = float(J)
    if abs(J) < zero_below:
        J = 0.0  # a positive zero: max(-0.0, 0.0) would keep the sign
    return format(J, spec)


def graph_layout(G: nx.DiGraph) -> dict:
    """{node: (x, loss)}: minima (no out-edges) spread by loss, others above their targets."""
    loss = {n: float(G.nodes[n].get("loss", np.nan)) for n in G}
    sinks = sorted((n for n in G if G.out_degree(n) == 0), key=lambda n: (loss[n], n))
    pos = {n: (float(i), loss[n]) for i, n in enumerate(sinks)}
    rest = [n for n in G if n not in pos]
    # place nodes whose targets are placed; lower loss first so chains resolve upwards
    for _ in range(len(rest) + 1):
        progressed = False
        for n in sorted(rest, key=lambda m: (loss[m], m)):
            if n in pos:
                continue
            succ = [m for m in G.successors(n) if m in pos]
            if succ and len(succ) == G.out_degree(n):
                w = np.array([G.edges[n, m].get("fraction", 1.0) for m in succ])
                xs = np.array([pos[m][0] for m in succ])
                pos[n] = (float(np.sum(w * xs) / np.sum(w)), loss[n])
                progressed = True
        if not progressed:
            break
    x_next = float(len(sinks))
    for n in sorted(rest, key=lambda m: (loss[m], m)):
        if n not in pos:
            pos[n] = (x_next, loss[n])
            x_next += 1.0
    # separate nodes that landed on the same spot
    seen: dict = {}
    for n in sorted(pos, key=lambda m: (pos[m], m)):
        key = (round(pos[n][0], 6), round(pos[n][1], 9))
        k = seen.get(key, 0)
        seen[key] = k + 1
        if k:
            pos[n] = (pos[n][0] + 0.25 * k, pos[n][1])
    return pos


def draw_basin_graph(G: nx.DiGraph, path=None, *, color_by: str = "kind", ax=None,
                     title: str | None = None, yscale: str = "linear"):
    """Draw G (nodes with ``loss``, ``kind``, ``index``; edges with ``fraction``).

    color_by: "kind" or "index". path: a file name; with suffix .png or .svg that file
    is written, without a suffix both ``path.png`` and ``path.svg``. yscale: "linear" or
    "symlog" (useful when losses span decades). Returns (fig, ax).
    """
    if not isinstance(G, nx.DiGraph):
        raise TypeError(f"G must be a networkx.DiGraph, got {type(G).__name__}")
    if color_by not in ("kind", "index"):
        raise ValueError(f"color_by must be 'kind' or 'index', got {color_by!r}")
    if yscale not in ("linear", "symlog"):
        raise ValueError(f"yscale must be 'linear' or 'symlog', got {yscale!r}")
    for n in G:
        if "loss" not in G.nodes[n]:
            raise ValueError(f"node {n} has no 'loss' attribute")
    fig, ax = new_axes(ax, figsize=(max(5.0, 0.6 * G.number_of_nodes() + 2), 5.0))
    pos = graph_layout(G)
    nodes = list(G)
    if color_by == "kind":
        colors = [KIND_COLORS.get(G.nodes[n].get("kind"), "tab:gray") for n in nodes]
        for kind, c in KIND_COLORS.items():
            if any(G.nodes[n].get("kind") == kind for n in nodes):
                ax.scatter([], [], color=c, edgecolors="k", label=kind)
        cmap = None
    else:
        idx = np.array([G.nodes[n].get("index", -1) for n in nodes], dtype=float)
        colors, cmap = idx, "viridis"
    sizes = [220 + 400 * float(G.nodes[n].get("basin_fraction", 0.0)) for n in nodes]
    sc = nx.draw_networkx_nodes(G, pos, nodelist=nodes, node_color=colors, cmap=cmap,
                                node_size=sizes, edgecolors="k", ax=ax)
    if color_by == "index" and nodes:
        fig.colorbar(sc, ax=ax, label="Morse index")
    widths = [0.8 + 6.0 * float(G.edges[e].get("fraction", 0.0)) for e in G.edges]
    nx.draw_networkx_edges(G, pos, width=widths, edge_color="0.35", arrows=True,
                           arrowsize=12, node_size=sizes, ax=ax, connectionstyle="arc3,rad=0.05")
    if G.number_of_edges():
        elab = {e: f"{100 * G.edges[e].get('fraction', 0.0):.0f}%" for e in G.edges}
        nx.draw_networkx_edge_labels(G, pos, edge_labels=elab, font_size=6, ax=ax,
                                     label_pos=0.3, bbox=dict(fc="w", ec="none", alpha=0.7))
    labels = {}
    for n in nodes:
        a = G.nodes[n]
        lab = f"{n}"
        if a.get("kind") == "saddle" or a.get("index", 0) > 0:
            lab += f"\nidx {a.get('index', '?')}"
        if "basin_fraction" in a:
            lab += f"\n{100 * a['basin_fraction']:.1f}%"
        labels[n] = lab
    texts = [ax.annotate(labels[n], (x, y), textcoords="offset points", xytext=(9, 2),
                         fontsize=7) for n, (x, y) in sorted(pos.items(), key=lambda kv: kv[1][::-1])]
    ax.set_yscale(yscale)
    ax.set_ylabel("loss J")
    ax.set_xticks([])
    ax.tick_params(left=True, labelleft=True)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if title is None and G.graph:
        g = G.graph
        title = f"basin graph, K = {g.get('K', '?')}, M = {g.get('M', '?')}, d = {g.get('d', '?')}"
    if title:
        ax.set_title(title, fontsize=9)
    if color_by == "kind" and nodes:
        ax.legend(fontsize=7, loc="upper right")
    declutter_labels(fig, texts)
    if path is not None:
        save_figure(fig, path)
    return fig, ax


def declutter_labels(fig, texts, pad: float = 1.0) -> None:
    """Move annotations (``textcoords="offset points"``) up until no two overlap.

    Nodes at (nearly) equal loss and close positions, e.g. the saddles of the K = 4 graph,
    otherwise get labels drawn over each other. Texts are placed in the given order (lowest
    first); each is lifted by the overlap with those placed before it, plus ``pad`` points.
    """
    if not texts:
        return
    if not hasattr(fig.canvas, "get_renderer"):  # a bare Figure: give it an Agg canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
    fig.canvas.draw()  # settles the layout, so the extents measured are the final ones
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72.0
    placed = []
    for t in texts:
        for _ in range(4 * len(texts) + 4):
            bb = t.get_window_extent(renderer)
            hit = next((p for p in placed if bb.overlaps(p)), None)
            if hit is None:
                break
            dx, dy = t.xyann
            t.xyann = (dx, dy + (hit.y1 - bb.y0) / px_per_pt + pad)
        placed.append(t.get_window_extent(renderer))


def save_figure(fig, path, dpi: int = 100, tight: bool = False) -> list[Path]:
    """Write ``fig`` to ``path`` (.png/.svg/.pdf), or to path.png and path.svg without a suffix.

    ``tight``: lay the figure out tightly and crop its margins (``bbox_inches="tight"``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".png", ".svg", ".pdf"):
        outs = [path]
    elif path.suffix:
        raise ValueError(f"figure file {str(path)!r}: use .png, .svg or .pdf (or no suffix for both)")
    else:
        outs = [path.with_suffix(".png"), path.with_suffix(".svg")]
    kw = {}
    if tight:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tight_layout warns on figures it cannot improve
            fig.tight_layout()
        kw["bbox_inches"] = "tight"
    for p in outs:
        fig.savefig(p, dpi=dpi, **kw)
    return outs


def draw_fractions(table, path=None, *, ax=None, title: str | None = None):
    """Bar chart of basin fractions with their 95% Wilson intervals.

    table: rows with ``entry``, ``kind``, ``loss``, ``fraction``, ``lo``, ``hi`` (a
    BasinResult's ``table``), drawn in order of loss. Returns (fig, ax).
    """
    rows = sorted(table, key=lambda r: (r["loss"], r["entry"]))
    if not rows:
        raise ValueError("the basin table is empty: no start reached a catalogue entry")
    fig, ax = new_axes(ax, figsize=(max(4.5, 0.7 * len(rows) + 2.5), 4.0))
    x = np.arange(len(rows))
    f = np.array([r["fraction"] for r in rows])
    err = np.array([[r["fraction"] - r["lo"] for r in rows], [r["hi"] - r["fraction"] for r in rows]])
    ax.bar(x, f, color=[KIND_COLORS.get(r["kind"], "tab:gray") for r in rows], edgecolor="k")
    ax.errorbar(x, f, yerr=err, fmt="none", ecolor="k", capsize=4)
    ax.set_xticks(x, [f"{r['entry']}: {r['kind']}\nJ={format_loss(r['loss'], '.3g')}"
                      for r in rows], fontsize=7)
    ax.set_ylabel("basin fraction (95% Wilson interval)")
    ax.set_ylim(0, 1.05)
    for xi, fi in zip(x, f):
        ax.annotate(f"{100 * fi:.1f}%", (xi, fi), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    if path is not None:
        save_figure(fig, path)
    return fig, ax
