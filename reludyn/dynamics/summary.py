"""Summaries of ensemble end points: how many runs found the global minimum, and where the others went."""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..validation import positive_float


def group_losses(loss, tol: float = 1e-6) -> list[np.ndarray]:
    """Indices of runs grouped by loss: sorted losses split where consecutive values differ by
    more than tol·max(1, |loss|). Non-finite losses form their own last group. Returns index arrays."""
    loss = np.asarray(loss, dtype=np.float64).ravel()
    tol = positive_float(tol, "tol", allow_zero=True)
    fin = np.flatnonzero(np.isfinite(loss))
    order = fin[np.argsort(loss[fin], kind="stable")]
    groups: list[list[int]] = []
    prev = None
    for i in order:
        if prev is None or loss[i] - prev > tol * max(1.0, abs(prev)):
            groups.append([])
        groups[-1].append(int(i))
        prev = loss[i]
    out = [np.array(g, dtype=np.int64) for g in groups]
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        out.append(bad.astype(np.int64))
    return out


def summarize_endpoints(loss, reason, *, global_tol: float = 1e-3, group_tol: float = 1e-6,
                        steps=None) -> dict:
    """JSON-ready summary of B end points: loss (B,), reason (B,) str, optional steps (B,).

    ``global_min``: runs with loss < global_tol; ``groups``: the other runs grouped by
    loss (:func:`group_losses`), each with its loss range, count, stop reasons and first
    run index; ``reasons``: counts per stop reason.
    """
    loss = np.asarray(loss, dtype=np.float64).ravel()
    reason = np.asarray(reason).astype(str).ravel()
    if reason.shape != loss.shape:
        raise ValueError(f"loss and reason must have the same length, got {loss.size} and {reason.size}")
    global_tol = positive_float(global_tol, "global_tol")
    is_global = np.isfinite(loss) & (loss < global_tol)
    rest = np.flatnonzero(~is_global)
    groups = []
    for g in group_losses(loss[rest], group_tol):
        idx = rest[g]
        lg = loss[idx]
        fin = bool(np.all(np.isfinite(lg)))
        groups.append({
            "loss": float(np.median(lg)) if fin else None,
            "loss_min": float(lg.min()) if fin else None,
            "loss_max": float(lg.max()) if fin else None,
            "count": int(idx.size),
            "reasons": dict(Counter(reason[idx].tolist())),
            "first_run": int(idx.min()),
        })
    out = {
        "n_runs": int(loss.size),
        "global_min": {"count": int(is_global.sum()), "loss_below": global_tol,
                       "fraction": float(is_global.mean()) if loss.size else 0.0,
                       "reasons": dict(Counter(reason[is_global].tolist()))},
        "groups": groups,
        "reasons": dict(Counter(reason.tolist())),
    }
    if steps is not None:
        steps = np.asarray(steps).ravel()
        if steps.size:
            out["steps"] = {"median": float(np.median(steps)), "max": float(steps.max()),
                            "total": float(steps.sum())}
    return out
