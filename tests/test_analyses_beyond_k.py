"""The isotropy-families analysis script, quick version."""
import json

from analyses import common


def test_beyond_k_fast(tmp_path):
    from analyses.beyond_k_isotropy_families import main

    res = main(["--fast", "--quiet", "--out-dir", str(tmp_path), "--K-max", "24", "--n-starts", "30",
                "--check-K", "6"])
    assert res["verdict"] == common.REPRODUCED
    assert (tmp_path / res["figures"][0]).stat().st_size > 1000
    data = json.loads((tmp_path / "beyond_k_isotropy_families.json").read_text())
    num = data["numbers"]
    assert num["type_A"]["first_minimum_K"] == 6
    assert [c["K"] for c in num["type_A"]["safran_shamir"]] == [6, 10, 20]
    assert num["type_A"]["distinct_eigenvalues"] == [12]
    assert all(o["index"] == o["reduced_index"] for o in num["full_space_oracle"])
