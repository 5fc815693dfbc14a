"""FP16 training datapath in Verilator (marker rtl): real MiniLM BDWP training tiles.

fwd tiles (forward mask: N:M along input channels), bwd_data tiles (the transposed
mask: N:M along output channels) and dense bwd_weight tiles of encoder layer 0, cut
from ``minilm-l6 --training --prune bdwp:N:M`` and rounded to FP16.  Every FP32
result is compared bit for bit with ``accel.arch.sat.fp16.gemm_reference_exact`` (exact
accumulation, one rounding); every tile (one-tile array) or run (pipelined array) takes
exactly ``tile_cycles`` / ``tiles_cycles`` with ``dtype="fp16"`` (the pipelined
datapath's latencies) -- unstalled, with random valid/ready stalls on all streams, and after
a reset in the middle of a stalled tile/run.  Arrays: 4x4 2:8 one tile per start (the
CLI's default configuration), 4x8 2:4 pipelined (non-square) and 8x8 2:8 pipelined.
"""

from __future__ import annotations

import pytest

from accel.arch.sat.pe_array import pipelined_spacing, tiles_cycles
from accel.hw.blocks.pe_array import cosim
from accel.hw.blocks.pe_array.params import ArrayParams
from tests.hw.test_rtl_regression import _assert_report

pytestmark = pytest.mark.rtl

LAYERS = ("encoder.layer.0.intermediate.dense", "encoder.layer.0.attention.self.query")
PHASES = ("fwd", "bwd_data", "bwd_weight")
SEQ_LEN = 8


def training_tiles(p: ArrayParams, prune: str, per_op: int, layers=LAYERS):
    from accel.workloads.builtin import resolve

    wl = resolve("minilm-l6", prune=prune, training=True, seq_len=SEQ_LEN)
    ops = {op.name: op for op in wl.ops}
    tiles, phase_of = [], {}
    for layer in layers:
        for ph in PHASES:
            for t in cosim.op_tiles_fp16(ops[f"{layer}:{ph}"], p, max_tiles=per_op):
                tiles.append(t)
                phase_of[t.name] = ph
    return tiles, phase_of, ops


def test_fp16_4x4_bdwp28_phases():
    p = ArrayParams.fp16(4, 4, 2, 8)
    tiles, phase_of, ops = training_tiles(p, "bdwp:2:8", per_op=2)
    # the operands really are the three phases: fwd N:M along input channels, bwd_data
    # N:M along output channels (K = out = 1536 for FFN1), bwd_weight dense (K = tokens)
    ffn = "encoder.layer.0.intermediate.dense"
    assert ops[f"{ffn}:fwd"].K == 384 and ops[f"{ffn}:bwd_data"].K == 1536
    assert ops[f"{ffn}:bwd_data"].b.kind == "nm" and ops[f"{ffn}:bwd_weight"].b.kind == "dense"
    assert {t.dense for t in tiles} == {True, False}
    rep = cosim.run_tiles(p, tiles, seed=13)
    _assert_report(rep, tiles, {"unstalled", "random_stalls", "after_reset"})
    # FP32 accumulators that are not trivially zero, in every phase
    for ph in PHASES:
        assert any((t.expected != 0).mean() > 0.9 for t in tiles if phase_of[t.name] == ph)


def _pipelined(p, prune, seed):
    tiles, phase_of, _ = training_tiles(p, prune, per_op=2)
    beats = [-(-t.a_q.shape[1] // p.m) * (-(-p.m // p.n) if t.dense else 1) for t in tiles]
    n = len(tiles)
    runs = [list(range(n)),                         # every phase back to back
            [i for i in range(n) if phase_of[tiles[i].name] == "bwd_weight"] * 2,
            [n - 1]]
    rep = cosim.run_tiles(p, tiles, runs=runs, seed=seed)
    assert rep.tests_failed == 0, rep.log
    by = {(o["scenario"], o["name"]): o for o in rep.outcomes}
    for i, idx in enumerate(runs):
        model = tiles_cycles(p.rows, p.cols, [beats[j] for j in idx], pipelined=True,
                             dtype="fp16")
        for scen in ("unstalled", "random_stalls"):
            o = by[(scen, f"run{i}")]
            assert o["model_cycles"] == o["rtl_cycles"] == model, o
            assert o["output_mismatches"] == 0 and o["row_order_ok"], o
            assert o["outputs_checked"] == len(idx) * p.rows * p.cols
        assert by[("unstalled", f"run{i}")]["wall_cycles"] == model
    after = by[("after_reset", "after_reset")]
    assert after["rtl_cycles"] == after["wall_cycles"] == after["model_cycles"]
    assert after["output_mismatches"] == 0
    assert rep.cycle_mismatches == 0 and rep.output_mismatches == 0
    return beats


def test_fp16_4x8_bdwp24_pipelined():
    p = ArrayParams.fp16(4, 8, 2, 4, pipelined=True)
    beats = _pipelined(p, "bdwp:2:4", seed=17)
    # bwd_weight tiles (K = 8 tokens, dense: 2 groups x 2 beats) are shorter than the
    # drain spacing max(R, C) = 8: the controller's hold rule is exercised
    assert min(beats) < pipelined_spacing(4, 8)


def test_fp16_8x8_bdwp28_pipelined():
    p = ArrayParams.fp16(8, 8, 2, 8, pipelined=True)
    beats = _pipelined(p, "bdwp:2:8", seed=19)
    assert min(beats) < pipelined_spacing(8, 8) < max(beats)
