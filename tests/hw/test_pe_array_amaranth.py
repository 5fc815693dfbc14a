"""Fast functional check of the Amaranth array in amaranth.sim (no Verilator).

Random tiles with random valid/ready stalls on all streams: results equal NumPy, the
cycle counter equals ``tile_cycles`` and, unstalled, so does the start->done wall time.
The Verilator regression (test_rtl_regression.py, marker rtl) is the one that counts.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.arch.sat.pe_array import pack_tile, tile_beats, tile_cycles
from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.array import SparsePEArray
from accel.hw.blocks.pe_array.cosim import wrap_np
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.layouts import pack, unpack
from accel.workloads.formats import nm_compress


def run_amaranth(p, tiles, p_valid=1.0, p_ready=1.0, seed=0):
    """tiles: list of (act, wval, widx) beats; returns [(result rows, counter, wall)]."""
    dut = SparsePEArray(p)
    rng = random.Random(seed)
    la, lw, lr = layouts.act_beat(p), layouts.weight_beat(p), layouts.result_beat(p)
    out = []

    async def tb(ctx):
        for act, wv, wi in tiles:
            beats = act.shape[0]
            ctx.set(dut.ctrl.beats, beats)
            ctx.set(dut.ctrl.start, 1)
            await ctx.tick()
            ctx.set(dut.ctrl.start, 0)
            sent = {"a": 0, "w": 0}
            rows, wall = {}, 1
            while not ctx.get(dut.ctrl.done):
                for key, stream, layout in (("a", dut.act, la), ("w", dut.weight, lw)):
                    b = sent[key]
                    if b < beats and (ctx.get(stream.valid) or rng.random() < p_valid):
                        word = (pack(layout, win=act[b]) if key == "a"
                                else pack(layout, val=wv[b], idx=wi[b]))
                        ctx.set(stream.payload.as_value(), word)
                        ctx.set(stream.valid, 1)
                    elif not ctx.get(stream.valid):
                        ctx.set(stream.valid, 0)
                ctx.set(dut.result.ready, int(rng.random() < p_ready))
                fire_a = ctx.get(dut.act.valid) and ctx.get(dut.act.ready)
                fire_w = ctx.get(dut.weight.valid) and ctx.get(dut.weight.ready)
                if ctx.get(dut.result.valid) and ctx.get(dut.result.ready):
                    f = unpack(lr, ctx.get(dut.result.payload.as_value()))
                    rows[int(f["row"][0])] = f["acc"]
                await ctx.tick()
                wall += 1
                for key, fire, stream in (("a", fire_a, dut.act), ("w", fire_w, dut.weight)):
                    if fire:
                        sent[key] += 1
                        ctx.set(stream.valid, 0)
            assert sorted(rows) == list(range(p.rows))
            out.append((np.array([rows[r] for r in range(p.rows)]), ctx.get(dut.ctrl.cycles),
                        wall))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return out


@pytest.mark.parametrize("rows, cols, n, m, dense", [
    (2, 3, 2, 4, False), (3, 2, 1, 4, False), (2, 2, 2, 8, False), (2, 2, 2, 4, True)])
@pytest.mark.parametrize("stalled", [False, True])
def test_tiles_exact(rows, cols, n, m, dense, stalled):
    p = ArrayParams(rows, cols, n, m)
    rng = np.random.default_rng(rows * 100 + cols * 10 + n + m)
    tiles, expect = [], []
    for k in (m * 3, m * 2 + 1):            # second K is not a multiple of M
        a = rng.integers(-128, 128, (rows, k))
        w = rng.integers(-128, 128, (k, cols))
        if dense:
            tiles.append(pack_tile(a, w, None, n, m, dense=True))
            expect.append((wrap_np(a @ w, p.acc_bits), tile_beats(k, n, m, True)))
        else:
            nm = nm_compress(w, n, m)
            tiles.append(pack_tile(a, nm.values, nm.indices, n, m))
            expect.append((wrap_np(a @ nm.to_dense(), p.acc_bits), tile_beats(k, n, m, False)))
    res = run_amaranth(p, tiles, *((0.6, 0.5) if stalled else (1.0, 1.0)), seed=3)
    for (got, counter, wall), (ref, beats) in zip(res, expect, strict=True):
        np.testing.assert_array_equal(got, ref)
        assert counter == tile_cycles(rows, cols, beats)
        if stalled:
            assert wall >= counter
        else:
            assert wall == counter


def test_accumulator_wraps_like_model():
    """A narrow accumulator (16 bits) overflows: RTL wraps exactly as wrap_signed does."""
    p = ArrayParams(1, 1, 2, 4, acc_bits=16)
    a = np.full((1, 8), -128)
    w = np.full((8, 1), -128)
    nm = nm_compress(w, 2, 4)
    (got, _, _), = run_amaranth(p, [pack_tile(a, nm.values, nm.indices, 2, 4)])
    ref = wrap_np(a @ nm.to_dense(), 16)
    assert int(ref[0, 0]) != int((a @ nm.to_dense())[0, 0])    # it really overflowed
    np.testing.assert_array_equal(got, ref)
