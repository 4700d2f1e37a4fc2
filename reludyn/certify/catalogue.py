"""Certify the entries of a catalogue through the resumable executor.

Each entry is one task (``entry_<i>``); its certificate is stored by the executor in
``out_dir/tasks/entry_<i>.npz`` (resumable) and written as JSON to
``out_dir/certificates/entry_<i>.json``.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

# The resumable executor (moving to reludyn/runner.py): imported here only.
from ..runner import Task, run_tasks
from .certificate import Certificate, CertifySettings, certify_point


def certify_entry(W: np.ndarray, V: np.ndarray, settings: dict) -> dict:
    """Executor task: the certificate of one point as a JSON string (a 0-d str array)."""
    cert = certify_point(np.asarray(W), np.asarray(V), CertifySettings(**settings))
    return {"certificate": np.array(json.dumps(cert.to_dict()))}


def certify_catalogue(catalogue, out_dir, *, entries=None,
                      settings: CertifySettings = CertifySettings(), workers: int | None = 1,
                      progress: bool = False) -> list[tuple[int, Certificate]]:
    """Certify catalogue entries (all, or the indices ``entries``); returns [(index, Certificate)].

    catalogue: a :class:`reludyn.critical.Catalogue` or the path of its JSON file.
    out_dir: where per-entry results (resumable) and JSON certificates go.
    """
    from ..critical import Catalogue
    from ..io import write_json

    if not isinstance(catalogue, Catalogue):
        catalogue = Catalogue.load(catalogue)
    n = len(catalogue.entries)
    idx = list(range(n)) if entries is None else [int(i) for i in entries]
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise ValueError(f"entries {bad} out of range: the catalogue has {n} entries (0..{n - 1})")
    if len(set(idx)) != len(idx):
        raise ValueError(f"entries {idx} repeat an index")
    V = catalogue.problem.V
    tasks = [Task(f"entry_{i}", {"W": np.asarray(catalogue.entries[i].W), "V": V,
                                 "settings": asdict(settings)}) for i in idx]
    out_dir = Path(out_dir)
    res = run_tasks(certify_entry, tasks, out_dir, workers=workers, progress=progress,
                    label="certify")
    out = []
    for i, r in zip(idx, res):
        cert = Certificate.from_dict(json.loads(str(r["certificate"])))
        write_json(out_dir / "certificates" / f"entry_{i}.json", cert.to_dict())
        out.append((i, cert))
    return out


def certificate_table(catalogue, results) -> str:
    """Entry, catalogue kind, certified index, radius, status (one line per certificate)."""
    head = f"{'entry':>5} {'kind':<17} {'loss':>14} {'index':>5} {'manif':>5} {'radius':>9}  status"
    lines = [head, "-" * len(head)]
    for i, c in results:
        e = catalogue.entries[i]
        idx = "-" if c.index is None else str(c.index)
        rad = "-" if c.radius is None else f"{c.radius:.2e}"
        lines.append(f"{i:>5} {e.kind:<17} {e.loss:>14.8g} {idx:>5} {c.manifold_dim:>5} {rad:>9}  "
                     f"{c.status}: {c.message}")
    return "\n".join(lines)
