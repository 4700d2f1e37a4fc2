"""Saturation curve of a catalogue: distinct entries against starts processed, per kind, with
the Chao1 asymptotes (estimated total entries, seen or not)."""
from __future__ import annotations

import numpy as np

from .graphdraw import save_figure
from .portraits import new_axes

# as graphdraw.KIND_COLORS, but "max" not black (black is the all-entries curve)
KIND_COLORS = {"global_min": "gold", "spurious_min": "tab:red", "saddle": "tab:orange",
               "max": "tab:brown", "degenerate": "tab:purple", "nondifferentiable": "0.5"}


def draw_saturation(catalogue, path=None, *, ax=None, title: str | None = None):
    """Step curves of distinct entries vs starts processed: all entries (black) and each
    kind (its colour); dashed lines at the Chao1 totals S_obs + f0, the grey band the 95 %
    interval of the overall total.  ``catalogue``: a :class:`reludyn.critical.Catalogue`
    with recorded discoveries.  Writes ``path`` if given (.png/.svg/.pdf). Returns (fig, ax).
    """
    curve = catalogue.saturation()
    comp = catalogue.completeness()
    if curve.starts[-1] == 0:
        raise ValueError("the catalogue records no starts processed: nothing to plot")
    fig, ax = new_axes(ax, figsize=(6.5, 4.5))
    x = curve.starts
    n = x[-1]
    ax.step(x, curve.distinct, where="post", color="k", lw=1.8, label="all entries")
    tot = comp.overall
    ax.axhline(tot.total, color="k", ls="--", lw=1.0,
               label=f"Chao1 total {tot.total:.4g} (unseen {tot.unseen:.3g} ± "
                     f"{tot.unseen_sd:.2g})")
    ax.axhspan(tot.interval[0], tot.interval[1], color="0.85", alpha=0.5, lw=0,
               label="95% interval of the total")
    for kind, y in curve.by_kind.items():
        c = KIND_COLORS.get(kind, "tab:gray")
        ax.step(x, y, where="post", color=c, lw=1.2, label=f"{kind} ({y[-1]})")
        est = comp.by_kind[kind]
        ax.axhline(est.total, color=c, ls="--", lw=0.8)
    ax.set_xlim(0, n)
    ax.set_ylim(0, max(float(np.max(curve.distinct)), tot.interval[1]) * 1.05 + 0.5)
    ax.set_xlabel("starts processed")
    ax.set_ylabel("distinct catalogue entries")
    ax.set_title(title or f"{catalogue.problem!r}: saturation", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    if path is not None:
        save_figure(fig, path)
    return fig, ax
