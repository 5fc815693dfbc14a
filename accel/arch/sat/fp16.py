"""FP16 datapath numerics of the SAT PE array: the exact rules the RTL follows.

SAT trains in FP16 with FP32 results.  ``accel.hw.fp`` / ``pe_fp16.py`` implement these
rules in Amaranth and this module is the reference the regression compares with, bit for
bit (kernels: ``_fp16_exact.py``).  The rules, in full:

* **Operands** are 16-bit codes, 1 sign, 5 exponent, 10 fraction bits.  A code with
  exponent 0 (zero or subnormal) is read as zero (denormals-are-zero).  Exponent 31 is
  *not* inf/NaN: it is decoded as an ordinary normal number (ARM's "alternative half
  precision", max 131008), so no operand is non-finite.  The host refuses values that
  IEEE FP16 would round to inf (``to_fp16_bits``), so real workloads never use it.
* **Products** are exact: the integer ``X = +-P << (ea + eb - 2)`` in units of 2^-48,
  with ``P = (1024+fa)(1024+fb) < 2^22`` (shift 0..60, so ``|X| < 2^82``); a zero
  operand gives 0.
* **Sums** are exact: a tile's products are added in a wide two's-complement integer
  (100 bits in the RTL: 82 + 17 bits of headroom for the longest tile + sign), so their
  order does not matter.
* **Result**: the sum times 2^-48 rounded ONCE to FP32, round to nearest, ties to even;
  an exact zero gives +0.  A nonzero result is >= 2^-48 in magnitude, so it is always a
  normal FP32 (no flush, no overflow).

Why not FP32 adds: a fabric FP32 adder costs ~500 LUTs and a long combinational path per
multiplier (the previous datapath: 1.22 M LUTs for SAT's preset, more than an XCVU9P);
an aligned fixed-point sum needs a shifter and an integer adder per multiplier and one
normaliser per column, is pipelined for 200 MHz, and is at least as accurate as any
order of FP32 additions.  The pipeline stages it adds are in the cycle contract
(``accel.arch.sat.pe_array``: ``MAC_LATENCY_FP16``, ``OUT_LATENCY_FP16``).
"""

from __future__ import annotations

import numpy as np

from accel.arch.sat import _fp16_exact as _exact
from accel.errors import AccelError

FP16_MAX = 65504.0        # IEEE FP16 largest finite value; larger inputs are refused


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


def f32_bits(x: np.ndarray) -> np.ndarray:
    """FP32 values -> their 32-bit codes as int64 (what the result stream carries)."""
    return np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)


def _codes(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.int64))


def tile_compute_exact(act: np.ndarray, wval: np.ndarray, widx: np.ndarray) -> np.ndarray:
    """The FP16 PE array on packed beats (``pe_array.pack_tile``):
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
    the rules above.  ``a_bits`` (R, K) FP16 codes.  Sparse: ``w_vals``/``w_idx``
    (G*N, C), the N kept weights of each group of M along K and their positions
    (``nm_compress``); dense: ``w_vals`` (K, C).  Since
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
