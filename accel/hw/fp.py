"""Combinational FP16 x FP16 -> FP32 multiplier and FP32 adder (round-to-nearest-even).

The rules (denormals-are-zero on FP16 inputs, exponent 31 decoded as a normal number,
exact products, RNE sums flushed to +0 below 2^-126) are stated once in
``accel.arch.sat.fp16``, whose NumPy reference the tests compare with bit for bit.

Both functions add logic to a Module and return a 32-bit Signal holding the FP32 code.
The adder assumes its inputs are what these units produce: FP32 normals or +0 (a code
with exponent 0 is read as zero); it never sees inf/NaN (see the overflow note in
``accel.arch.sat.fp16``; an exponent >= 255 would saturate to inf, unreachable).
"""

from __future__ import annotations

from amaranth import C, Cat, Module, Mux, Signal, signed

EXT = 3   # guard, round and sticky bits below the 24-bit significand


def fp16_mul(m: Module, a, b, name: str) -> Signal:
    """Exact FP32 code of the product of two FP16 codes (+0 if either is zero/subnormal)."""
    out = Signal(32, name=name)
    ea, eb = a[10:15], b[10:15]
    prod = Signal(22, name=f"{name}_sig")
    m.d.comb += prod.eq(Cat(a[0:10], C(1, 1)) * Cat(b[0:10], C(1, 1)))
    top = prod[21]                                   # significand product in [2, 4)
    exp = Signal(9, name=f"{name}_exp")
    # unbiased: (ea-15) + (eb-15) + top; FP32 bias 127 -> ea + eb + 97 + top (99..160)
    m.d.comb += exp.eq(ea + eb + 97 + top)
    frac = Mux(top, Cat(C(0, 2), prod[0:21]), Cat(C(0, 3), prod[0:20]))
    zero = (ea == 0) | (eb == 0)
    m.d.comb += out.eq(Mux(zero, 0, Cat(frac, exp[0:8], a[15] ^ b[15])))
    return out


def fp32_add(m: Module, a, b, name: str) -> Signal:
    """FP32 code of a + b rounded to nearest even; results below 2^-126 become +0."""
    out = Signal(32, name=name)
    a_big = a[0:31] >= b[0:31]                       # magnitude order of normals/zeros
    x = Signal(32, name=f"{name}_x")
    y = Signal(32, name=f"{name}_y")
    m.d.comb += [x.eq(Mux(a_big, a, b)), y.eq(Mux(a_big, b, a))]
    ex, ey = x[23:31], y[23:31]
    mx = Mux(ex == 0, 0, Cat(x[0:23], C(1, 1)))      # 24-bit significands, DAZ
    my = Mux(ey == 0, 0, Cat(y[0:23], C(1, 1)))
    width = 24 + EXT
    mx_e = Signal(width, name=f"{name}_mx")
    my_e = Signal(width, name=f"{name}_my")
    m.d.comb += [mx_e.eq(Cat(C(0, EXT), mx)), my_e.eq(Cat(C(0, EXT), my))]
    # align the smaller operand; every bit shifted out ORs into the sticky bit
    d = Signal(8, name=f"{name}_d")
    m.d.comb += d.eq(ex - ey)
    dc = Signal(5, name=f"{name}_dc")
    m.d.comb += dc.eq(Mux(d > width, width, d))
    y_sh = Signal(width, name=f"{name}_ysh")
    m.d.comb += y_sh.eq(my_e >> dc)
    back = Signal(width + 31, name=f"{name}_back")
    m.d.comb += back.eq(y_sh << dc)
    sticky = back[0:width] != my_e
    y_al = Signal(width, name=f"{name}_yal")
    m.d.comb += y_al.eq(y_sh | sticky)
    sub = x[31] ^ y[31]
    s = Signal(width + 1, name=f"{name}_sum")
    m.d.comb += s.eq(Mux(sub, mx_e - y_al, mx_e + y_al))
    # normalise: a carry shifts right by one (keeping sticky), else shift left by the
    # leading zeros of the 27-bit sum (exact when it is more than one: see G/R/S)
    lz = Signal(5, name=f"{name}_lz")
    for i in range(width):                           # highest set bit wins (last If)
        with m.If(s[i]):
            m.d.comb += lz.eq(width - 1 - i)
    norm = Signal(width, name=f"{name}_norm")
    exs = Signal(signed(11), name=f"{name}_exs")    # signed, so ex - lz may go below 0
    m.d.comb += exs.eq(ex)
    e = Signal(signed(11), name=f"{name}_e")
    with m.If(s[width]):
        m.d.comb += [norm.eq(Cat(s[0] | s[1], s[2:width + 1])), e.eq(exs + 1)]
    with m.Else():
        m.d.comb += [norm.eq(s[0:width] << lz), e.eq(exs - lz)]
    g, r, st = norm[2], norm[1], norm[0]
    lsb = norm[EXT]
    up = g & (r | st | lsb)                          # round to nearest, ties to even
    mant = Signal(25, name=f"{name}_mant")
    m.d.comb += mant.eq(norm[EXT:width] + up)
    e2 = Signal(signed(11), name=f"{name}_e2")
    frac = Signal(23, name=f"{name}_frac")
    with m.If(mant[24]):                             # rounding carried to 2^24
        m.d.comb += [e2.eq(e + 1), frac.eq(mant[1:24])]
    with m.Else():
        m.d.comb += [e2.eq(e), frac.eq(mant[0:23])]
    with m.If((s == 0) | (e2 <= 0)):
        m.d.comb += out.eq(0)                        # exact zero or below 2^-126: +0
    with m.Elif(e2 >= 255):
        m.d.comb += out.eq(Cat(C(0, 23), C(0xFF, 8), x[31]))   # unreachable, see module doc
    with m.Else():
        m.d.comb += out.eq(Cat(frac, e2[0:8], x[31]))
    return out

