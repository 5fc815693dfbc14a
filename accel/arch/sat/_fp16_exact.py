"""Numba kernels of the FP16 array's exact-accumulation numerics (wrappers: ``fp16.py``).

A product of two FP16 codes is the integer ``X = +-P << s`` in units of 2^-48, with
``P = (1024+fa)(1024+fb) < 2^22`` and ``s = ea + eb - 2`` in 0..60, so ``|X| < 2^82``.
A tile's exact sum is kept in three base-2^32 limbs held in int64 (carries are resolved
only at the end: each limb gains < 2^32 per product, so 2^31 products cannot overflow
it), then rounded once to FP32 (round to nearest, ties to even).  Kernel/wrapper split
as in stumpy: arrays in, arrays out, no Python objects.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)

LIMB = 32
LIMB_MASK = (1 << LIMB) - 1
FIXED_LSB_EXP = -48      # the fixed-point grid: every product is an integer multiple of 2^-48
FP32_BIAS = 127
FP32_FRAC = 23


@njit(cache=True)
def decode_codes(codes, sign, sig, shift):
    """Split FP16 codes into sign (0/1), 11-bit significand (0 for DAZ zeros) and the
    exponent part of the product shift (e - 1, so a product's shift is the sum)."""
    flat = codes.ravel()
    for i in range(flat.size):
        c = flat[i] & 0xFFFF
        e = (c >> 10) & 0x1F
        sign.flat[i] = c >> 15
        if e == 0:                       # zero or subnormal: read as zero (DAZ)
            sig.flat[i] = 0
            shift.flat[i] = 0
        else:
            sig.flat[i] = 1024 + (c & 0x3FF)
            shift.flat[i] = e - 1


@njit(cache=True, inline="always")
def _add_product(l0, l1, l2, negative, p, s):
    """The limbs (l0, l1, l2) + +-(p << s) (p < 2^22, 0 <= s <= 60), limb-wise without
    carries.  The limbs are returned, not stored: as locals of the caller's loop they stay
    in registers (7.8x faster than an array of three, measured on a 32x128x64 GEMM)."""
    v = p << (s & 31)                    # < 2^53
    lo = v & LIMB_MASK
    hi = v >> LIMB
    if negative:
        lo = -lo
        hi = -hi
    if s >= LIMB:                        # the product starts in limb 1
        return l0, l1 + lo, l2 + hi
    return l0 + lo, l1 + hi, l2


@njit(cache=True, inline="always")
def _add_codes(l0, l1, l2, a, w):
    """The limbs + the exact product of FP16 codes a and w (unchanged for a DAZ zero)."""
    a &= 0xFFFF
    w &= 0xFFFF
    ea = (a >> 10) & 0x1F
    ew = (w >> 10) & 0x1F
    if ea != 0 and ew != 0:
        return _add_product(l0, l1, l2, (a >> 15) != (w >> 15),
                            (1024 + (a & 0x3FF)) * (1024 + (w & 0x3FF)), ea + ew - 2)
    return l0, l1, l2


@njit(cache=True)
def _bit(t0, t1, t2, i):
    if i >= 64:
        return (t2 >> (i - 64)) & 1
    if i >= 32:
        return (t1 >> (i - 32)) & 1
    return (t0 >> i) & 1


@njit(cache=True)
def _any_below(t0, t1, t2, k):
    """Whether any bit of the magnitude below position k is set (the sticky bit)."""
    if k <= 0:
        return False
    if k <= 32:
        return (t0 & ((np.int64(1) << k) - 1)) != 0
    if k <= 64:
        return t0 != 0 or (t1 & ((np.int64(1) << (k - 32)) - 1)) != 0
    return t0 != 0 or t1 != 0 or (t2 & ((np.int64(1) << (k - 64)) - 1)) != 0


@njit(cache=True)
def _bitlen(x):
    n = 0
    while x > 0:
        x >>= 1
        n += 1
    return n


@njit(cache=True)
def _carry(l0, l1, l2):
    """Resolve lazy carries: l0, l1 into 0..2^32-1, the rest (and the sign) into l2.
    Arithmetic shifts floor, so a negative limb borrows from the next."""
    c = l0 >> LIMB
    l0 &= LIMB_MASK
    l1 += c
    c = l1 >> LIMB
    l1 &= LIMB_MASK
    return l0, l1, l2 + c


@njit(cache=True)
def round_limbs_to_f32(l0, l1, l2):
    """The FP32 code (int64) of (l0 + l1 2^32 + l2 2^64) * 2^-48, rounded once (RNE).

    Zero gives +0.  A nonzero value is at least 2^-48 in magnitude, so the result is
    always a normal FP32 (no subnormal, no overflow for any legal tile)."""
    l0, l1, l2 = _carry(l0, l1, l2)
    negative = l2 < 0
    if negative:                         # magnitude of a two's-complement 3-limb number
        l0, l1, l2 = _carry(-l0, -l1, -l2)
    if l2 > 0:
        pos = 64 + _bitlen(l2) - 1
    elif l1 > 0:
        pos = 32 + _bitlen(l1) - 1
    elif l0 > 0:
        pos = _bitlen(l0) - 1
    else:
        return np.int64(0)
    # 24 significand bits and the round bit: bits pos .. pos-24 (missing low bits are 0)
    t = np.int64(0)
    for i in range(pos, pos - 25, -1):
        t = (t << 1) | (_bit(l0, l1, l2, i) if i >= 0 else 0)
    sticky = _any_below(l0, l1, l2, pos - 24)
    sig = t >> 1
    if (t & 1) and (sticky or (sig & 1)):
        sig += 1
        if sig == (np.int64(1) << 24):   # rounding carried into a new binade
            sig >>= 1
            pos += 1
    exp = pos + FIXED_LSB_EXP + FP32_BIAS
    code = (exp << FP32_FRAC) | (sig & ((np.int64(1) << FP32_FRAC) - 1))
    if negative:
        code |= np.int64(1) << 31
    return code


@njit(cache=True)
def gemm_exact_kernel(a_sign, a_sig, a_shift, w_sign, w_sig, w_shift):
    """(R, K) x (K, C) decoded FP16 operands -> (R, C) FP32 codes, each output the exact
    sum of its K products rounded once.  The weight parts come transposed, (C, K), so
    the inner loop reads both operands contiguously."""
    rows, k = a_sig.shape
    cols = w_sig.shape[0]
    out = np.empty((rows, cols), dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            l0 = l1 = l2 = np.int64(0)
            for i in range(k):
                pa = a_sig[r, i]
                pw = w_sig[c, i]
                if pa != 0 and pw != 0:
                    l0, l1, l2 = _add_product(l0, l1, l2, a_sign[r, i] != w_sign[c, i],
                                              pa * pw, a_shift[r, i] + w_shift[c, i])
            out[r, c] = round_limbs_to_f32(l0, l1, l2)
    return out


@njit(cache=True)
def tile_exact_kernel(act, wval, widx):
    """Packed beats (``pe_array.pack_tile``) of FP16 codes -> (R, C) FP32 codes: PE (r, c)
    sums act[b, r, widx[b, c, j]] * wval[b, c, j] over every beat b and multiplier j."""
    beats, rows, _ = act.shape
    cols, n = wval.shape[1], wval.shape[2]
    out = np.empty((rows, cols), dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            l0 = l1 = l2 = np.int64(0)
            for b in range(beats):
                for j in range(n):
                    l0, l1, l2 = _add_codes(l0, l1, l2, act[b, r, widx[b, c, j]], wval[b, c, j])
            out[r, c] = round_limbs_to_f32(l0, l1, l2)
    return out


@njit(cache=True)
def sparse_exact_kernel(a_pad, wv, wi, n, m):
    """(R, G*M) activation codes x N:M-compressed weight codes ``wv``/``wi`` (G*N, C)
    -> (R, C) FP32 codes: output (r, c) is the exact sum over kept weights t of
    a_pad[r, (t // n) * m + wi[t, c]] * wv[t, c], rounded once."""
    rows = a_pad.shape[0]
    kept, cols = wv.shape
    out = np.empty((rows, cols), dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            l0 = l1 = l2 = np.int64(0)
            for t in range(kept):
                l0, l1, l2 = _add_codes(l0, l1, l2, a_pad[r, (t // n) * m + wi[t, c]], wv[t, c])
            out[r, c] = round_limbs_to_f32(l0, l1, l2)
    return out
