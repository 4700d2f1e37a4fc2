"""The package's floors: no layer imports a layer above it, and one door leads into the kernels.

Layers, bottom up: core (kernels, landscape, problem, ...), dynamics, critical
points, basins, then plots and the CLI. Each layer is imported in a fresh
interpreter (so nothing loaded by other tests hides an import) and, separately,
every import statement in its files, including those inside functions, is read
with ``ast``.
"""
import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "reludyn"

CORE = ["kernels", "landscape", "_unchecked", "problem", "validation", "io", "progress", "paper",
        "newton", "montecarlo", "check"]
# (layer, its modules, the layers it must not load)
LAYERS = [
    pytest.param("core", CORE, ["dynamics", "critical", "basins", "plots", "cli"], id="core"),
    pytest.param("dynamics", ["dynamics"], ["critical", "basins", "plots", "cli"], id="dynamics"),
    pytest.param("critical", ["critical"], ["basins", "plots", "cli"], id="critical"),
    pytest.param("basins", ["basins"], ["plots", "cli"], id="basins"),
]
# the statements, including those inside functions
STATEMENTS = LAYERS

# import these (and, with walk, every submodule of the packages among them) in a fresh
# interpreter; print the reludyn layers, top-level packages, scipy modules and compiled kernels
_PROBE = """
import importlib, json, pkgutil, sys
for name in {mods!r}:
    mod = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []) if {walk!r} else [], name + "."):
        importlib.import_module(info.name)
layers = sorted({{m.split(".")[1] for m in sys.modules if m.startswith("reludyn.")}})
tops = sorted({{m.split(".")[0] for m in sys.modules}})
scipy = sorted(m for m in sys.modules if m.startswith("scipy"))
from numba.core.registry import CPUDispatcher
kern = [m for m in list(sys.modules) if m == "reludyn.kernels" or m.startswith("reludyn.kernels.")]
compiled = sorted(f"{{m}}.{{k}}" for m in kern for k, f in vars(sys.modules[m]).items()
                  if isinstance(f, CPUDispatcher) and f.overloads)
print(json.dumps({{"layers": layers, "tops": tops, "scipy": scipy, "compiled": compiled}}))
"""


def _probe(modules: list[str], walk: bool = True) -> dict:
    """What importing ``modules`` (with every submodule of packages when ``walk``) loads."""
    code = _PROBE.format(mods=modules, walk=walk)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def _files(modules: list[str]) -> list[Path]:
    out = []
    for m in modules:
        p = PKG / m
        out += sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")]
    return out


def _imported(path: Path) -> set[str]:
    """Absolute names of every module an import statement in ``path`` may load (any depth)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)  # `from pkg import submodule`
    return names


@pytest.mark.parametrize("layer, modules, above", LAYERS)
def test_importing_a_layer_loads_nothing_above_it(layer, modules, above):
    loaded = _probe([f"reludyn.{m}" for m in modules])
    assert not set(loaded["layers"]) & set(above), f"{layer} loads {loaded['layers']}"
    assert "analyses" not in loaded["tops"]


@pytest.mark.parametrize("layer, modules, above", STATEMENTS)
def test_no_import_statement_reaches_up(layer, modules, above):
    bad = {str(f.relative_to(ROOT)): sorted(n for n in _imported(f)
                                            if n.split(".")[:2] in [["reludyn", a] for a in above])
           for f in _files(modules)}
    assert not {f: n for f, n in bad.items() if n}


def test_import_reludyn_is_light():
    """`import reludyn` loads no upper layer, no analyses, networkx or scipy module beyond
    the ones numba itself loads, and compiles no kernel."""
    base = _probe(["numba"], walk=False)
    top = _probe(["reludyn"], walk=False)
    assert not set(top["layers"]) & {"dynamics", "critical", "basins", "plots", "cli"}
    assert "analyses" not in top["tops"] and "networkx" not in top["tops"]
    assert set(top["scipy"]) <= set(base["scipy"])
    assert top["compiled"] == []


# the one door: landscape (and its unchecked half); jitted code that calls jitted code
KERNEL_IMPORTERS = {
    "reludyn/landscape.py", "reludyn/_unchecked.py",
    "reludyn/dynamics/_gdkernel.py",  # the GD ensembles call grad_into inside prange
    "reludyn/dynamics/_cuda_kernel.py",  # the CUDA GD kernel shares the CPU kernel's constants
    "reludyn/critical/native.py",  # the native solver (issue 9), jitted too
}


def test_only_the_door_imports_the_kernels():
    offenders = {}
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith("reludyn/kernels/") or rel in KERNEL_IMPORTERS:
            continue
        hits = sorted(n for n in _imported(f) if n == "reludyn.kernels"
                      or n.startswith("reludyn.kernels."))
        if hits:
            offenders[rel] = hits
    assert not offenders


def test_import_resolution_sees_relative_and_nested_imports(tmp_path):
    """The checker itself: relative imports at any depth and inside functions are found."""
    assert "reludyn.kernels" in _imported(PKG / "landscape.py")
    assert "reludyn.kernels" in _imported(PKG / "dynamics" / "_gdkernel.py")
    examples = PKG / "basins" / "examples.py"
    if examples.exists():  # imports plots inside functions (until it moves to analyses/)
        assert any(n.startswith("reludyn.plots") for n in _imported(examples))


def test_runner_loads_no_upper_layer():
    loaded = _probe(["reludyn.runner"], walk=False)
    assert not set(loaded["layers"]) & {"dynamics", "critical", "basins", "plots", "cli"}


def test_no_library_module_names_analyses():
    for path in PKG.rglob("*.py"):
        if path.name == "cmd_reproduce.py":
            continue  # the one bridge: it finds analyses/ by path, at run time
        names = _imported(path)
        assert not any(n == "analyses" or n.startswith("analyses.") for n in names), path


def test_public_signatures_are_small():
    from reludyn.basins import basin_fractions, push_from_saddles
    from reludyn.critical import find_critical_points
    from reludyn.critical.sweep import catalogue_sweep

    for fn in (basin_fractions, push_from_saddles, catalogue_sweep, find_critical_points):
        assert len(inspect.signature(fn).parameters) <= 8, fn.__name__
