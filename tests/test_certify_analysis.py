"""analyses.beyond_l_certified_minima at reduced size."""
import json

from analyses import SCRIPTS, common


def test_beyond_l_small(tmp_path):
    from analyses import beyond_l_certified_minima as mod

    assert "beyond_l_certified_minima" in SCRIPTS
    res = mod.main(["--fast", "--quiet", "--out-dir", str(tmp_path), "--sizes", "6,7", "--starts", "0"])
    assert res["verdict"] == common.MEASURED
    rows = res["numbers"]["rows"]
    assert [(r["k"], r["source"]) for r in rows] == [(6, "ansatz"), (7, "ansatz")]
    for r in rows:
        assert r["status"] == "certified" and r["index"] == 0 and r["verified"]
        assert r["loss_hi"] - r["loss_lo"] < 1e-10 and r["lambda_min_lower"] > 0
    assert rows[0]["published_consistent"]
    data = json.loads((tmp_path / "beyond_l_certified_minima.json").read_text())
    assert data["verdict"] == res["verdict"]
    assert (tmp_path / "beyond_l_certified_minima.png").stat().st_size > 1000
