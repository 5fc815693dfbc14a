"""SAT model: golden cycles, invariants, functional path."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.sat import _kernels as kernels
from accel.arch.sat.config import PRESETS, SatConfig
from accel.arch.sat.model import functional, simulate
from accel.arch.sat.pe_array import datapath_latency, tile_beats, tile_cycles, tiles_cycles
from accel.arch.sat.schedule import engine_op, plan
from accel.errors import AccelError
from accel.workloads.formats import nm_compress
from accel.workloads.ops import Gemm, Workload
from accel.workloads.training import training_ops

CFG = PRESETS["sat-vcu1525"]                       # pipelined array (sat-3 default), FP16
ONE = dataclasses.replace(CFG, pipelined_tiles=False)   # one tile per start
INT8 = dataclasses.replace(CFG, array_dtype="int8")     # the goldens' datapath (MAC_LATENCY 1)


def one_gemm(M, K, N, nm, cfg=CFG, interleave=False, offline=False):
    res, _ = plan([engine_op(M, K, N, nm, cfg)], cfg, interleave, offline)
    return res[0]


def model_op_cycles(M, K, N, nm, cfg=CFG, interleave=True, offline=True):
    """Engine cycles of one N:M fwd GEMM and its dense baseline, through simulate()."""
    rng = np.random.default_rng(0)
    b = nm_compress(rng.standard_normal((K, N)), nm[0], nm[1], axis=0)
    w = Workload("one", [Gemm("g:fwd", "fwd", M, K, N, b)])
    op = simulate(w, cfg, interleave=interleave, offline_sched=offline).per_op[0]
    return op["cycles"], op["dense_cycles"], op["macs"]


def test_single_tile_by_hand():
    # one 32x32 tile, K=64: 8 groups of 8; dense mode streams 4 beats per group (2 mults)
    bpc = CFG.bytes_per_cycle
    for nm, beats, b_bytes in ((None, tile_beats(64, 2, 8, True), 64 * 32 * 2),
                               ((2, 8), tile_beats(64, 2, 8, False), 16 * 32 * 2 + 16 * 32 * 3 / 8)):
        load = 32 * 64 * 2 + b_bytes
        write = 32 * 32 * 2
        expect = load / bpc + tile_cycles(32, 32, beats, "fp16") + write / bpc
        assert one_gemm(32, 64, 32, nm, ONE)[0] == pytest.approx(expect)
        # the preset's pipelined array: a one-tile run skips the row skew (R-1 = 31)
        assert (tiles_cycles(32, 32, [beats], True, "fp16")
                == tile_cycles(32, 32, beats, "fp16") - 31)
        assert one_gemm(32, 64, 32, nm)[0] == pytest.approx(expect - 31)


@pytest.mark.parametrize("M,K,N,nm,golden", [
    (128, 384, 384, (2, 8), 7030),
    (128, 384, 384, None, 14002),
    (64, 1536, 96, (2, 4), 3431),
    (100, 200, 50, (2, 8), 1026),
])
def test_golden_cycles(M, K, N, nm, golden):
    """One tile per start (the preset before sat-3), INT8 contract; the preset's FP16
    datapath adds its extra latency to every tile (same mapping, same tiles)."""
    int8 = one_gemm(M, K, N, nm, dataclasses.replace(INT8, pipelined_tiles=False),
                    interleave=True, offline=True)
    assert round(int8[0]) == golden
    fp16 = one_gemm(M, K, N, nm, ONE, interleave=True, offline=True)
    extra = datapath_latency("fp16") - datapath_latency("int8")
    assert fp16[0] == pytest.approx(int8[0] + extra * int8[kernels.R_TILES])


@pytest.mark.parametrize("M,K,N,nm,golden", [
    (128, 384, 384, (2, 8), 2612),
    (128, 384, 384, None, 9331),
    (64, 1536, 96, (2, 4), 2584),
    (100, 200, 50, (2, 8), 410),
])
def test_golden_cycles_pipelined_preset(M, K, N, nm, golden):
    """The same GEMMs on the preset's pipelined array (regression values of sat-3, INT8
    contract); FP16 adds its extra latency once, to the run's tail."""
    int8 = one_gemm(M, K, N, nm, INT8, interleave=True, offline=True)[0]
    assert round(int8) == golden
    extra = datapath_latency("fp16") - datapath_latency("int8")
    assert one_gemm(M, K, N, nm, interleave=True, offline=True)[0] == pytest.approx(int8 + extra)


def test_generation_golden_by_hand():
    """MiniLM FFN1 weight W (1536, 384) at 2:8: the RTL generator takes 8 x 32 blocks,
    192 x 12 = 2304 of them, + start + output register = 2306 cycles; it reads W once
    (1536*384*2 B) and writes both masks' kept weights, 2 x 147,456 x (2 B + 3 bits):
    1,880,064 B at 288 B/cycle = 6,528 cycles, so DRAM-bound.  bwd_data gets no pass."""
    from accel.arch.sat.model import _generation
    from accel.arch.sat.weight_gen import gen_beats, gen_cycles

    assert gen_cycles(gen_beats(1536, 384, 8, 32)) == 2306
    rng = np.random.default_rng(1)
    ops = training_ops("ffn1", rng.standard_normal((1536, 384)).astype(np.float32),
                       rng.standard_normal((4, 384)).astype(np.float32), 2, 8)
    pats = [(2, 8), (2, 8), None]
    gen, nbytes = _generation(ops, pats, CFG)
    assert nbytes == 1536 * 384 * 2 + 2 * 147456 * (2 + 3 / 8) == 1880064
    assert gen[0] == pytest.approx(1880064 / CFG.bytes_per_cycle) == pytest.approx(6528)
    assert gen[1] == 0 and gen[2] == 0
    fast = dataclasses.replace(CFG, dram_channels=64)    # compute-bound: the RTL contract
    assert _generation(ops, pats, fast)[0][0] == 2306


def small_workload(seed=0, n=2, m=8, method="bdwp", tokens=48, dims=((40, 24), (24, 40))):
    rng = np.random.default_rng(seed)
    ops = []
    for i, (o, inp) in enumerate(dims):
        w = rng.standard_normal((o, inp)).astype(np.float32)
        x = rng.standard_normal((tokens, inp)).astype(np.float32)
        ops += training_ops(f"l{i}", w, x, n, m, method=method, seed=seed)
    return Workload("small", ops)


def test_functional_outputs_equal_numpy():
    for method in ("bdwp", "srste", "dense"):
        res = simulate(small_workload(method=method), CFG, compute=True)
        for op in small_workload(method=method).ops:
            ref = op.a.astype(np.float64) @ op.b.to_dense().astype(np.float64)
            np.testing.assert_allclose(res.outputs[op.name], ref, rtol=1e-5, atol=1e-6)


def test_result_fields_and_phase_sum():
    r = simulate(small_workload(), CFG)
    d = r.to_dict()
    assert sum(v["cycles"] for v in d["per_phase"].values()) == pytest.approx(d["cycles"], abs=4)
    assert {"fwd", "bwd_data", "bwd_weight", "update"} <= set(d["per_phase"])
    assert 1.0 < r.speedup_vs_dense <= r.speedup_ceiling
    assert all(isinstance(v, float) for v in r.metrics().values())


dims_st = st.tuples(st.integers(1, 300), st.integers(1, 600), st.integers(1, 300))


@settings(max_examples=40, deadline=None)
@given(d=dims_st, nm=st.sampled_from([(2, 8), (2, 4), (1, 8), (4, 8)]),
       interleave=st.booleans(), offline=st.booleans())
def test_nm_never_slower_than_dense_and_mac_bound(d, nm, interleave, offline):
    M, K, N = d
    sp, de, macs = model_op_cycles(M, K, N, nm, interleave=interleave, offline=offline)
    assert sp <= de
    g = CFG.group_m // nm[1]   # n:m streams as (n*g):(m*g) over whole hardware windows
    assert macs in (M * N * math.ceil(K / CFG.group_m) * nm[0] * g, M * K * N)  # N:M or dense
    assert sp >= macs / CFG.mac_rate - 0.5    # per-op cycles are rounded to integers
    assert de >= M * K * N / CFG.mac_rate - 0.5


@settings(max_examples=30, deadline=None)
@given(d=dims_st, nm=st.sampled_from([None, (2, 8), (2, 4)]),
       bw=st.floats(1.0, 4.0), buf=st.sampled_from([1, 2, 4, 8]), interleave=st.booleans())
def test_more_bandwidth_or_buffer_never_slower(d, nm, bw, buf, interleave):
    M, K, N = d
    small = dataclasses.replace(CFG, act_buffer_kb=16, weight_buffer_kb=16, output_buffer_kb=16)
    base = one_gemm(M, K, N, nm, small, interleave, True)[0]
    faster = dataclasses.replace(small, dram_gbps_per_channel=small.dram_gbps_per_channel * bw)
    bigger = dataclasses.replace(small, act_buffer_kb=16 * buf, weight_buffer_kb=16 * buf,
                                 output_buffer_kb=16 * buf)
    assert one_gemm(M, K, N, nm, faster, interleave, True)[0] <= base + 1e-6
    assert one_gemm(M, K, N, nm, bigger, interleave, True)[0] <= base + 1e-6


def test_whole_step_monotone_in_bandwidth():
    w = small_workload(tokens=200, dims=((256, 128), (128, 256)))
    a = simulate(w, CFG).cycles
    b = simulate(w, dataclasses.replace(CFG, dram_channels=8)).cycles
    assert b <= a


def test_optimisations_never_hurt_this_workload():
    w = small_workload(tokens=16, dims=((24, 8), (8, 24)))
    on = simulate(w, CFG).cycles
    assert on <= simulate(w, CFG, pregen=False).cycles
    assert on <= simulate(w, CFG, offline_sched=False).cycles


@pytest.mark.parametrize("change,needle", [
    ({"pe_rows": 0}, "pe_rows must be positive"),
    ({"supported_patterns": ("2:16",)}, "group_m"),
    ({"optimizer": "lamb"}, "optimizer"),
])
def test_bad_config(change, needle):
    with pytest.raises(AccelError, match=needle):
        dataclasses.replace(SatConfig(), **change).validate()


def test_unsupported_pattern_and_tiny_buffer():
    with pytest.raises(AccelError, match="3:8 .*not supported"):
        simulate(small_workload(n=3, m=8), CFG)
    with pytest.raises(AccelError, match="too small to hold one tile"):
        simulate(small_workload(), dataclasses.replace(CFG, weight_buffer_kb=0 + 1, pe_cols=512))


def test_no_training_phases_is_an_error():
    op = small_workload().ops[0]
    inf = Workload("inf", [Gemm("x", "infer", op.M, op.K, op.N, op.b, a=op.a)])
    with pytest.raises(AccelError, match="no fwd/bwd_data/bwd_weight"):
        simulate(inf, CFG)


def test_functional_needs_values():
    from accel.workloads.formats import Dense

    with pytest.raises(AccelError, match="metadata-only"):
        functional(Gemm("x", "fwd", 2, 3, 4, Dense((3, 4))))


def test_nm_pattern_fills_a_wider_engine():
    # 2:4 on 8-wide windows with 4 multipliers per PE streams as 4:8: one beat per window,
    # half the dense beats -- not one beat per 4 activations, which would equal dense mode
    wide = dataclasses.replace(CFG, mults_per_pe=4)
    sp, de, _ = model_op_cycles(128, 1536, 128, (2, 4), cfg=wide, interleave=False,
                                offline=False)
    assert sp < 0.75 * de
