"""SAT model with pipelined PE-array tiles (config ``pipelined_tiles``, RTL-backed by
``accel.hw`` ``ArrayParams(pipelined=True)``, timed by ``pe_array.tiles_cycles``)."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.sat import _kernels as K
from accel.arch.sat.config import PRESETS
from accel.arch.sat.model import simulate
from accel.arch.sat.pe_array import tiles_cycles
from accel.errors import AccelError

# the preset is pipelined; CFG is its one-tile-per-start twin, PIPE the preset itself --
# on the INT8 datapath, whose latency (MAC_LATENCY = 1) the by-hand numbers below use
# (the FP16 preset adds datapath_latency("fp16") - 1 per tile / run: tests/arch/sat/test_model.py)
CFG = dataclasses.replace(PRESETS["sat-vcu1525"], pipelined_tiles=False, array_dtype="int8")
PIPE = dataclasses.replace(CFG, pipelined_tiles=True)


def one_gemm(M, K_, N, nm, cfg, interleave=False, offline=False):
    from accel.arch.sat.schedule import engine_op, plan

    res, maps = plan([engine_op(M, K_, N, nm, cfg)], cfg, interleave, offline)
    return res[0], maps[0]


def test_golden_two_tiles_by_hand():
    # M=64, K=64, N=32 at 2:8 on the 32x32 array, no interleave/offline: two tiles (one per
    # 32-row block), 8 groups of 8 -> 8 beats each, one K chunk.
    bpc = CFG.bytes_per_cycle                                   # 288 B/cycle
    a_bytes = 32 * 64 * 2                                       # A row block, FP16
    b_bytes = 8 * (2 * 2 + 2 * 3 / 8) * 32                      # 8 groups x 32 cols, values+idx
    write = 32 * 32 * 2                                         # FP16 outputs of a tile
    # pipelined run: tile 0 = start + 8 beats = 9; tile 1 = max(8, 32) = 32 plus the
    # tail (32-1) + 1 + 32 = 64, so 96
    c0, c1 = 1 + 8, 32 + 31 + 1 + 32
    assert c0 + c1 == tiles_cycles(32, 32, [8, 8], pipelined=True) == 105
    # stages: first load, max(c0, load of tile 1 (A only; B stays)), max(c1, write 0), write 1
    expect = (a_bytes + b_bytes) / bpc + max(c0, a_bytes / bpc) + max(c1, write / bpc) \
        + write / bpc
    res, _ = one_gemm(64, 64, 32, (2, 8), PIPE)
    assert res[K.R_CYCLES] == pytest.approx(expect)
    assert round(res[K.R_CYCLES]) == 136
    assert res[K.R_COMPUTE] == 105
    # the same GEMM one tile per start: 2 x (1 + 8 + 31 + 31 + 1 + 32) = 208 compute cycles
    assert one_gemm(64, 64, 32, (2, 8), CFG)[0][K.R_COMPUTE] == 2 * 104


dims_st = st.tuples(st.integers(1, 300), st.integers(1, 700), st.integers(1, 300))


@settings(max_examples=40, deadline=None)
@given(d=dims_st, nm=st.sampled_from([None, (2, 8), (2, 4), (1, 8)]),
       interleave=st.booleans(), offline=st.booleans())
def test_pipelined_never_slower(d, nm, interleave, offline):
    M, K_, N = d
    rp, _ = one_gemm(M, K_, N, nm, PIPE, interleave, offline)
    rn, _ = one_gemm(M, K_, N, nm, CFG, interleave, offline)
    # same mapping candidates, each tile's PE-array time never longer (see below)
    assert rp[K.R_TILES] >= 1
    if not interleave:
        # square array: every tile's share of the run <= its tile_cycles, so every
        # max(compute, transfer) stage and the total are never longer
        assert rp[K.R_COMPUTE] <= rn[K.R_COMPUTE]
        assert rp[K.R_CYCLES] <= rn[K.R_CYCLES] + 1e-9
    macs = M * N * math.ceil(K_ / nm[1]) * nm[0] if nm else M * K_ * N
    assert rp[K.R_CYCLES] >= min(macs, M * K_ * N) / CFG.mac_rate


def test_row_split_partition_short_last_tile_can_lose():
    """Documented edge case, not a bug: on a row-split partition (pr < pc) the last tile
    of a run waits max(R, C) = pc steps after the previous last beat (its column-0
    shadows must hold until the row is read); with 1-beat tiles and DRAM-bound stages the
    saving on earlier tiles is hidden by transfers, so the run can be longer."""
    # 2 tiles of 2x32 (one K group, 1 beat each), 1-byte outputs; 1.5 B/cycle DRAM: the
    # second tile's weights (152 B, 101 cycles) hide the first tile's compute either way,
    # the last stage is compute-bound: pipelined max(1, 32) + 31 + 1 + 2 = 66 > 37 = tile_cycles
    row = np.array([2, 8, 64, 2, 32, 2, 32, 1, 8, 2, 1, 0, 1, 2, 2, 3, 1, 4,
                    1 << 20, 1 << 20, 1 << 20], dtype=np.int64)
    bpc = 1.5
    pipe = K.walk_gemms(row[None, :], bpc, True)[0]
    sep = K.walk_gemms(row[None, :], bpc, False)[0]
    assert pipe[K.R_COMPUTE] < sep[K.R_COMPUTE]          # 2 + 66 < 2 * 37
    assert pipe[K.R_CYCLES] > sep[K.R_CYCLES]


def test_whole_step_pipelined_faster_and_invariants():
    from accel.workloads.ops import Workload
    from accel.workloads.training import training_ops

    rng = np.random.default_rng(3)
    ops = []
    for i, (o, inp) in enumerate(((96, 64), (64, 96))):
        w = rng.standard_normal((o, inp)).astype(np.float32)
        x = rng.standard_normal((80, inp)).astype(np.float32)
        ops += training_ops(f"l{i}", w, x, 2, 8, method="bdwp", seed=0)
    wl = Workload("small", ops)
    rp = simulate(wl, PIPE, compute=True)
    rn = simulate(wl, CFG)
    assert rp.cycles < rn.cycles and rp.dense_cycles < rn.dense_cycles
    assert rp.macs == rn.macs and rp.dram_bytes == rn.dram_bytes   # same work, same traffic
    assert 1.0 <= rp.speedup_vs_dense <= rp.speedup_ceiling
    assert rp.utilization <= 1.0 and rp.cycles >= rp.macs / PIPE.mac_rate
    assert rp.config["pipelined_tiles"] is True
    for op in wl.ops:          # the functional path is the same whatever the timing
        ref = op.a.astype(np.float64) @ op.b.to_dense().astype(np.float64)
        np.testing.assert_allclose(rp.outputs[op.name], ref, rtol=1e-5, atol=1e-6)


def test_pipelined_must_be_bool():
    with pytest.raises(AccelError, match="pipelined_tiles"):
        dataclasses.replace(CFG, pipelined_tiles=1).validate()


def test_study_table_reports_both_modes():
    from accel.arch.sat.study import _markdown

    rows = [{"model": "m", "pattern": p, "speedup": s, "ceiling": 1.95, "one_tile_speedup": os_,
             "one_tile_ceiling": 1.9, "dense_cycles": 80, "one_tile_dense_cycles": 100}
            for p, s, os_ in (("2:8", 1.6, 1.4), ("2:4", 1.3, 1.2))]
    md = _markdown({"rows": rows, "ablation": [], "average": {"2:8": 1.6, "2:4": 1.3},
                    "average_one_tile": {"2:8": 1.4, "2:4": 1.2}, "paper_average_2_8": 1.75,
                    "preset": "sat-vcu1525"})
    assert "| 2:8 speedup | 2:8 one tile/start |" in md
    assert "| m | 1.600x | 1.400x | 1.950x / 1.900x | 1.300x | 1.200x |" in md
    assert "| **average** | **1.600x** | **1.400x** |" in md
    assert "| 0.800 |" in md
