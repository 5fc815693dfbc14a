"""FP16 datapath in amaranth.sim (no Verilator): the output converter and small arrays.

* ``accel.hw.fp.FixedToFp32`` (wide integer S -> FP32 code of S * 2^-48, one RNE
  rounding) against the NumPy rules of ``accel.arch.sat.fp16`` (``gemm_exact`` of a
  one-term dot product gives the code of any exact product; sums of products cover the
  rest): zero, both signs, exact ties to even, carries out of rounding, the largest
  and smallest magnitudes a tile can produce.
* The FP16 array (one tile per start and pipelined runs) on random tiles (sparse, dense,
  ragged K, FP16 subnormals and exponent-31 operands), with and without stalls: every
  result bit-exact against ``fp16.gemm_reference_exact`` (computed from the operands,
  not the packed beats), the cycle counter equal to ``tile_cycles``/``tiles_cycles``
  with ``dtype="fp16"``.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth import Module
from amaranth.sim import Simulator

from accel.arch.sat import fp16 as F
from accel.arch.sat.pe_array import (
    OUT_LATENCY_FP16,
    datapath_latency,
    pack_tile,
    tile_beats,
    tile_cycles,
    tiles_cycles,
)
from accel.hw.blocks.pe_array.params import ArrayParams, kulisch_bits
from accel.hw.fp import FixedToFp32
from accel.workloads.formats import nm_compress
from tests.hw.test_pe_array_amaranth import run_amaranth
from tests.hw.test_pipelined_amaranth import run_pipelined


def _f32_code_of(s: int) -> int:
    """FP32 code of s * 2^-48 by IEEE float64 -> float32 (exact when |s| < 2^53)."""
    return int(np.array(np.float32(np.float64(s) * 2.0 ** -48)).view(np.uint32))


def test_converter_rounds_once_to_nearest_even():
    width = kulisch_bits(2)
    big = (1 << (width - 2)) + (1 << 60) + 1          # near the top of the accumulator
    cases = [0, 1, -1, 3, (1 << 24) - 1, (1 << 24) + 1, (1 << 25) + 3, -(1 << 25) - 1,
             ((1 << 24) - 1) << 1 | 1,                # tie that rounds up to 2^25 (carry)
             (1 << 24) << 1 | 1,                      # tie to even: stays
             123456789012345, -98765432109876, (1 << 52) + (1 << 28) + 7]
    rng = np.random.default_rng(4)
    cases += [int(x) >> int(sh) for x, sh in zip(rng.integers(-(1 << 62), 1 << 62, 300),
                                                 rng.integers(0, 60, 300), strict=True)]
    want = [_f32_code_of(s) for s in cases]
    # beyond float64's exact range: the sum of exact products from fp16's own reference
    a = np.array([[0x7BFF, 0x7BFF, 0x03FF, 0x0401]])          # 65504, 65504, subnormal, tiny
    w = np.array([[0x7BFF], [0x7BFF], [0x3C00], [0x8401]])
    cases.append(2 * ((2047 * 2047) << (30 + 30 - 2)) - (1025 * 1025))
    want.append(int(F.gemm_exact(a, w)[0, 0]))
    cases += [big, -big]
    want += [_round_big(big), _round_big(big) | 1 << 31]
    m = Module()
    m.submodules.conv = conv = FixedToFp32(width)
    got = []

    async def tb(ctx):
        ctx.set(conv.en, 1)
        for i in range(len(cases) + OUT_LATENCY_FP16):
            ctx.set(conv.value, cases[i] if i < len(cases) else 0)
            await ctx.tick()
            if i + 1 >= OUT_LATENCY_FP16:
                got.append(ctx.get(conv.code))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert got[:len(cases)] == want


def _round_big(s: int) -> int:
    """Code of s * 2^-48 for s > 0 beyond float64 range: the top 24 bits, RNE by hand."""
    p = s.bit_length() - 1
    top, rem = s >> (p - 23), s & ((1 << (p - 23)) - 1)
    half = 1 << (p - 24)
    top += rem > half or (rem == half and top & 1)
    if top >> 24:
        top, p = top >> 1, p + 1
    return (p - 48 + 127) << 23 | (top & 0x7FFFFF)


def _fp_tile(rng, rows, cols, n, m, k, dense):
    a = F.to_fp16_bits(rng.standard_normal((rows, k)).astype(np.float32))
    a[0, :2] = [(31 << 10) | 5, (1 << 15) | (31 << 10)]        # exponent 31: a normal
    w = rng.standard_normal((k, cols)).astype(np.float32) * np.float32(0.05)
    w[rng.random(w.shape) < 0.05] = np.float32(1e-6)          # FP16 subnormals: DAZ
    if dense:
        wb = F.to_fp16_bits(w)
        return (pack_tile(a, wb, None, n, m, dense=True),
                F.gemm_reference_exact(a, wb, None, n, m, True))
    nm = nm_compress(w, n, m)
    vals = F.to_fp16_bits(nm.values)
    return (pack_tile(a, vals, nm.indices, n, m),
            F.gemm_reference_exact(a, vals, nm.indices, n, m, False))


@pytest.mark.parametrize("rows, cols, n, m, dense", [
    (2, 3, 2, 8, False), (3, 2, 1, 4, False), (2, 2, 2, 4, True)])
@pytest.mark.parametrize("stalled", [False, True])
def test_fp16_tiles_exact(rows, cols, n, m, dense, stalled):
    p = ArrayParams.fp16(rows, cols, n, m)
    rng = np.random.default_rng(rows * 100 + cols * 10 + n + m)
    tiles, expect = [], []
    for k in (m * 4, m * 2 + 1):               # second K is not a multiple of M
        packed, ref = _fp_tile(rng, rows, cols, n, m, k, dense)
        # the packed-beat twin agrees with the operand-level reference
        np.testing.assert_array_equal(F.tile_compute_exact(*packed), ref)
        tiles.append(packed)
        expect.append((ref, tile_beats(k, n, m, dense)))
    res = run_amaranth(p, tiles, *((0.6, 0.5) if stalled else (1.0, 1.0)), seed=3)
    for (got, counter, wall), (ref, beats) in zip(res, expect, strict=True):
        np.testing.assert_array_equal(got, ref)
        assert counter == tile_cycles(rows, cols, beats, "fp16")
        assert wall == counter if not stalled else wall >= counter


@pytest.mark.parametrize("rows, cols, n, m", [(3, 2, 2, 4), (2, 4, 1, 4)])
@pytest.mark.parametrize("stalled", [False, True])
def test_fp16_pipelined_runs_exact(rows, cols, n, m, stalled):
    """Runs of tiles back to back, including tiles shorter than the drain spacing."""
    p = ArrayParams.fp16(rows, cols, n, m, pipelined=True)
    rng = np.random.default_rng(rows * 10 + cols)
    s = max(rows, cols)
    runs, refs = [], []
    for ks in ([m * 5, m, m * s, m * 2 + 1, m], [m]):
        packed = [_fp_tile(rng, rows, cols, n, m, k, False) for k in ks]
        runs.append([t for t, _ in packed])
        refs.append([r for _, r in packed])
    res = run_pipelined(p, runs, *((0.6, 0.5) if stalled else (1.0, 1.0)), seed=5)
    for (got, counter, wall), ref, tiles in zip(res, refs, runs, strict=True):
        for g, r in zip(got, ref, strict=True):
            np.testing.assert_array_equal(g, r)
        beats = [t[0].shape[0] for t in tiles]
        assert counter == tiles_cycles(rows, cols, beats, True, "fp16")
        assert wall >= counter if stalled else wall == counter


def test_fp16_contract_adds_the_datapath_latency():
    """The FP16 contract is the INT8 one with datapath_latency("fp16") in place of
    MAC_LATENCY: once per tile one tile per start, once per run pipelined."""
    extra = datapath_latency("fp16") - datapath_latency("int8")
    assert extra > 0
    assert tile_cycles(4, 4, 10, "fp16") == tile_cycles(4, 4, 10) + extra
    assert tiles_cycles(4, 4, [9, 2, 7], True, "fp16") == tiles_cycles(4, 4, [9, 2, 7], True) + extra
    with pytest.raises(ValueError, match="dtype"):
        tile_cycles(4, 4, 10, "bf16")
