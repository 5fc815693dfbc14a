"""The sparse weight generator in amaranth.sim (the Verilator run is test_rtl_weight_gen).

Random FP16 weights with many magnitude ties (+0/-0, repeated codes, subnormals) and a
shape that is not a multiple of the block: every output beat equals ``nm_compress``
(prune.py's rule) for both masks; the cycle counter equals ``gen_cycles`` with and
without random stalls, and the unstalled start->done wall time too.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.arch.sat.weight_gen import gen_beats, gen_cycles
from accel.hw import layouts
from accel.hw.blocks.weight_gen.cosim import expected_beats, weight_blocks
from accel.hw.blocks.weight_gen.gen import GenParams, SparseWeightGen, block_beat, mask_beat


def tie_heavy_weights(rng, out_ch, in_ch):
    codes = rng.integers(0, 1 << 16, (out_ch, in_ch))
    codes &= ~(0x1F << 10) | (rng.integers(1, 31, codes.shape) << 10)   # no exponent 31
    pool = np.array([0x0000, 0x8000, 0x3C00, 0xBC00, 0x0001, 0x8001, 0x2E66])
    tie = rng.random(codes.shape) < 0.3
    codes[tie] = rng.choice(pool, size=int(tie.sum()))
    return codes


def run_gen_sim(g, blocks, p_valid=1.0, p_ready=1.0, seed=0):
    dut = SparseWeightGen(g)
    rng = random.Random(seed)
    lb, lm = block_beat(g), mask_beat(g)
    got, res = [], {}

    async def tb(ctx):
        beats = blocks.shape[0]
        words = [layouts.pack(lb, w=blocks[b]) for b in range(beats)]
        ctx.set(dut.ctrl.beats, beats)
        ctx.set(dut.ctrl.start, 1)
        await ctx.tick()
        ctx.set(dut.ctrl.start, 0)
        sent, wall = 0, 1
        while not ctx.get(dut.ctrl.done):
            if sent < beats and (ctx.get(dut.block.valid) or rng.random() < p_valid):
                ctx.set(dut.block.payload.as_value(), words[sent])
                ctx.set(dut.block.valid, 1)
            ctx.set(dut.mask.ready, int(rng.random() < p_ready))
            fire = ctx.get(dut.block.valid) and ctx.get(dut.block.ready)
            if ctx.get(dut.mask.valid) and ctx.get(dut.mask.ready):
                got.append(layouts.unpack(lm, ctx.get(dut.mask.payload.as_value())))
            await ctx.tick()
            wall += 1
            if fire:
                sent += 1
                ctx.set(dut.block.valid, 0)
        res.update(counter=ctx.get(dut.ctrl.cycles), wall=wall)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return got, res["counter"], res["wall"]


@pytest.mark.parametrize("n, m, lanes, shape", [(2, 8, 8, (20, 19)), (2, 4, 8, (9, 16)),
                                                 (1, 4, 4, (8, 6))])
@pytest.mark.parametrize("stalled", [False, True])
def test_generator_matches_prune(n, m, lanes, shape, stalled):
    g = GenParams(n, m, lanes)
    rng = np.random.default_rng(n * 100 + m * 10 + lanes)
    w = tie_heavy_weights(rng, *shape)
    blocks = weight_blocks(w, g)
    beats = gen_beats(*shape, m, lanes)
    assert blocks.shape[0] == beats
    exp = expected_beats(w, g)
    got, counter, wall = run_gen_sim(g, blocks, *((0.6, 0.5) if stalled else (1, 1)), seed=4)
    assert len(got) == beats
    for b, beat in enumerate(got):
        for k in exp:
            np.testing.assert_array_equal(beat[k], exp[k][b].ravel(), err_msg=f"{k} beat {b}")
    assert counter == gen_cycles(beats)
    assert wall == counter if not stalled else wall > counter
