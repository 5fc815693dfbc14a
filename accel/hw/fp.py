"""FP16 arithmetic pieces of the SAT PE array: exact fixed-point products and the one
rounding to FP32 (rules and NumPy reference: ``accel.arch.sat.fp16``).

* :func:`fp16_fields` decodes an FP16 code the way the rules do: exponent 0 is zero
  (denormals-are-zero), exponent 31 an ordinary normal; value = (-1)^s (1024+f) 2^(e-25).
* A product of two nonzero operands is the integer X = +-(1024+fa)(1024+fb) << (ea+eb-2)
  in units of 2^-48 (|X| < 2^82); the PE builds it in three registered steps (see
  ``accel/hw/blocks/pe_array/pe_fp16.py``) and adds it exactly into a wide accumulator.
* :class:`FixedToFp32` turns the accumulated integer S into the FP32 code of S * 2^-48,
  rounded once to nearest even (S == 0 gives +0).  Every nonzero |S * 2^-48| is >= 2^-48
  and < 2^(W-49), so the result is always a normal FP32 number: no flush, no overflow.
"""

from __future__ import annotations

from amaranth import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

FRACTION_SHIFT = 48      # products are integers in units of 2^-48 (2^(1-25) * 2^(1-25))
FP32_BIAS = 127
SIG_BITS = 24            # FP32 significand with its hidden bit
CONVERTER_STAGES = 6     # registers of FixedToFp32 (= pe_array.OUT_LATENCY_FP16)
BLOCK = 16               # leading-one search: per 16-bit block, then across blocks


def fp16_fields(code):
    """(sign, exponent, 11-bit significand with the hidden bit, zero) of an FP16 code."""
    exp = code[10:15]
    return code[15], exp, Cat(code[0:10], C(1, 1)), exp == 0


def leading_one(m: Module, v, name: str):
    """(any, pos): whether ``v`` has a set bit and the index of the highest one, as a
    balanced tree of 2:1 choices (log2 depth, not a chain of ``len(v)`` priority muxes)."""
    width = 1 << max(1, (len(v) - 1).bit_length())
    level = [(v[i], C(0, 0)) if i < len(v) else (C(0, 1), C(0, 0)) for i in range(width)]
    depth = 0
    while len(level) > 1:
        nxt = []
        for k in range(0, len(level), 2):
            (a_lo, p_lo), (a_hi, p_hi) = level[k], level[k + 1]
            nxt.append((a_lo | a_hi, Mux(a_hi, Cat(p_hi, C(1, 1)), Cat(p_lo, C(0, 1)))))
        level, depth = nxt, depth + 1
    any_, pos = Signal(name=f"{name}_any"), Signal(depth, name=f"{name}_pos")
    m.d.comb += [any_.eq(level[0][0]), pos.eq(level[0][1])]
    return any_, pos


class FixedToFp32(wiring.Component):
    """FP32 code of ``value`` * 2^-48 (``value`` a ``width``-bit two's-complement integer),
    round-to-nearest-even, in CONVERTER_STAGES registers that all advance on ``en``:
    (1) the value, (2) sign and magnitude, (3) per 16-bit block: any bit and the
    leading one's place, (4) the leading block: normalising shift by whole blocks and
    the exponent, (5) the remaining 0..15-bit shift, (6) guard/sticky, rounding and the
    packed code.  One per array column on the result port (``fp16_out.py``)."""

    def __init__(self, width: int):
        if width < SIG_BITS + 3:
            raise ValueError(f"converter width {width} below {SIG_BITS + 3} bits")
        self.width = width
        super().__init__({"en": In(1), "value": In(signed(width)), "code": Out(32)})

    def elaborate(self, platform):
        w = self.width
        mw = w - 1                         # |value| < 2^(w-1): magnitude bits
        frame = 1 << (mw - 1).bit_length()  # normalise in a power-of-two frame of
        nblk = frame // BLOCK               # BLOCK-bit blocks: shifts are complements
        m = Module()
        s1 = Signal(signed(w))
        neg2, mag2 = Signal(), Signal(frame)
        neg3, mag3 = Signal(), Signal(frame)
        blk_any3 = Signal(nblk)
        blk_pos3 = [Signal(4, name=f"blk_pos3_{b}") for b in range(nblk)]
        neg4, nz4, e4 = Signal(), Signal(), Signal(8)
        coarse4, fine4 = Signal(frame), Signal(4)
        neg5, nz5, e5, norm5 = Signal(), Signal(), Signal(8), Signal(frame)
        code = Signal(32)
        m.d.comb += self.code.eq(code)

        # (3) per block of 16 bits: any bit set, and the highest one's position
        blk_lead = [leading_one(m, mag2[b * BLOCK:(b + 1) * BLOCK], f"lead{b}")
                    for b in range(nblk)]
        # (4) the highest nonzero block; the normalising shift is frame-1-pos = ~pos:
        # its block part moves whole blocks now, its bit part waits a stage
        nz, blk = leading_one(m, blk_any3, "lead_blk")
        loc = Signal(4)
        coarse = Signal(frame)
        with m.Switch(blk):
            for b in range(nblk):
                with m.Case(b):
                    m.d.comb += [loc.eq(blk_pos3[b]),
                                 coarse.eq(mag3 << (BLOCK * (nblk - 1 - b)))]
        norm = Signal(frame)
        m.d.comb += norm.eq(coarse4 << fine4)
        top5, g5 = norm5[frame - SIG_BITS:], norm5[frame - SIG_BITS - 1]
        st5 = norm5[0:frame - SIG_BITS - 1] != 0             # sticky: anything below
        up = g5 & (st5 | top5[0])                           # nearest, ties to even
        mant = Signal(SIG_BITS + 1)
        m.d.comb += mant.eq(top5 + up)
        # a carry out of rounding makes the significand 2^24: fraction 0, exponent + 1
        packed = Cat(Mux(mant[SIG_BITS], 0, mant[0:SIG_BITS - 1]),
                     (e5 + mant[SIG_BITS])[0:8], neg5)
        with m.If(self.en):
            m.d.sync += [
                s1.eq(self.value),                                               # (1)
                neg2.eq(s1[-1]), mag2.eq(Mux(s1[-1], -s1, s1)[:mw]),             # (2)
                neg3.eq(neg2), mag3.eq(mag2),                                    # (3)
                blk_any3.eq(Cat(*[a for a, _ in blk_lead])),
                *[bp.eq(p) for bp, (_, p) in zip(blk_pos3, blk_lead, strict=True)],
                neg4.eq(neg3), nz4.eq(nz), coarse4.eq(coarse), fine4.eq(~loc),   # (4)
                # MSB at bit pos = 16 blk + loc: value in [2^(pos-48), 2^(pos-47)), so
                # the exponent field is pos - 48 + 127
                e4.eq(Cat(loc, blk) + (FP32_BIAS - FRACTION_SHIFT)),
                neg5.eq(neg4), nz5.eq(nz4), e5.eq(e4), norm5.eq(norm),           # (5)
                code.eq(Mux(nz5, packed, 0)),                                    # (6)
            ]
        return m


def fp16_product_shape() -> tuple:
    """Widths of the three registered product steps: the 22-bit significand product,
    the 39-bit signed product x +-2^(shift mod 16) and the 83-bit signed addend."""
    return unsigned(22), signed(39), signed(83)
