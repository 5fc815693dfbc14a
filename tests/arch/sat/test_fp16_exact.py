"""The exact-accumulation FP16 numerics against an independent Python-integer reference.

``accel.arch.sat.fp16`` rounds a 3-limb fixed-point sum by extracting bits; the reference
here sums Python ints and rounds arithmetically (remainder against half), so the two
share no code.  Edge cases: round-half-even ties, carries into a new binade, cancellation
to exactly zero (+0), negative sums, exponent-31 operands, denormals read as zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accel.arch.sat import fp16
from accel.arch.sat.pe_array import pack_tile
from accel.workloads.formats import nm_compress


def _fixed(code: int) -> int:
    """FP16 code -> its value in units of 2^-24 (DAZ; exponent 31 normal), signed."""
    e = (code >> 10) & 0x1F
    if e == 0:
        return 0
    v = (1024 + (code & 0x3FF)) << (e - 1)      # value * 2^24 (value = sig * 2^(e-25))
    return -v if code >> 15 else v


def _round_once(total: int) -> int:
    """Exact sum in units of 2^-48 -> FP32 code, RNE, zero -> +0 (arithmetic rounding)."""
    if total == 0:
        return 0
    mag = abs(total)
    pos = mag.bit_length() - 1
    if pos <= 23:
        sig = mag << (23 - pos)
    else:
        k = pos - 23
        sig, rem, half = mag >> k, mag & ((1 << k) - 1), 1 << (k - 1)
        if rem > half or (rem == half and sig & 1):
            sig += 1
            if sig == 1 << 24:
                sig >>= 1
                pos += 1
    code = ((pos - 48 + 127) << 23) | (sig & 0x7FFFFF)
    return code | (1 << 31) if total < 0 else code


def _reference(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    rows, k = a.shape
    out = np.zeros((rows, w.shape[1]), dtype=np.int64)
    for r in range(rows):
        for c in range(w.shape[1]):
            out[r, c] = _round_once(sum(_fixed(int(a[r, i])) * _fixed(int(w[i, c])) for i in range(k)))
    return out


codes = st.integers(0, 0xFFFF)


@given(st.integers(1, 3), st.integers(1, 40), st.integers(1, 3), st.data())
def test_gemm_exact_matches_integer_reference(rows, k, cols, data):
    a = np.array(data.draw(st.lists(codes, min_size=rows * k, max_size=rows * k))).reshape(rows, k)
    w = np.array(data.draw(st.lists(codes, min_size=k * cols, max_size=k * cols))).reshape(k, cols)
    np.testing.assert_array_equal(fp16.gemm_exact(a, w), _reference(a, w))


def _code(x: float) -> int:
    return int(np.float16(x).view(np.uint16))


@pytest.mark.parametrize("values, expect", [
    # 1 + 2^-24 is halfway between FP32 1 and 1 + 2^-23: ties to even (stays 1)
    ([(1.0, 1.0), (2.0 ** -12, 2.0 ** -12)], 1.0),
    # 1 + 3 * 2^-24: halfway between 1 + 2^-23 and 1 + 2^-22, odd below: rounds up
    ([(1.0, 1.0), (2.0 ** -12, 2.0 ** -12), (2.0 ** -11, 2.0 ** -12)], 1.0 + 2.0 ** -22),
    # a sticky bit far below breaks the tie upwards
    ([(1.0, 1.0), (2.0 ** -12, 2.0 ** -12), (2.0 ** -14, 2.0 ** -14)], 1.0 + 2.0 ** -23),
    # cancellation to exactly zero is +0
    ([(3.0, 5.0), (-3.0, 5.0)], 0.0),
    # negative results, and a sum an FP32 accumulator would lose: 2^30 + 1 - 2^30
    ([(-2.0, 3.0)], -6.0),
    ([(32768.0, 32768.0), (1.0, 1.0), (-32768.0, 32768.0)], 1.0),
])
def test_rounding_cases(values, expect):
    a = np.array([[_code(x) for x, _ in values]])
    w = np.array([[_code(y)] for _, y in values])
    got = fp16.gemm_exact(a, w)[0, 0]
    assert got == int(np.float32(expect).view(np.uint32))
    assert got == _reference(a, w)[0, 0]


def test_exponent_31_is_normal_and_denormals_are_zero():
    big = 0x7BFF | 0x0400          # exponent 31: 2^16 * (2 - 2^-10), not inf
    tiny = 0x0001                  # a subnormal: read as zero
    a = np.array([[big, tiny]])
    w = np.array([[big], [_code(1.0)]])
    want = (2.0 ** 16 * (2 - 2.0 ** -10)) ** 2
    assert fp16.gemm_exact(a, w)[0, 0] == int(np.float32(want).view(np.uint32))


@pytest.mark.parametrize("n, m", [(2, 4), (2, 8), (1, 8)])
def test_sparse_and_packed_paths_agree(n, m):
    """Operands -> reference and operands -> packed beats -> tile kernel give the same
    codes, and equal the dense GEMM of the masked weight (the sum is exact)."""
    rng = np.random.default_rng(n * 10 + m)
    k, rows, cols = 3 * m + 1, 4, 5
    a = fp16.to_fp16_bits(rng.standard_normal((rows, k)))
    w = rng.standard_normal((k, cols)).astype(np.float32)
    nm = nm_compress(w, n, m, axis=0)
    vals = fp16.to_fp16_bits(nm.values)
    ref = fp16.gemm_reference_exact(a, vals, nm.indices, n, m, dense=False)
    np.testing.assert_array_equal(fp16.tile_compute_exact(*pack_tile(a, vals, nm.indices, n, m)), ref)
    dense_w = fp16.to_fp16_bits(nm.to_dense())
    np.testing.assert_array_equal(fp16.gemm_exact(a, dense_w[:k]), ref)
    wd = fp16.to_fp16_bits(w)
    np.testing.assert_array_equal(
        fp16.tile_compute_exact(*pack_tile(a, wd, None, n, m, dense=True)),
        fp16.gemm_reference_exact(a, wd, None, n, m, dense=True))


def test_exact_is_closer_than_sequential_fp32():
    """Why the change is safe for training: on a long reduction the round-once result
    is the correctly rounded value; FP32 sequential adds drift from it."""
    rng = np.random.default_rng(7)
    a = fp16.to_fp16_bits(rng.standard_normal((8, 4096)))
    w = fp16.to_fp16_bits(rng.standard_normal((4096, 8)))
    exact = fp16.decode_fp16(a) @ fp16.decode_fp16(w)           # float64, error << FP32 ulp
    got = fp16.gemm_exact(a, w).astype(np.uint32).view(np.float32).astype(np.float64)
    np.testing.assert_allclose(got, exact, rtol=2.0 ** -23)
