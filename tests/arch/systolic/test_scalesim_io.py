"""Reading SCALE-Sim's scale.cfg and topology CSVs; bad files give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel.arch.systolic.model import simulate
from accel.arch.systolic.scalesim_io import read_scale_cfg, read_topology
from accel.errors import ConfigError, WorkloadError

EXAMPLE = Path(__file__).parent / "reference" / "scalesim-example"
CFG = (EXAMPLE / "scale.cfg").read_text()


def test_reads_the_example_and_reproduces_scalesim():
    cfg = read_scale_cfg(EXAMPLE / "scale.cfg")
    assert (cfg.array_rows, cfg.array_cols, cfg.dataflow, cfg.sparsity_support) == (32, 32, "ws", True)
    w = read_topology(EXAMPLE / "topology.csv")
    (op,) = w.ops
    assert (op.name, op.M, op.N, op.K, op.b.n, op.b.m) == ("ffn1_2of4", 128, 1536, 384, 2, 4)
    assert simulate(w, cfg).cycles == 63935       # scalesim-v3-cycles.csv: ffn1 2:4 ws


def _cfg(tmp_path, text):
    p = tmp_path / "scale.cfg"
    p.write_text(text)
    return p


@pytest.mark.parametrize(("edit", "match"), [
    (("Dataflow : ws", "Dataflow : rs"), "Dataflow must be one of"),
    (("ArrayHeight:    32", "ArrayHeight:    0"), "ArrayHeight must be a whole number"),
    (("ArrayWidth:     32", "ArrayWidth:     3x"), "ArrayWidth must be a whole number"),
    (("ArrayWidth:     32\n", ""), "missing key 'ArrayWidth'"),
    (("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER"), "InterfaceBandwidth 'USER' is not modelled"),
    (("OptimizedMapping : false", "OptimizedMapping : true"), "OptimizedMapping true"),
    (("SparsitySupport : true", "SparsitySupport : maybe"), "SparsitySupport must be true or false"),
    (("[sparsity]", "[sparse]"), r"missing section \[sparsity\]"),
    (("[general]", "general]"), "malformed scale.cfg"),
])
def test_bad_cfg(tmp_path, edit, match):
    old, new = edit
    assert old in CFG
    with pytest.raises(ConfigError, match=match) as exc:
        read_scale_cfg(_cfg(tmp_path, CFG.replace(old, new)))
    assert "\n" not in str(exc.value)


def test_sparsity_support_false_reads(tmp_path):
    cfg = read_scale_cfg(_cfg(tmp_path, CFG.replace("SparsitySupport : true", "SparsitySupport : false")))
    assert cfg.sparsity_support is False
    w = read_topology(EXAMPLE / "topology.csv")
    res = simulate(w, cfg)
    assert res.cycles == res.dense_cycles == 127871    # ffn1 dense ws in scalesim-v3-cycles.csv


def test_missing_files():
    with pytest.raises(ConfigError, match="not found"):
        read_scale_cfg("/nonexistent/scale.cfg")
    with pytest.raises(ConfigError, match="not found"):
        read_topology("/nonexistent/t.csv")


def _topo(tmp_path, text):
    p = tmp_path / "layers.csv"
    p.write_text(text)
    return p


def test_gemm_topology_forms(tmp_path):
    w = read_topology(_topo(tmp_path, "Layer, M, N, K, Sparsity,\n\na, 4, 5, 6,\nb, 7, 8, 9, 1:1,\n"
                                      "c, 2, 3, 10, 3:8,\n"))
    assert [o.format for o in w.ops] == ["dense", "dense", "nm"]
    assert [(o.M, o.N, o.K) for o in w.ops] == [(4, 5, 6), (7, 8, 9), (2, 3, 10)]


def test_conv_topology(tmp_path):
    text = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,\n"
            "Conv1, 224, 224, 7, 7, 3, 64, 2,\n"
            "CB2a_DP, 56, 56, 3, 3, 64, 1, 1, 2:4,\n")
    w = read_topology(_topo(tmp_path, text))
    c1, dp = w.ops
    assert (c1.M, c1.K, c1.N, c1.repeat) == (110 * 110, 7 * 7 * 3, 64, 1)   # ceil((224 - 7 + 2) / 2) = 110
    assert (dp.M, dp.K, dp.N, dp.repeat, dp.format) == (54 * 54, 9, 1, 64, "nm")


@pytest.mark.parametrize(("text", "match"), [
    ("Layer, M, N, K,\na, 4, 5, 6\n", "must end with a comma"),
    ("Layer, M, N, K,\na, 4, 5,\n", "expected 4-5 fields"),
    ("Layer, M, N, K,\na, 4, -5, 6,\n", "N must be a whole number"),
    ("Layer, M, N, K,\na, 4, 0, 6,\n", "N must be a whole number"),
    ("Layer, M, N, K,\na, 4, 5, 6, 5:4,\n", "needs 1 <= N <= M"),
    ("Layer, M, N, K,\na, 4, 5, 6, 2-4,\n", "sparsity must look like 2:4"),
    ("Layer, M, N, K,\na, 4, 5, 6,\na, 4, 5, 6,\n", "duplicate layer name 'a'"),
    ("Layer, M, N, K,\n", "no layers"),
    ("Layer, M, N, K,\n, 4, 5, 6,\n", "empty layer name"),
    ("Layer, M, N, K,\na, 4, 5, 6,\nc, 9, 9, 3, 3, 1, 1, 1,\n", "conv row in a gemm topology"),
    ("h\nc, 2, 2, 3, 3, 1, 1, 1,\n", "filter 3x3 larger than IFMAP 2x2"),
])
def test_bad_topology(tmp_path, text, match):
    with pytest.raises(WorkloadError, match=match) as exc:
        read_topology(_topo(tmp_path, text))
    assert "\n" not in str(exc.value) and "layers.csv:" in str(exc.value) or "no layers" in match
