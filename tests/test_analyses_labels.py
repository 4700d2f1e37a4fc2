"""Loss labels in the analyses scripts and the basin summary go through
plots.graphdraw.format_loss, so the global minimum never shows as "J=-0.0000" (issue 11)."""
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_no_raw_loss_format_in_analyses_labels():
    raw = re.compile(r"J=\{[^}]*:\.\d+[fg]\}")
    bad = [f"{p.name}:{i}" for p in sorted((ROOT / "analyses").glob("*.py"))
           for i, line in enumerate(p.read_text().splitlines(), 1) if raw.search(line)]
    assert not bad, f"loss labels formatted without format_loss: {bad}"


def test_basin_summary_prints_the_global_minimum_as_zero():
    from reludyn.basins.fractions import BasinResult

    row = {"entry": 0, "kind": "global_min", "loss": -4.44e-16, "count": 1, "fraction": 1.0,
           "lo": 0.2, "hi": 1.0}
    res = BasinResult(n=1, labels=np.zeros(1, int), reason=np.array(["converged"]),
                      time=np.ones(1), loss=np.array([-4.44e-16]), table=[row])
    text = res.summary()
    assert "loss 0 " in text and "-4.44e-16" not in text
