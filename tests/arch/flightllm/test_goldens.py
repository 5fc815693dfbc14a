"""Hand-derived cycle goldens for tiny FlightLLM programs (DESIGN.md: goldens by hand).

HBM arguments chosen so every figure is derivable on paper: 2 B/cycle per channel
(1 B/cycle through the switch), 32 channels, 256 B interleave, 32 B access granule,
10 cycles to open a row, 20 cycles of latency.
"""

import dataclasses

import numpy as np

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm import decode as D
from accel.arch.flightllm._kernels import execute
from accel.arch.flightllm.isa import LD, MISC, MM, MV, N_UNITS, ST, HbmSettings, from_rows

ONE, CROSS = 1, 2                    # transfer kinds routed to one channel / the switch
HBM = HbmSettings(ch_bytes_per_cycle=2.0, n_channels=32, interleave=256, access=32,
                  row_cycles=10.0, latency_cycles=20.0, cross_kinds=1 << CROSS,
                  cross_bytes_per_cycle=1.0, one_kinds=1 << ONE)


def _prog(*rows):
    return from_rows(list(rows))


def _run(prog):
    start, fin, busy, nbytes, status = execute(prog, np.zeros((N_UNITS, N_UNITS), np.int64),
                                               HBM)
    assert status == -1
    return start, fin, busy


def test_ld_mv_misc_chain():
    """LD 4096 B: 16 chunks of 256 B on 16 channels, each 10 + 256/2 = 138 cycles, +20
    latency = 158; MV 100 cycles -> 258; MISC 50 -> 308."""
    prog = _prog({"unit": LD, "nbytes": 4096, "rel": 1 << MV},
                 {"unit": MV, "cycles": 100, "wait": 1 << LD, "rel": 1 << MISC},
                 {"unit": MISC, "cycles": 50, "wait": 1 << MV})
    start, fin, busy = _run(prog)
    np.testing.assert_allclose(fin, [158.0, 258.0, 308.0])
    np.testing.assert_allclose(start, [0.0, 158.0, 258.0])
    np.testing.assert_allclose(busy[[LD, MV, MISC]], [158.0, 100.0, 50.0])


def test_ld_second_piece_on_a_channel_queues():
    """33 chunks of 256 B from channel 0: channel 0 serves two pieces (512 B) in one
    stream: 10 + 512/2 = 266, +20 = 286."""
    _, fin, _ = _run(_prog({"unit": LD, "nbytes": 33 * 256}))
    np.testing.assert_allclose(fin, [286.0])


def test_token_serialised_store_load_round_trip():
    """MV 40 -> ST 64 B in one channel (10 + 64/2 = 42, +20: 102) -> LD 64 B through the
    switch (10 + 64/1 = 74, +20: 196) -> MISC 10: 206."""
    prog = _prog({"unit": MV, "cycles": 40, "rel": 1 << ST},
                 {"unit": ST, "nbytes": 64, "kind": ONE, "ch": 3, "wait": 1 << MV,
                  "rel": 1 << LD},
                 {"unit": LD, "nbytes": 64, "kind": CROSS, "ch": 3, "wait": 1 << ST,
                  "rel": 1 << MISC},
                 {"unit": MISC, "cycles": 10, "wait": 1 << LD})
    start, fin, _ = _run(prog)
    np.testing.assert_allclose(fin, [40.0, 102.0, 196.0, 206.0])
    np.testing.assert_allclose(start, [0.0, 40.0, 102.0, 196.0])


def test_barrier_waits_for_everything_before_it():
    """An untokened MISC after a 158-cycle LD starts at 0; with "bar" at 158."""
    rows = ({"unit": LD, "nbytes": 4096}, {"unit": MISC, "cycles": 5})
    _, fin, _ = _run(_prog(*rows))
    np.testing.assert_allclose(fin, [158.0, 5.0])
    _, fin, _ = _run(_prog(rows[0], {**rows[1], "bar": 1}))
    np.testing.assert_allclose(fin, [158.0, 163.0])


def test_artifact_instruction_cycles_by_hand():
    """vhk158-artifact: one dense MV instruction of the artifact (K = 4096, 512 columns)
    is 4096 x 512 MACs over 4 SLRs x 1024 MACs: 512 cycles (model 0.5: no 80 % SLR
    efficiency; was 640), with no issue overhead and no chain fill, as its profiler;
    RMSNorm of 4096 is 2 passes x 4096 / (4 x 16) = 128 cycles (was 160); SiLU of 11008:
    11008 / 64 = 172 (was 215)."""
    cfg = PRESETS["vhk158-artifact"]
    b = C.Builder(cfg)
    assert int(b.compute_cycles(MV, 4096 * 512)) == 512
    assert int(b.misc_cycles(4096, C.K_NORM)) == 128
    assert int(b.misc_cycles(11008, C.K_ACTFN)) == 172
    u = dataclasses.replace(PRESETS["u280"], slr_parallel_efficiency=1.0)
    # U280: 4 issue + the 16/2 chain's fill (5 fixed stages + 2 cascade + log2(8) = 3 tree
    # levels = 10, the RTL's) + ceil(4096 x 512 / 3072) = 4 + 10 + 683
    assert int(C.Builder(u).compute_cycles(MV, 4096 * 512)) == 4 + 10 + 683
    no_fill = dataclasses.replace(u, count_chain_fill=False)
    assert int(C.Builder(no_fill).compute_cycles(MV, 4096 * 512)) == 4 + 683


def _dense_linear(cfg, k: int, n: int):
    """A dense op outside FSB mode: values only (the artifact's mask_mode none)."""
    block_n = np.full((k // 16, n // 16), 16, np.int64)
    return C.weight_tiles("w", k, block_n, cfg, sparse=np.zeros(n // 16, bool))


def test_fsb_mode_bytes_by_hand():
    """An all-16:16 INT8 op, K = 64, N = 32 (two 16-column stripes of 4 blocks): outside
    FSB mode 64 x 32 = 2048 B; in FSB mode (``fsb_all_linears``, the U280) each kept weight
    adds its 4-bit index (64 x 16 / 2 = 512 B per stripe) and each block its FSB byte
    (4 per stripe): 2 x (1024 + 512 + 4) = 3080 B.  Chain slots do not change."""
    block_n = np.full((4, 2), 16, np.int64)
    for fsb, want in ((False, 2048), (True, 3080)):
        cfg = dataclasses.replace(PRESETS["u280"], weight_bits=8.0, fsb_all_linears=fsb)
        t = C.weight_tiles("w", 64, block_n, cfg)
        assert t.total_bytes == want
        assert int(t.slots.sum()) == int(C.weight_tiles(
            "w", 64, block_n, dataclasses.replace(cfg, fsb_all_linears=not fsb)).slots.sum())


def test_whole_instruction_slr_split_by_hand():
    """An MV op's 512-column instructions are dealt whole to the SLRs; the op ends with
    the busiest SLR (model 0.5).  K = 64, setup 0, 1024 MACs/cycle per SLR:
    * N = 4096 on 3 SLRs: 8 instructions -> 3, 3, 2; the op takes 3 x 64 x 512 / 1024 =
      96 cycles (an even split: 8 x 32768 / 3072 = 85.3 -> 86);
    * N = 1536 on 3 SLRs: 3 instructions, one each: 32 cycles, as even;
    * N = 600 on 4 SLRs: padded to 1024 columns, 2 instructions, 2 SLRs idle: 64 x 512 /
      1024 = 32 cycles (even: 64 x 1024 / 4096 = 16)."""
    base = dataclasses.replace(PRESETS["u280"], compute_issue_cycles=0, count_chain_fill=False, weight_tile_kb=512)
    for cores, n, want, even in ((3, 4096, 96, 86), (3, 1536, 32, 32), (4, 608, 32, 16)):
        cfg = dataclasses.replace(base, cores=cores)
        for split, expect in ((True, want), (False, even)):
            c = dataclasses.replace(cfg, slr_whole_instr_split=split)
            b = C.Builder(c)
            b.linear(_dense_linear(c, 64, n), 1)
            prog = b.build()
            mv = prog[prog["unit"] == MV]
            assert int(mv["cycles"].sum()) == expect, (cores, n, split)
    assert C.slr_share(8, 3) == 9 / 8 and C.slr_share(32, 4) == 1.0


def test_broadcast_input_by_hand():
    """Off chip, every SLR loads an MV op's whole input vector (model 0.5): 4096 B on 4
    SLRs is one LD of 16384 B in 4 slices of 4096 B on 4 channels through the switch:
    10 + 4096 / 1 = 4106 cycles per slice, + 20 latency = 4126, the same time as one
    4096-B load but 4x the bytes."""
    cfg = dataclasses.replace(PRESETS["u280"], cores=4)
    b = C.Builder(cfg, vectors=True)
    b.act_in(MV, 4096, 0)
    prog = b.build()
    ld = prog[prog["unit"] == LD]
    assert ld["nbytes"][0] == 16384 and ld["split"][0] == 4
    prog["kind"] = np.where(prog["unit"] == LD, CROSS, 0)
    _, fin, _ = _run(prog)
    assert fin[0] == 4126.0
    one = dataclasses.replace(cfg, slr_broadcast_inputs=False)
    b = C.Builder(one, vectors=True)
    b.act_in(MV, 4096, 0)
    assert b.build()["nbytes"][0] == 4096


def test_prefill_weight_reload_by_hand():
    """Prefill as the artifact's IR_linear_mm (model 0.6): each group of mm_token_tile
    token rows streams every weight tile again, each SLR's slice through the switch on its
    fixed channel.  Dense INT8 K = 64, N = 32 (one 2048-B tile), 4 rows in groups of 2, 2
    SLRs of 16 MACs/cycle, so each MM is 2 x 64 x 32 / 32 = 128 cycles.
    * reload: LD 1 = 2 slices of 1024 B on channels 0 and 16, 10 + 1024 / 1 = 1034, +20 =
      1054; LD 2 queues behind it on the same channels: 2068, +20 = 2088; MM 1 1054 ->
      1182, MM 2 waits LD 2: 2088 -> 2216 (the op is LD-bound);
    * weight-stationary, striped (the U280's prefill): one LD of 8 x 256 B chunks on 8 channels,
      10 + 128 = 138, +20 = 158; MM 158 -> 286 -> 414."""
    base = dataclasses.replace(PRESETS["u280"], cores=2, mm_macs_per_core=16, weight_bits=8.0,
                               compute_issue_cycles=0, count_chain_fill=False, mm_token_tile=2)
    for reload, want in ((True, [1054.0, 2088.0, 1182.0, 2216.0]),
                         (False, [158.0, 286.0, 414.0])):
        cfg = dataclasses.replace(base, prefill_weight_stream=reload)
        b = C.Builder(cfg)
        b.linear(_dense_linear(cfg, 64, 32), 4)
        prog = b.build()
        ld = prog[prog["unit"] == LD]
        assert list(ld["nbytes"]) == [2048] * (2 if reload else 1)
        if reload:
            assert set(ld["kind"]) == {C.K_WEIGHT_X} and set(ld["split"]) == {2}
            assert set(ld["ch"]) == {0}
        assert list(prog[prog["unit"] == MM]["cycles"]) == [128] * 2
        prog["wait"] &= ~(1 << MM)          # unlimited weight slots: no credits needed
        prog["kind"] = np.where((prog["unit"] == LD) & reload, CROSS, 0)
        _, fin, _ = _run(prog)
        np.testing.assert_allclose(fin, want)


def test_int32_bias_loads_of_qkvo(tiny_config):
    """vhk158-artifact loads the IR's INT32 biases of q/k/v/o (N x 4 B, one LD each, one
    slice per SLR through one channel) before their weights; no other op has one."""
    from accel.arch.flightllm.model import weight_block_ns
    from accel.workloads.llm import llm_workload, shape_of

    w = llm_workload(tiny_config, 128, 16)
    shape = shape_of(w)
    for bias in (True, False):
        cfg = dataclasses.replace(PRESETS["vhk158-artifact"], int32_bias_qkvo=bias)
        tiles = C.fused_tiles(shape, weight_block_ns(w, shape), cfg)
        lay = D.decode_parts(shape, tiles, cfg, 40, on_chip=False)[1]
        # an LD that nothing waits for (no release), one slice per SLR, before a weight LD
        sizes = [lay["nbytes"][i] for i in range(len(lay)) if lay["unit"][i] == LD
                 and lay["kind"][i] == C.K_ACT_VEC and lay["split"][i] == cfg.cores
                 and lay["wait"][i] == 0 and lay["rel"][i] == 0
                 and C.K_WEIGHT in lay["kind"][i + 1:i + 3]]
        want = [tiles[n].N * 4 for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        assert sizes == (want if bias else []), (bias, sizes)


def test_per_head_softmax_overlaps_the_next_heads_by_hand():
    """QK^T with the softmax fused per head (the artifact's attention_mv, model 0.6): 4
    heads of 32 on 2 SLRs = 2 rounds; ctx 17 in MV instructions of 16 keys: 2 per round,
    the second holding only the on-chip key (no LD).  MV 16 x 32 x 2 lanes / (2 x 8) = 64
    cycles; softmax 2 passes x 17 x 2 / (1 x 2) = 34.  HBM as above, slots unlimited:
    * q LD 128 B on channel 0: 10 + 64 = 74, +20 = 94;
    * K of round 0, 1024 B from channel 0: channel 0 frees at 74, 74 + 10 + 128 = 212, +20
      = 232; MVs 232 -> 296 -> 360; softmax 0: 360 -> 394, while
    * K of round 1 (head-major cache: channel 0 again) queues: 212 + 138 = 350, +20 = 370;
      MVs 370 -> 434 -> 498; softmax 1 498 -> 532;
    * the scores, 4 x 17 = 68 B (3 granules): 532 + 10 + 48 = 590, +20 = 610."""
    cfg = dataclasses.replace(PRESETS["u280"], cores=2, mv_macs_per_core=8,
                              compute_issue_cycles=0, count_chain_fill=False, misc_setup_cycles=0,
                              sfu_elems_per_cycle=1, mv_cols_per_instr=16)
    b = C.Builder(cfg)
    b.qk_softmax_heads(17, 32, 4, 4 * 32, 128)
    prog = b.build()
    units = list(prog["unit"])
    assert units == [LD, MV, LD, MV, MV, MISC, LD, MV, MV, MISC, ST]
    ld = prog["unit"] == LD
    prog["wait"][ld] &= ~((1 << MV) | (1 << ST))  # unlimited slots; q needs no store first
    prog["kind"] = 0
    _, fin, _ = _run(prog)
    np.testing.assert_allclose(fin, [94, 94, 232, 296, 360, 394, 370, 434, 498, 532, 610])


def test_misc_fused_per_mv_by_hand():
    """A MISC fused behind an MV op runs on each MV's output as it comes out (artifact
    IR_linear_mv: a MISC per MV group), overlapping the next MV (model 0.6).  One SLR,
    dense INT8 K = 64, N = 64 in two 2-KB tiles of 32 columns: MV 64 x 32 / 16 = 128
    cycles each; SiLU of 32 elements at 1/cycle = 32 each.  HBM as above, slots unlimited:
    * input vector 64 B on channel 0: 10 + 32 = 42, +20 = 62;
    * tile 0 (channels 0-7; channel 0 frees at 42): 42 + 138 = 180, +20 = 200; tile 1
      (channels 8-15) issues at 42: 180, +20 = 200;
    * MV 200 -> 328 -> 456; SiLU 0 328 -> 360 while MV 1 runs, SiLU 1 456 -> 488;
    * store 64 B: 488 + 10 + 32 = 530, +20 = 550 (one SiLU after both MVs: 552, +20)."""
    cfg = dataclasses.replace(PRESETS["u280"], cores=1, mv_macs_per_core=16, weight_bits=8.0,
                              compute_issue_cycles=0, count_chain_fill=False, misc_setup_cycles=0,
                              sfu_elems_per_cycle=1, weight_tile_kb=2, mv_cols_per_instr=16)
    b = C.Builder(cfg)
    b.linear_hbm(_dense_linear(cfg, 64, 64), 1, fuse=(64, C.K_ACTFN, 0))
    prog = b.build()
    assert list(prog["unit"]) == [LD, MV, LD, LD, MV, MV, MISC, MISC, ST]
    ld = prog["unit"] == LD
    prog["wait"][ld] &= ~((1 << MV) | (1 << ST))
    prog["kind"] = 0
    _, fin, _ = _run(prog)
    np.testing.assert_allclose(fin, [62, 62, 200, 200, 328, 456, 360, 488, 550])
