"""The `reludyn basins`, `reludyn graph` and `reludyn portrait` commands, end to end on small problems."""
import json

import networkx as nx
import numpy as np
import pytest

from reludyn import Problem, symmetric_saddle_x
from reludyn.basins.graph import read_graphml, read_node_link
from reludyn.cli import main
from reludyn.critical import Catalogue


def _run(argv):
    return main([str(a) for a in argv])


def _saddle_basins(tmp_path, name, n, chunk):
    """`reludyn basins` into tmp_path/b on a K = 3 catalogue (tmp_path/name) holding the
    symmetric saddle, so that `graph` has something to push from; returns (problem, out)."""
    prob = Problem.orthonormal(3)
    cat = Catalogue(prob)
    cat.add(np.full((3, 3), symmetric_saddle_x(3)))
    cat.save(tmp_path / name)
    out = tmp_path / "b"
    assert _run(["basins", "--catalogue", tmp_path / name, "--out", out, "-n", n,
                 "--chunk", chunk, "--no-progress"]) == 0
    return prob, out


def test_basins_graph_portrait(tmp_path, capsys):
    prob, out = _saddle_basins(tmp_path, "cat.json", n=12, chunk=5)
    data = json.loads((out / "basins.json").read_text())
    assert data["n"] == 12 and sum(r["count"] for r in data["table"]) + data["n_unconverged"] == 12
    assert (out / "basins.csv").read_text().startswith("entry,kind,loss,index,count,fraction,lo,hi")
    assert sorted(p.name for p in (out / "tasks").iterdir()) == [
        "chunk00000000.npz", "chunk00000005.npz", "chunk00000010.npz"]
    # rerun: resumes from the task files and gives the same table
    assert _run(["basins", "--catalogue", tmp_path / "cat.json", "--out", out, "-n", 12,
                 "--chunk", 5, "--no-progress"]) == 0
    assert json.loads((out / "basins.json").read_text())["table"] == data["table"]

    g = tmp_path / "g"
    assert _run(["graph", "--catalogue", out / "catalogue.json", "--basins", out / "basins.json",
                 "--out", g, "--n-random", 1, "--eta", 0.1, "--no-progress"]) == 0
    G = read_graphml(g / "graph.graphml")
    assert nx.utils.graphs_equal(G, read_node_link(g / "graph.json"))
    assert G.nodes[0]["kind"] == "saddle" and G.out_degree(0) >= 1
    assert any("basin_fraction" in G.nodes[n] for n in G)
    for f in ("graph.png", "graph.svg", "flows.json", "catalogue.json"):
        assert (g / f).is_file()
    text = capsys.readouterr().out
    assert "-> " in text and "index" in text

    assert _run(["portrait", "symmetric", "-K", 3, "--grid", 15, "--out", tmp_path / "s.png"]) == 0
    assert _run(["portrait", "one-relu", "--grid", 15, "--start", "0.5,1", "--out",
                 tmp_path / "o.svg"]) == 0
    ids = ["0", "1", "1:1,0,2"]  # the saddle and two copies of the global minimum
    assert _run(["portrait", "slice", "--catalogue", g / "catalogue.json", "--points", *ids,
                 "--grid", 11, "--out", tmp_path / "sl.png"]) == 0
    for f in ("s.png", "o.svg", "sl.png"):
        assert (tmp_path / f).stat().st_size > 1000


@pytest.mark.parametrize("argv, msg", [
    (["graph", "--catalogue", "{tmp}/none.json", "--out", "{tmp}/o"], "does not exist"),
    (["portrait", "symmetric", "-K", "1", "--out", "{tmp}/a.png"], "K >= 2"),
    (["portrait", "symmetric", "--out", "{tmp}/a.txt"], ".png"),
    (["portrait", "slice", "--out", "{tmp}/a.png"], "--catalogue"),
    (["basins", "--out", "{tmp}/f", "-n", "2", "--init", "xavier", "--init-scale", "2"], "does not apply"),
    (["basins", "--out", "{tmp}/b", "-n", "2", "--scheduler", "localhost"], "tcp://"),
])
def test_cli_errors(tmp_path, capsys, argv, msg):
    assert _run([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_cli_bad_option_values(tmp_path):
    with pytest.raises(SystemExit):
        _run(["portrait", "one-relu", "--w-star", "1", "--out", tmp_path / "a.png"])
    with pytest.raises(SystemExit):
        _run(["basins", "--out", tmp_path, "-n", "0"])


def test_basins_on_dask_scheduler_matches_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    common = ["basins", "-M", "2", "-n", "8", "--chunk", "3", "--seed", "5", "--no-progress"]
    assert _run(common + ["--out", tmp_path / "local"]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp://", dashboard_address=None) as cl:
        assert _run(common + ["--out", tmp_path / "dask", "--scheduler", cl.scheduler_address]) == 0
    a = json.loads((tmp_path / "local" / "basins.json").read_text())
    b = json.loads((tmp_path / "dask" / "basins.json").read_text())
    assert a["table"] == b["table"] and a["time_stats"] == b["time_stats"]


def test_graph_refuses_basins_of_another_catalogue(tmp_path, capsys):
    """basins.json records the fingerprint of the catalogue its entry ids refer to; `graph`
    with a basins file made from another catalogue of the same problem is refused before any
    push (issue 11, defect 2), instead of matching entry ids blindly."""
    prob, out = _saddle_basins(tmp_path, "a.json", n=4, chunk=4)
    made = Catalogue.load(out / "catalogue.json")
    assert json.loads((out / "basins.json").read_text())["catalogue_fingerprint"] == made.fingerprint()
    # the same problem, the same points, another order: entry 0 is now another point
    other = Catalogue(prob)
    for e in reversed(made.entries):
        other.add(e.W)
    other.add(np.eye(3))
    other.save(tmp_path / "other.json")
    capsys.readouterr()
    assert _run(["graph", "--catalogue", tmp_path / "other.json", "--basins", out / "basins.json",
                 "--out", tmp_path / "g", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "was made from another catalogue" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g").exists()  # refused before any work


def test_basins_and_graph_verify_the_catalogue(tmp_path, capsys):
    """The commands load catalogues with verify=True: an entry whose stored loss disagrees
    with its W is refused (issue 11, defect 4)."""
    prob = Problem.orthonormal(3)
    cat = Catalogue(prob)
    cat.add(np.full((3, 3), symmetric_saddle_x(3)))
    cat.save(tmp_path / "cat.json")
    data = json.loads((tmp_path / "cat.json").read_text())
    data["entries"][0]["loss"] = 0.0
    (tmp_path / "bad.json").write_text(json.dumps(data))
    for cmd in (["basins", "-n", 2], ["graph"]):
        capsys.readouterr()
        assert _run([cmd[0], "--catalogue", tmp_path / "bad.json", "--out", tmp_path / cmd[0],
                     *cmd[1:], "--no-progress"]) == 2
        assert "loss" in capsys.readouterr().err
