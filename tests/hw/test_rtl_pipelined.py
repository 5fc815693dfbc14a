"""RTL regression of the pipelined array (shadow accumulators): marker rtl.

Real pruned MiniLM 2:8 tiles (Q projection, FFN1, FFN2: 48 and 192 beats) mixed with
short tiles cut from the same real operands (1 and 3 beats < the 4-step drain, and a K
that is not a multiple of M), fed back to back in runs after one ``start``: unstalled,
with random valid/ready stalls on all three streams, and a reset in the middle of a
stalled run followed by a clean run.  Every output bit-exact against NumPy; the RTL
run counter equal to ``tiles_cycles(..., pipelined=True)`` (zero difference), and the
unstalled start->done wall count too.  One Verilator build.
"""

from __future__ import annotations

import pytest

from accel.arch.sat.pe_array import pipelined_spacing, tiles_cycles
from accel.hw.blocks.pe_array import cosim
from accel.hw.blocks.pe_array.params import ArrayParams

pytestmark = pytest.mark.rtl

P = ArrayParams(4, 4, 2, 8, pipelined=True)


def test_minilm_runs_pipelined(rtl_tiles):
    long = rtl_tiles["layer_tiles"](P, "2:8")                    # 6 real tiles
    short = [rtl_tiles["ragged"](P, "2:8", k) for k in (8, 20, 5, 130)]  # 1, 3, 1, 17 beats
    tiles = long + short
    beats = [-(-t.a_q.shape[1] // P.m) for t in tiles]
    s = pipelined_spacing(P.rows, P.cols)
    assert sum(b < s for b in beats) >= 3 and max(beats) == 192
    L, S = list(range(len(long))), [len(long) + i for i in range(len(short))]
    runs = [
        [L[0], S[0], S[1], L[2], S[2], S[0], L[4], L[1], S[3], L[3], S[1], L[5]],  # mixed
        [S[0], S[2], S[1], S[0]],                                  # only short tiles
        [L[4]],                                                    # a run of one tile
    ]
    rep = cosim.run_tiles(P, tiles, runs=runs, seed=11)
    assert rep.tests_failed == 0, rep.log
    assert rep.tests == 3
    by = {(o["scenario"], o["name"]): o for o in rep.outcomes}
    assert {k for k, _ in by} == {"unstalled", "random_stalls", "after_reset"}
    for run_i, idx in enumerate(runs):
        model = tiles_cycles(P.rows, P.cols, [beats[i] for i in idx], pipelined=True)
        for scen in ("unstalled", "random_stalls"):
            o = by[(scen, f"run{run_i}")]
            assert o["model_cycles"] == model
            assert o["rtl_cycles"] == model, o
            assert o["output_mismatches"] == 0 and o["row_order_ok"], o
            assert o["outputs_checked"] == len(idx) * P.rows * P.cols
        assert by[("unstalled", f"run{run_i}")]["wall_cycles"] == model
        assert by[("random_stalls", f"run{run_i}")]["wall_cycles"] > model
    after = by[("after_reset", "after_reset")]
    assert after["rtl_cycles"] == after["wall_cycles"] == after["model_cycles"]
    assert after["output_mismatches"] == 0
    assert rep.cycle_mismatches == 0 and rep.output_mismatches == 0
    # the pipelined run really is shorter than the same tiles one start at a time
    sep = tiles_cycles(P.rows, P.cols, [beats[i] for i in runs[0]], pipelined=False)
    assert by[("unstalled", "run0")]["rtl_cycles"] < sep
