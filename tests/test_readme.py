"""The README's set-up commands and .ci/run stay in step."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    test_cmd = next(b for b in blocks if "pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd.strip() in [line.strip() for line in ci]
    assert any("reludyn" in b and "pytest" not in b and "pip install -e" in b for b in blocks)


def _chain_lines() -> list[str]:
    """The first-run block of the README's "Command line" section: a bash block of reludyn
    commands from train to graph."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"```bash\n(.*?)\n```", section, re.S):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if lines and all(ln.startswith("reludyn ") for ln in lines):
            return lines
    raise AssertionError("README's Command line section has no bash block of reludyn commands")


def test_command_chain_as_printed(tmp_path):
    """Run the README's command chain exactly as printed (through bash, with `reludyn` on the
    PATH), at the reduced size RELUDYN_SMOKE=1 documents: every command exits 0, its outputs
    exist, basins reports fractions and graph pushes from saddles (issue 11, first use)."""
    import json
    import os
    import stat
    import subprocess
    import sys

    lines = _chain_lines()
    assert [ln.split()[1] for ln in lines] == ["train", "catalogue", "basins", "graph"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "reludyn"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reludyn.cli "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, RELUDYN_SMOKE="1", PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outs = {}
    for line in lines:
        r = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
        if " -n " in line:  # the reduced size was applied
            assert "RELUDYN_SMOKE=1" in r.stderr, r.stderr
        outs[line.split()[1]] = r.stdout
    runs = work / "runs"
    for f in ("k6.npz", "k6.json", "k6_catalogue.json", "k6_basins/basins.json",
              "k6_basins/catalogue.json", "k6_graph/graph.graphml", "k6_graph/graph.png"):
        assert (runs / f).is_file(), f
    basins = json.loads((runs / "k6_basins" / "basins.json").read_text())
    assert basins["n"] >= 2 and sum(r["count"] for r in basins["table"]) >= 1
    assert abs(sum(r["fraction"] for r in basins["table"])
               + basins["n_unconverged"] / basins["n"] - 1) < 1e-9
    print(outs["basins"], outs["graph"])
    n_pushes = int(outs["graph"].split(" pushes from ")[0].split()[-1])
    assert n_pushes > 0, outs["graph"]
