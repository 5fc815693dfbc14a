"""Pipelined PE array (shadow accumulators) in amaranth.sim: runs of tiles back to back.

Random tiles (including tiles shorter than the drain, beats < max(R, C)) with and
without random valid/ready stalls on all streams: every result row equals NumPy, in
tile order; the run's cycle counter equals ``tiles_cycles(..., pipelined=True)`` and,
unstalled, so does the start->done wall time.  The Verilator regression
(test_rtl_pipelined.py, marker rtl) runs the same checks on real MiniLM tiles.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from accel.arch.sat.pe_array import pack_tile, tiles_cycles
from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.array import SparsePEArray
from accel.hw.blocks.pe_array.cosim import wrap_np
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.layouts import pack, unpack
from accel.workloads.formats import nm_compress


def run_pipelined(p, runs, p_valid=1.0, p_ready=1.0, seed=0):
    """runs: list of runs, each a list of (act, wval, widx) tiles.
    Returns per run (list of (R, C) results in drain order, counter, wall)."""
    dut = SparsePEArray(p)
    rng = random.Random(seed)
    la, lw, lr = layouts.act_beat(p), layouts.weight_beat(p), layouts.result_beat(p)
    out = []

    async def tb(ctx):
        for tiles in runs:
            a_words, w_words = [], []
            for act, wv, wi in tiles:
                n = act.shape[0]
                a_words += [pack(la, win=act[b], last=int(b == n - 1)) for b in range(n)]
                w_words += [pack(lw, val=wv[b], idx=wi[b]) for b in range(n)]
            ctx.set(dut.ctrl.tiles, len(tiles))
            ctx.set(dut.ctrl.start, 1)
            await ctx.tick()
            ctx.set(dut.ctrl.start, 0)
            sent = {"a": 0, "w": 0}
            rows, wall = [], 1
            while not ctx.get(dut.ctrl.done):
                for key, stream, words in (("a", dut.act, a_words), ("w", dut.weight, w_words)):
                    b = sent[key]
                    if b < len(words) and (ctx.get(stream.valid) or rng.random() < p_valid):
                        ctx.set(stream.payload.as_value(), words[b])
                        ctx.set(stream.valid, 1)
                ctx.set(dut.result.ready, int(rng.random() < p_ready))
                fire_a = ctx.get(dut.act.valid) and ctx.get(dut.act.ready)
                fire_w = ctx.get(dut.weight.valid) and ctx.get(dut.weight.ready)
                assert fire_a == fire_w, "input streams must transfer together"
                if ctx.get(dut.result.valid) and ctx.get(dut.result.ready):
                    f = unpack(lr, ctx.get(dut.result.payload.as_value()))
                    rows.append((int(f["row"][0]), f["acc"]))
                await ctx.tick()
                wall += 1
                assert wall < 100 * (1 + len(a_words)), "run never finished"
                for key, fire, stream in (("a", fire_a, dut.act), ("w", fire_w, dut.weight)):
                    if fire:
                        sent[key] += 1
                        ctx.set(stream.valid, 0)
            assert sent["a"] == len(a_words)
            order = [r for r, _ in rows]
            assert order == list(range(p.rows)) * len(tiles), order
            res = [np.array([acc for _, acc in rows[i * p.rows:(i + 1) * p.rows]])
                   for i in range(len(tiles))]
            out.append((res, ctx.get(dut.ctrl.cycles), wall))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return out


def random_run(p, ks, rng, dense=False):
    tiles, refs = [], []
    for k in ks:
        a = rng.integers(-128, 128, (p.rows, k))
        w = rng.integers(-128, 128, (k, p.cols))
        if dense:      # dense mode on the same engine: M/N beats per window
            tiles.append(pack_tile(a, w, None, p.n, p.m, dense=True))
            refs.append(wrap_np(a @ w, p.acc_bits))
            continue
        nm = nm_compress(w, p.n, p.m)
        tiles.append(pack_tile(a, nm.values, nm.indices, p.n, p.m))
        refs.append(wrap_np(a @ nm.to_dense(), p.acc_bits))
    return tiles, refs


@pytest.mark.parametrize("rows, cols, n, m, dense", [
    (3, 2, 2, 4, False), (2, 4, 1, 4, False), (4, 4, 2, 8, False), (2, 3, 2, 4, True)])
@pytest.mark.parametrize("stalled", [False, True])
def test_runs_exact(rows, cols, n, m, dense, stalled):
    p = ArrayParams(rows, cols, n, m, pipelined=True)
    rng = np.random.default_rng(rows * 100 + cols * 10 + n + m)
    # beats per tile: long, short (1 beat < drain), exactly the spacing, ragged K
    s = max(rows, cols)
    run_ks = [[m * 5, m * 1, m * s, m * 2 + 1, m * 1], [m * 1], [m * 3, m * 3]]
    runs, refs, beats = [], [], []
    for ks in run_ks:
        t, r = random_run(p, ks, rng, dense)
        runs.append(t)
        refs.append(r)
        beats.append([x[0].shape[0] for x in t])
    res = run_pipelined(p, runs, *((0.6, 0.5) if stalled else (1.0, 1.0)), seed=5)
    for (got, counter, wall), ref, bts in zip(res, refs, beats, strict=True):
        for g, r in zip(got, ref, strict=True):
            np.testing.assert_array_equal(g, r)
        assert counter == tiles_cycles(rows, cols, bts, pipelined=True)
        assert wall >= counter if stalled else wall == counter


def test_pipelined_run_beats_separate_tiles():
    """Same tiles: one pipelined run is faster than tile-at-a-time, by the amount the
    contract says (checked in the RTL above, here only the arithmetic)."""
    r, c, bts = 4, 4, [48, 48, 48]
    sep = tiles_cycles(r, c, bts, pipelined=False)
    pipe = tiles_cycles(r, c, bts, pipelined=True)
    assert sep - pipe == 3 * (2 * r + c) - (1 + c + r)
