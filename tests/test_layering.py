"""The layers of reludyn import downward only, and the library never imports analyses/."""
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# each module, and the packages it must not load (the layers above it)
ABOVE = {
    "reludyn": ["reludyn.dynamics", "reludyn.critical", "reludyn.basins", "reludyn.plots",
                "reludyn.cli", "reludyn.runner", "analyses"],
    "reludyn.runner": ["reludyn.dynamics", "reludyn.critical", "reludyn.basins", "reludyn.plots",
                       "reludyn.cli", "analyses"],
    "reludyn.dynamics": ["reludyn.critical", "reludyn.basins", "reludyn.plots", "reludyn.cli",
                         "analyses"],
    "reludyn.critical": ["reludyn.basins", "reludyn.plots", "reludyn.cli", "analyses"],
    "reludyn.basins": ["reludyn.plots", "reludyn.cli", "analyses", "matplotlib"],
    "reludyn.plots": ["reludyn.cli", "analyses"],
    "reludyn.cli": ["analyses"],
}


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("module", sorted(ABOVE))
def test_layer_does_not_load_the_layers_above(module):
    loaded = _loaded(module)
    bad = sorted(m for m in loaded for top in ABOVE[module] if m == top or m.startswith(top + "."))
    assert bad == [], f"importing {module} loads {bad}"


def test_no_library_module_names_analyses():
    for path in (ROOT / "reludyn").rglob("*.py"):
        if path.name == "cmd_reproduce.py":
            continue  # the one bridge: it finds analyses/ by path, at run time
        text = path.read_text()
        assert "import analyses" not in text and "from analyses" not in text, path


def test_public_signatures_are_small():
    from reludyn.basins import basin_fractions, push_from_saddles
    from reludyn.critical.sweep import catalogue_sweep

    for fn in (basin_fractions, push_from_saddles, catalogue_sweep):
        assert len(inspect.signature(fn).parameters) <= 8, fn.__name__
