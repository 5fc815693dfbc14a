"""The sparse DSP chain in amaranth.sim: bit-exact against NumPy and the model's
chain_matmul, cycle-exact against ``dsp_chain.op_cycles``, under stalls and reset."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from accel.arch.flightllm import dsp_chain as contract
from accel.errors import AccelError
from accel.hw.blocks.dsp_chain import layouts
from accel.hw.blocks.dsp_chain.chain import SparseDSPChain
from accel.hw.blocks.dsp_chain.ops import chain_op
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.workloads.formats import block_compress


def _op(p, k, cols, rows, block_n, seed, name="op"):
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, size=(k, cols)).astype(np.int8)
    a = rng.integers(-128, 128, size=(rows, k)).astype(np.int8)
    return chain_op(name, p, a, block_compress(w, block_n))


def simulate(p, ops, p_valid=1.0, p_ready=1.0, seed=0, reset_after=None):
    """Run ``ops`` back to back; per op: (results, wall cycles, fed cycles).  With
    ``reset_after`` = beats, the first op is abandoned by a reset after that many beats
    and dropped from the returned list (the ops after it run unstalled)."""
    dut = SparseDSPChain(p)
    m = Module()
    m.domains.sync = cd = ClockDomain()       # a reset the bench can pull mid-run
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8)
    runs = []

    async def bench(ctx):
        rng = random.Random(seed)
        for n_op, op in enumerate(ops):
            words = [int.from_bytes(b.tobytes(), "little") for b in op.payloads]
            out, sent, t, first, fed, last_out, fed_out = [], 0, 0, None, 0, None, 0
            abort = reset_after if n_op == 0 else None
            # after a reset the next ops run unstalled, so their wall must be exact too
            pv, pr = (1.0, 1.0) if reset_after is not None and n_op else (p_valid, p_ready)
            while len(out) < len(op.expected):
                valid = sent < len(words) and rng.random() < pv
                ready = rng.random() < pr
                ctx.set(dut.beat.valid, valid)
                if valid:
                    ctx.set(dut.beat.payload.as_value(), words[sent])
                ctx.set(dut.result.ready, ready)
                await ctx.delay(1e-9)
                en = ctx.get(dut.beat.ready)
                if valid and en:
                    first = t if first is None else first
                    sent += 1
                if first is not None and en and (valid or sent >= len(words)):
                    fed += 1
                if ctx.get(dut.result.valid) and ready:
                    out.append(layouts.unpack_result(p, ctx.get(dut.result.payload.as_value())))
                    last_out, fed_out = t, fed
                await ctx.tick()
                t += 1
                assert t < 50 * op.model_cycles + 100, "chain hangs"
                if abort is not None and sent >= abort:
                    ctx.set(dut.beat.valid, 0)
                    ctx.set(cd.rst, 1)
                    await ctx.delay(2.5e-8)     # (a tick would raise DomainReset)
                    ctx.set(cd.rst, 0)
                    break
            else:
                runs.append((np.array(out, np.int64), last_out - first + 1, fed_out))
            ctx.set(dut.beat.valid, 0)
            ctx.set(dut.result.ready, 0)
            for _ in range(3):                  # nothing more may come out
                await ctx.tick()
                assert not ctx.get(dut.result.valid)

    sim.add_testbench(bench)
    sim.run()
    return runs


def _exact(ops, runs, stalled=False):
    assert len(runs) == len(ops)
    for op, (res, wall, fed) in zip(ops, runs, strict=True):
        assert np.array_equal(res, op.expected), op.name
        assert fed == op.model_cycles, (op.name, fed, op.model_cycles)
        if not stalled:
            assert wall == op.model_cycles, (op.name, wall, op.model_cycles)


@pytest.mark.parametrize("chain_dsps,dsp_group", [(16, 2), (8, 2), (4, 1), (12, 3), (16, 4)])
def test_chain_mv_every_pattern(chain_dsps, dsp_group):
    """Sparse and dense MV at every N:16 that fits the chain, plus a mixed-N weight."""
    p = ChainParams(chain_dsps, dsp_group)
    rng = np.random.default_rng(chain_dsps)
    ops = [_op(p, 80, 3, 1, np.full((5, 1), n, np.uint8), n, f"n{n}")
           for n in (2, 4, 8, 16) if n <= chain_dsps]
    mixed = rng.choice([n for n in (2, 4, 8, 16) if n <= chain_dsps], size=(5, 1))
    ops.append(_op(p, 80, 3, 1, mixed.astype(np.uint8), 7, "mixed"))
    _exact(ops, simulate(p, ops))


def test_chain_dense_mm_two_rows_per_beat():
    """Dense MM: rows pair up on each DSP (packed INT8), odd row counts pad one row;
    extreme operands (-128 activations, +-127 weights) keep both packed fields exact."""
    p = ChainParams(16, 2)
    ops = [_op(p, 64, 2, rows, np.full((4, 1), 16, np.uint8), rows, f"mm{rows}")
           for rows in (2, 5)]
    k = 96
    a = np.full((4, k), -128, np.int8)
    a[1::2] = 127
    w = np.where(np.arange(k)[:, None] % 2 == 0, -127, 127) * np.ones((1, 2), np.int64)
    w[:, 1] = -127
    ops.append(chain_op("extreme", p, a, block_compress(w.astype(np.int8),
                                                         np.full((6, 1), 16, np.uint8))))
    assert ops[0].beats == contract.op_beats(np.full((4, 2), 16), 2, 16, 2) == 2 * 4
    _exact(ops, simulate(p, ops))


def test_chain_long_chain_overflow_adjust():
    """32 DSPs (four 8-DSP packed subtrees, unpacked before they are summed): exact
    where one packed sum of 32 extreme products would corrupt the second row."""
    p = ChainParams(32, 2)
    assert contract.overflow_adjust(32) and not contract.overflow_adjust(8)
    a = np.full((2, 64), -128, np.int8)
    w = np.full((64, 1), 127, np.int8)
    op = chain_op("adjust", p, a, block_compress(w, np.full((4, 1), 16, np.uint8)))
    assert 32 * 128 * 127 >= 1 << 17            # the low field alone would overflow
    _exact([op], simulate(p, [op]))


def test_chain_random_stalls_keep_values_and_fed_cycles():
    p = ChainParams(16, 2)
    ops = [_op(p, 64, 2, r, np.full((4, 1), n, np.uint8), n, f"s{n}")
           for n, r in ((2, 1), (16, 3))]
    _exact(ops, simulate(p, ops, p_valid=0.6, p_ready=0.5, seed=3), stalled=True)


def test_chain_reset_mid_op_then_exact():
    p = ChainParams(16, 2)
    ops = [_op(p, 128, 2, 1, np.full((8, 1), 16, np.uint8), 1, "aborted"),
           _op(p, 64, 2, 1, np.full((4, 1), 4, np.uint8), 2, "clean")]
    _exact(ops[1:], simulate(p, ops, p_valid=0.7, p_ready=0.6, seed=5, reset_after=5))


def test_ops_refuse_what_the_chain_cannot_compute_exactly():
    p = ChainParams(16, 2, acc_bits=24)
    w = np.full((16, 1), -128, np.int8)
    with pytest.raises(AccelError, match="symmetric INT8"):
        chain_op("x", p, np.ones((1, 16), np.int8), block_compress(w, np.full((1, 1), 16)))
    w = np.ones((32, 1), np.int8)
    with pytest.raises(AccelError, match="dense weights only"):      # no sparse MM mode
        chain_op("x", p, np.ones((2, 32), np.int8), block_compress(w, np.full((2, 1), 4)))
    w = np.ones((2048, 1), np.int8)
    with pytest.raises(AccelError, match="overflow"):
        chain_op("x", p, np.ones((1, 2048), np.int8), block_compress(w, np.full((128, 1), 16)))


@pytest.mark.parametrize("kw,msg", [({"chain_dsps": 10, "dsp_group": 4}, "multiple"),
                                    ({"dsp_group": 16}, "dsp_group"),
                                    ({"acc_bits": 8}, "acc_bits"),
                                    ({"chain_dsps": 0}, "chain_dsps")])
def test_params_refuse_bad_configurations(kw, msg):
    with pytest.raises(AccelError, match=msg):
        ChainParams(**kw)
