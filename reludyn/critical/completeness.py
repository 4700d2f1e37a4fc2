"""How complete a catalogue is: Chao1 estimates of the unseen entries and saturation curves.

Each start (seed point handed to the solvers) either lands on a catalogue entry or is
rejected; an entry's ``hits`` count the starts that reached it.  Treating the entries as
species and the starts as draws, the abundance counts f_k (entries hit exactly k times)
give Chao's (1984) lower-bound estimate of the entries not yet seen,

    f0 = f1² / (2 f2)                  (f2 > 0)
    f0 = f1 (f1 − 1) / (2 (f2 + 1))    (f2 = 0, the bias-corrected form),

with the variance of Chao (1987) for f2 > 0,

    var f0 = f2 [ (f1/f2)²/2 + (f1/f2)³ + (f1/f2)⁴/4 ],

and for f2 = 0 that of the bias-corrected form (EstimateS, Colwell 2013),

    var f0 = f1(f1 − 1)/2 + f1(2f1 − 1)²/4 − f1⁴/(4 S),   S = S_obs + f0.

The 95 % interval of the total S_obs + f0 is Chao's log-normal one,
[S_obs + f0/C, S_obs + f0·C] with C = exp(1.96 √ln(1 + var/f0²)), which never falls below
S_obs.  When f0 = 0 it is degenerate; then [S_obs, S_obs + 1.96·sd] is reported.

Caveat: starts are not independent draws when a strategy is structured (one GD run adds
its end point and its plateau points; symmetric seeds explore fixed-point subspaces), so
the estimate describes the sampler actually used, and like every Chao1 figure it is a
lower bound: entries a strategy can never reach are invisible to it.

Discoveries are recorded on the entries themselves (``CriticalPoint.first_start``: the
number of starts processed when the entry appeared), so they survive
:meth:`Catalogue.sort` and relabelling; :func:`saturation_curve` rebuilds the curve of
distinct entries against starts processed from them, overall and per kind / (kind, index).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # standard-normal 97.5 % quantile


@dataclass(frozen=True)
class Chao1Estimate:
    """Chao1 estimate from hit counts.

    observed: distinct entries S_obs; f1, f2: entries hit once / twice; unseen: estimated
    entries not yet seen (f0); unseen_var: its variance; interval: 95 % interval
    (lo, hi) of the total number of entries S_obs + f0.
    """

    observed: int
    f1: int
    f2: int
    unseen: float
    unseen_var: float
    interval: tuple[float, float]

    @property
    def total(self) -> float:
        """Estimated number of entries, seen or not."""
        return self.observed + self.unseen

    @property
    def unseen_sd(self) -> float:
        return math.sqrt(self.unseen_var)

    def to_dict(self) -> dict:
        return {"observed": self.observed, "f1": self.f1, "f2": self.f2,
                "unseen": self.unseen, "unseen_var": self.unseen_var,
                "interval": [self.interval[0], self.interval[1]]}

    def summary(self) -> str:
        lo, hi = self.interval
        return (f"{self.observed} observed (f1={self.f1}, f2={self.f2}), Chao1 unseen "
                f"{self.unseen:.3g} ± {self.unseen_sd:.2g}, total 95% interval "
                f"[{lo:.4g}, {hi:.4g}]")


def _hit_counts(hits) -> np.ndarray:
    h = np.asarray(list(hits) if not isinstance(hits, np.ndarray) else hits)
    if h.ndim != 1:
        raise ValueError(f"hits must be a 1-D sequence of counts, got shape {h.shape}")
    if h.size == 0:
        return h.astype(np.int64)
    if not np.issubdtype(h.dtype, np.integer):
        if not np.issubdtype(h.dtype, np.floating) or not np.all(np.isfinite(h)) or \
                np.any(h != np.round(h)):
            raise ValueError("hits must be whole numbers (the starts that reached each entry)")
        h = h.astype(np.int64)
    if np.any(h < 1):
        raise ValueError(f"every observed entry has at least one hit; got {int(h.min())}")
    return h.astype(np.int64)


def chao1(hits) -> Chao1Estimate:
    """Chao1 estimate of unseen entries from ``hits`` (n,): starts that reached each entry.

    See the module docstring for the formulas (Chao 1984, 1987; bias-corrected form when
    there are no doubletons).  An empty catalogue gives zero everything.
    """
    h = _hit_counts(hits)
    s_obs = int(h.size)
    f1 = int(np.count_nonzero(h == 1))
    f2 = int(np.count_nonzero(h == 2))
    if f2 > 0:
        r = f1 / f2
        f0 = f1 * f1 / (2.0 * f2)
        var = f2 * (0.5 * r ** 2 + r ** 3 + 0.25 * r ** 4)
    else:
        f0 = f1 * (f1 - 1) / 2.0
        s = s_obs + f0
        var = (f1 * (f1 - 1) / 2.0 + f1 * (2 * f1 - 1) ** 2 / 4.0
               - (f1 ** 4 / (4.0 * s) if s > 0 else 0.0))
        var = max(var, 0.0)  # rounding only: the expression is >= 0 for integer f1
    if f0 > 0:
        c = math.exp(Z95 * math.sqrt(math.log1p(var / (f0 * f0))))
        interval = (s_obs + f0 / c, s_obs + f0 * c)
    else:
        interval = (float(s_obs), s_obs + Z95 * math.sqrt(var))
    return Chao1Estimate(s_obs, f1, f2, float(f0), float(var),
                         (float(interval[0]), float(interval[1])))


@dataclass(frozen=True)
class Completeness:
    """Chao1 estimates of a catalogue: overall, per kind and per (kind, Morse index).

    starts: starts processed (accepted or rejected) by the finder.
    """

    starts: int
    overall: Chao1Estimate
    by_kind: dict
    by_kind_index: dict

    def to_dict(self) -> dict:
        return {"starts": self.starts, "overall": self.overall.to_dict(),
                "by_kind": {k: v.to_dict() for k, v in self.by_kind.items()},
                "by_kind_index": [{"kind": k, "index": i, **v.to_dict()}
                                  for (k, i), v in self.by_kind_index.items()]}

    def line(self) -> str:
        """One line for tables and logs."""
        return f"completeness: {self.starts} starts processed, {self.overall.summary()}"


def completeness(hits: Sequence[int], kinds: Sequence[str], indices: Sequence[int],
                 starts: int) -> Completeness:
    """Chao1 overall and per group for entries with ``hits``, ``kinds``, ``indices`` (n,)."""
    if not (len(hits) == len(kinds) == len(indices)):
        raise ValueError("hits, kinds and indices must have one value per entry")
    by_kind: dict[str, list[int]] = {}
    by_ki: dict[tuple[str, int], list[int]] = {}
    for h, k, i in zip(hits, kinds, indices):
        by_kind.setdefault(k, []).append(h)
        by_ki.setdefault((k, int(i)), []).append(h)
    return Completeness(int(starts), chao1(hits),
                        {k: chao1(v) for k, v in sorted(by_kind.items())},
                        {k: chao1(v) for k, v in sorted(by_ki.items())})


@dataclass(frozen=True)
class SaturationCurve:
    """Distinct entries after s = 0..n starts processed.

    starts: (n+1,) 0..n; distinct: (n+1,) overall; by_kind: {kind: (n+1,)};
    by_kind_index: {(kind, index): (n+1,)}.
    """

    starts: np.ndarray
    distinct: np.ndarray
    by_kind: dict
    by_kind_index: dict


def _curve(first: np.ndarray, n: int) -> np.ndarray:
    c = np.bincount(first, minlength=n + 1)[: n + 1]
    return np.cumsum(c)


def saturation_curve(events: Iterable[tuple[int, str, int]], n_starts: int) -> SaturationCurve:
    """The saturation curve from discovery ``events`` (first_start, kind, index).

    first_start: the number of starts processed when the entry appeared (1..n_starts);
    n_starts: starts processed in all.  Entry kinds and indices are taken as they are now
    (the catalogue's current labels), so the per-group curves add up to the overall one.
    """
    n = int(n_starts)
    if n < 0:
        raise ValueError(f"n_starts must be >= 0, got {n_starts}")
    ev = list(events)
    first = np.array([e[0] for e in ev], dtype=np.int64)
    if first.size and (first.min() < 1 or first.max() > n):
        raise ValueError(f"discovery events must lie in 1..{n} starts, got "
                         f"{int(first.min())}..{int(first.max())}")
    if len(np.unique(first)) != first.size:
        raise ValueError("two entries claim the same start (a start adds at most one entry)")
    by_kind, by_ki = {}, {}
    for k in sorted({e[1] for e in ev}):
        by_kind[k] = _curve(np.array([e[0] for e in ev if e[1] == k], np.int64), n)
    for k, i in sorted({(e[1], int(e[2])) for e in ev}):
        by_ki[(k, i)] = _curve(np.array([e[0] for e in ev if e[1] == k and int(e[2]) == i],
                                        np.int64), n)
    return SaturationCurve(np.arange(n + 1), _curve(first, n), by_kind, by_ki)
