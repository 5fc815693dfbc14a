"""FP16 datapath in amaranth.sim (no Verilator): the units and a small array.

* ``accel.hw.fp`` multiplier and adder against the NumPy rules of
  ``accel.arch.sat.fp16`` on every FP16 code class (random codes, zeros, subnormals,
  exponent 31) and on adder corner cases: exact cancellation, near cancellation (long
  normalisation shifts), rounding ties to even, carries out of rounding, results below
  2^-126 (flushed to +0), operands far apart (pure sticky).
* The FP16 array on random tiles (sparse, dense, ragged K), with and without stalls:
  every accumulator bit-exact against ``fp16.gemm_reference`` (computed from the
  operands, not the packed beats), the cycle counter equal to ``tile_cycles``.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from accel.arch.sat import fp16 as F
from accel.arch.sat.pe_array import pack_tile, tile_beats, tile_cycles
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.fp import fp16_mul, fp32_add
from accel.workloads.formats import nm_compress
from tests.hw.test_pe_array_amaranth import run_amaranth


def _adder_cases(rng, n):
    x = F.product_f32(rng.integers(0, 1 << 16, n), rng.integers(0, 1 << 16, n))
    y = F.product_f32(rng.integers(0, 1 << 16, n), rng.integers(0, 1 << 16, n))
    q = n // 8
    y[:q] = -x[:q]                                             # exact cancellation -> +0
    y[q:2 * q] = -x[q:2 * q] * np.float32(1 + 2.0 ** -20)      # long left shifts
    one = np.float32(1.0)
    ulp = np.spacing(x[2 * q:3 * q])
    y[2 * q:3 * q] = (ulp / 2).astype(np.float32)              # exact ties: to even
    y[3 * q:4 * q] = (ulp * 0.75).astype(np.float32)           # above half: round up
    x[4 * q:4 * q + 8] = np.float32(2.0 ** -125) * (one + np.arange(8, dtype=np.float32) / 8)
    y[4 * q:4 * q + 8] = -np.float32(2.0 ** -125)              # differences below 2^-126
    x[4 * q + 8:4 * q + 16] = np.nextafter(np.float32(2.0), np.float32(0)) * one
    y[4 * q + 8:4 * q + 16] = np.float32(2.0 ** -24)           # rounding carries to 2.0
    y[5 * q:6 * q] = x[5 * q:6 * q] * np.float32(2.0 ** -30)  # far apart: sticky only
    return F.fadd(x, 0), F.fadd(y, 0)                         # canonical inputs (+0, normals)


def test_units_bit_exact():
    rng = np.random.default_rng(5)
    n = 2400
    a = rng.integers(0, 1 << 16, n)
    b = rng.integers(0, 1 << 16, n)
    a[:40] = rng.integers(0, 1 << 10, 40) | (rng.integers(0, 2, 40) << 15)   # zero/subnormal
    a[40:80] = (31 << 10) | rng.integers(0, 1 << 10, 40)                    # exponent 31
    x, y = _adder_cases(rng, n)
    m = Module()
    a16, b16, x32, y32 = Signal(16), Signal(16), Signal(32), Signal(32)
    prod, total = fp16_mul(m, a16, b16, "p"), fp32_add(m, x32, y32, "s")
    want_p = F.f32_bits(F.product_f32(a, b))
    want_s = F.f32_bits(F.fadd(x, y))
    assert np.count_nonzero(want_s == 0) > n // 8       # the flush/cancel cases happened
    got_p, got_s = [], []

    async def tb(ctx):
        for i in range(n):
            ctx.set(a16, int(a[i]))
            ctx.set(b16, int(b[i]))
            ctx.set(x32, int(F.f32_bits(x[i])))
            ctx.set(y32, int(F.f32_bits(y[i])))
            await ctx.delay(1e-9)
            got_p.append(ctx.get(prod))
            got_s.append(ctx.get(total))

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    np.testing.assert_array_equal(np.array(got_p), want_p)
    np.testing.assert_array_equal(np.array(got_s), want_s)


def test_reference_is_ieee_where_ieee_applies():
    """The reference's FP32 add is IEEE RNE: a sum of two products equals the float64
    sum rounded once to float32 (exact products, so one rounding)."""
    rng = np.random.default_rng(2)
    a = F.to_fp16_bits(rng.standard_normal(500).astype(np.float32))
    b = F.to_fp16_bits(rng.standard_normal(500).astype(np.float32))
    p = F.product_f32(a, b)
    q = F.product_f32(b, a[::-1])
    exact = p.astype(np.float64) + q.astype(np.float64)
    np.testing.assert_array_equal(F.fadd(p, q), exact.astype(np.float32))


def _fp_tile(rng, rows, cols, n, m, k, dense):
    a = F.to_fp16_bits(rng.standard_normal((rows, k)).astype(np.float32))
    w = rng.standard_normal((k, cols)).astype(np.float32) * np.float32(0.05)
    w[rng.random(w.shape) < 0.05] = np.float32(1e-6)          # FP16 subnormals: DAZ
    if dense:
        wb = F.to_fp16_bits(w)
        return pack_tile(a, wb, None, n, m, dense=True), F.gemm_reference(a, wb, None, n, m, True)
    nm = nm_compress(w, n, m)
    vals = F.to_fp16_bits(nm.values)
    return (pack_tile(a, vals, nm.indices, n, m),
            F.gemm_reference(a, vals, nm.indices, n, m, False))


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
        np.testing.assert_array_equal(F.tile_compute_fp16(*packed), ref)
        tiles.append(packed)
        expect.append((ref, tile_beats(k, n, m, dense)))
    res = run_amaranth(p, tiles, *((0.6, 0.5) if stalled else (1.0, 1.0)), seed=3)
    for (got, counter, wall), (ref, beats) in zip(res, expect, strict=True):
        np.testing.assert_array_equal(got, ref)
        assert counter == tile_cycles(rows, cols, beats)
        assert wall == counter if not stalled else wall >= counter
