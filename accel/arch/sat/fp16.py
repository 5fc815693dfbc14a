"""FP16 datapath numerics of the SAT PE array: the exact rules the RTL follows.

SAT trains in FP16 with FP32 accumulation.  ``accel.hw.fp`` implements these rules in
Amaranth and this module is the plain-NumPy reference the regression compares with,
bit for bit.  The rules, in full:

* **Operands** are 16-bit codes, 1 sign, 5 exponent, 10 fraction bits.  A code with
  exponent 0 (zero or subnormal) is read as zero (denormals-are-zero).  Exponent 31 is
  *not* inf/NaN: it is decoded as an ordinary normal number (ARM's "alternative half
  precision", max 131008), so no operand is non-finite.  The host refuses values that
  IEEE FP16 would round to inf (``to_fp16_bits``), so real workloads never use it.
* **Products** a*b are exact in FP32 (11 x 11 significand bits = 22 <= 24, exponents
  -28..33 lie inside FP32's normal range); a zero operand gives +0.
* **Sums** are FP32 additions, round-to-nearest-even, and a result below FP32's
  smallest normal (2^-126) in magnitude, including an exact zero, becomes **+0**
  (flush-to-zero; sums of normals that land there are exact, so flushing after IEEE
  rounding and flushing an unrounded result agree).  Overflow cannot happen: every
  product is < 2^35 and a tile has < 2^16 beats of <= 16 products, so |acc| < 2^55.
* **Order** per beat: the N products in multiplier order j = 0..N-1,
  ``s = p0; s = s + p1; ...``; then ``acc = acc + s``.  The accumulator starts at +0.

The PE array therefore takes exactly the INT8 array's cycle contract
(``accel.arch.sat.pe_array``): multiply, the N-1 adds and the accumulate are one
registered step (``MAC_LATENCY`` = 1).
"""

from __future__ import annotations

import numpy as np

from accel.arch.sat import _fp16_exact as _exact
from accel.errors import AccelError

FP16_MAX = 65504.0        # IEEE FP16 largest finite value; larger inputs are refused
FP32_MIN_NORMAL = np.float32(2.0 ** -126)


def to_fp16_bits(x: np.ndarray, what: str = "operand") -> np.ndarray:
    """Round float values to IEEE FP16 (RNE) and return the 16-bit codes as int64.

    Values that would become inf/NaN are refused (one-line AccelError naming them)."""
    x = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise AccelError(f"{what}: non-finite values cannot be sent to the FP16 array")
    h = x.astype(np.float16)
    if not np.all(np.isfinite(h)):
        big = float(np.max(np.abs(x)))
        raise AccelError(f"{what}: |value| {big:g} exceeds the FP16 range ({FP16_MAX:g})")
    return h.view(np.uint16).astype(np.int64)


def decode_fp16(bits: np.ndarray) -> np.ndarray:
    """16-bit codes -> float64 values under the rules above (DAZ, exponent 31 normal)."""
    b = np.asarray(bits, dtype=np.int64) & 0xFFFF
    sign = np.where(b >> 15, -1.0, 1.0)
    exp = (b >> 10) & 0x1F
    frac = b & 0x3FF
    val = sign * (1024 + frac) * np.exp2(exp.astype(np.float64) - 25.0)
    return np.where(exp == 0, 0.0, val)


def product_f32(a_bits: np.ndarray, w_bits: np.ndarray) -> np.ndarray:
    """Exact products as float32 (exact: 22 significand bits), zeros as +0."""
    p = (decode_fp16(a_bits) * decode_fp16(w_bits)).astype(np.float32)
    return np.where(p == 0, np.float32(0.0), p).astype(np.float32)


def fadd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """FP32 add, RNE (NumPy's IEEE float32), then flush |r| < 2^-126 (and 0) to +0."""
    r = np.asarray(a, dtype=np.float32) + np.asarray(b, dtype=np.float32)
    return np.where(np.abs(r) < FP32_MIN_NORMAL, np.float32(0.0), r).astype(np.float32)


def f32_bits(x: np.ndarray) -> np.ndarray:
    """FP32 values -> their 32-bit codes as int64 (what the result stream carries)."""
    return np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)


def tile_compute_fp16(act: np.ndarray, wval: np.ndarray, widx: np.ndarray) -> np.ndarray:
    """The FP16 PE array on packed beats (``pe_array.pack_tile``): ``act`` (beats, R, M),
    ``wval``/``widx`` (beats, C, N) 16-bit codes -> (R, C) FP32 codes (int64)."""
    beats, rows, _ = act.shape
    cols, n = wval.shape[1], wval.shape[2]
    acc = np.zeros((rows, cols), dtype=np.float32)
    for b in range(beats):
        # sel[r, c, j] = act[b, r, widx[b, c, j]]
        sel = act[b][:, widx[b]]                       # (R, C, N)
        prods = product_f32(sel, wval[b][None, :, :])  # (R, C, N)
        s = prods[:, :, 0]
        for j in range(1, n):
            s = fadd(s, prods[:, :, j])
        acc = fadd(acc, s)
    return f32_bits(acc)


def gemm_reference(a_bits: np.ndarray, w_vals: np.ndarray, w_idx: np.ndarray | None,
                   n: int, m: int, dense: bool) -> np.ndarray:
    """(R, C) FP32 codes of one tile computed from its operands, not from packed beats.

    ``a_bits`` (R, K) FP16 codes.  Sparse: ``w_vals``/``w_idx`` (G*N, C), the N kept
    weights of each group of M along K in ascending position order (``nm_compress``).
    Dense: ``w_vals`` (K, C) and every group of M is reduced ceil(M/N) beats at a time,
    beat p taking positions p*N .. p*N+N-1 (the dense feed of ``pe_array.pack_tile``).
    Order and rounding as in the module docstring."""
    a = np.asarray(a_bits, dtype=np.int64)
    rows, k = a.shape
    g = -(-k // m)
    a_pad = np.zeros((rows, g * m), dtype=np.int64)
    a_pad[:, :k] = a
    if dense:
        cols = w_vals.shape[1]
        w_pad = np.zeros((g * m, cols), dtype=np.int64)
        w_pad[:k] = w_vals
    else:
        cols = w_vals.shape[1]
    acc = np.zeros((rows, cols), dtype=np.float32)
    beats_per_group = -(-m // n) if dense else 1
    for gi in range(g):
        for p in range(beats_per_group):
            s = None
            for j in range(n):
                if dense:
                    pos = p * n + j
                    if pos >= m:       # beyond the window: a zero weight, product +0
                        prod = np.zeros((rows, cols), dtype=np.float32)
                    else:
                        prod = product_f32(a_pad[:, gi * m + pos][:, None],
                                           w_pad[gi * m + pos][None, :])
                else:
                    r = gi * n + j
                    pos = gi * m + np.asarray(w_idx[r], dtype=np.int64)    # (C,)
                    prod = product_f32(a_pad[:, pos], np.asarray(w_vals[r])[None, :])
                s = prod if s is None else fadd(s, prod)
            acc = fadd(acc, s)
    return f32_bits(acc)


# --- exact accumulation (the pipelined FP16 datapath's numerics) -----------------------
# Rules: operands decode as above (DAZ, exponent 31 normal); every product is exact, as
# the integer X = +-P << (ea + eb - 2) in units of 2^-48 (P the 22-bit significand
# product); a tile's products are summed EXACTLY (a wide two's-complement integer in the
# RTL, so order does not matter) and the sum is rounded ONCE to FP32, round to nearest,
# ties to even; an exact zero gives +0.  A nonzero result is >= 2^-48 in magnitude, so it
# is always a normal FP32.  Why: an FPGA cannot afford a 500-LUT FP32 adder per
# multiplier (rtl/README.md); an aligned fixed-point sum needs only a shifter and an
# integer adder per multiplier and one normaliser per column, and is at least as
# accurate as any order of FP32 additions.


def _codes(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.int64))


def tile_compute_exact(act: np.ndarray, wval: np.ndarray, widx: np.ndarray) -> np.ndarray:
    """The exact-accumulation FP16 array on packed beats (``pe_array.pack_tile``):
    ``act`` (beats, R, M), ``wval``/``widx`` (beats, C, N) 16-bit codes -> (R, C) FP32
    codes (int64)."""
    return _exact.tile_exact_kernel(_codes(act), _codes(wval), _codes(widx))


def gemm_exact(a_bits: np.ndarray, w_bits: np.ndarray) -> np.ndarray:
    """(R, K) x (K, C) FP16 codes -> (R, C) FP32 codes, each the exact dot product
    rounded once (the whole GEMM as one tile per output)."""
    a = _codes(a_bits)
    w = _codes(w_bits)
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AccelError(f"gemm_exact: shapes {a.shape} x {w.shape} do not multiply")
    parts = []
    for x in (a, np.ascontiguousarray(w.T)):
        sign, sig, shift = (np.empty_like(x) for _ in range(3))
        _exact.decode_codes(x, sign, sig, shift)
        parts += [sign, sig, shift]
    return _exact.gemm_exact_kernel(*parts)


def gemm_reference_exact(a_bits: np.ndarray, w_vals: np.ndarray, w_idx: np.ndarray | None,
                         n: int, m: int, dense: bool) -> np.ndarray:
    """(R, C) FP32 codes of one tile from its operands (not from packed beats), under
    the exact-accumulation rules.  Arguments as :func:`gemm_reference`: sparse
    ``w_vals``/``w_idx`` (G*N, C) from ``nm_compress``; dense ``w_vals`` (K, C).  Since
    the sum is exact, the beat order and the dense feed's zero padding do not matter:
    the result is the sum of the kept products, rounded once."""
    a = _codes(a_bits)
    rows, k = a.shape
    g = -(-k // m)
    a_pad = np.zeros((rows, g * m), dtype=np.int64)
    a_pad[:, :k] = a
    if dense:
        w_pad = np.zeros((g * m, np.shape(w_vals)[1]), dtype=np.int64)
        w_pad[:k] = _codes(w_vals)
        return gemm_exact(a_pad, w_pad)
    return _exact.sparse_exact_kernel(a_pad, _codes(w_vals), _codes(w_idx), n, m)
