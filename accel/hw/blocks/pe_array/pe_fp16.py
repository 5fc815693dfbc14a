"""FP16 processing element: N exact fixed-point products into one wide accumulator.

The systolic part is the INT8 PE's (``pe.py``): the registered activation window and
weight group pass right / down every step (``adv``).  Behind them each beat goes
through a registered pipeline, one stage per step (``MAC_LATENCY_FP16`` = 5 in
``accel/arch/sat/pe_array.py``, counting the input register):

1. per multiplier j: the M-way mux picks the activation, both FP16 codes registered;
2. the 11 x 11-bit significand product (a DSP48E2), the sign, the zero flag and the
   shift ea + eb - 2 (0..60) registered;
3. alignment, fine part: product x +-2^(shift mod 16) in a second DSP48E2 (a one-hot
   multiplier with the sign folded in: no fabric shifter or negation), registered;
4. alignment, coarse part: << 16 * (shift div 16), a 4:1 mux per bit, giving the exact
   83-bit signed product X_j in units of 2^-48, registered;
5. ``acc += X_0 + ... + X_{N-1}`` -- an integer add, exact and order-free, into the
   ``kulisch_bits(N)``-wide accumulator (no rounding, no overflow in any legal tile).

The beat-valid bit and (pipelined arrays) the tile's ``last`` flag travel with the beat;
on the last beat the sum goes to the shadow register and the accumulator restarts at 0.
The one rounding to FP32 happens per column on the result port (``fp16_out.py``).
"""

from __future__ import annotations

from amaranth import C, Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.blocks.pe_array.pe import group_layout, window_layout
from accel.hw.fp import fp16_fields, fp16_product_shape

FINE_BITS = 4            # shift mod 16 in the DSP: +-2^15 fits the 18-bit signed B port
STAGES = 4               # registers between the input register and the accumulator


class Fp16PE(wiring.Component):
    def __init__(self, p: ArrayParams):
        assert p.fp
        self.p = p
        wide = signed(p.kulisch_bits)
        ports = {
            "a_in": In(window_layout(p)),
            "w_in": In(group_layout(p)),
            "adv": In(1),
            "clear": In(1),
            "a_out": Out(window_layout(p)),
            "w_out": Out(group_layout(p)),
            "acc": Out(wide),
            "last_sum": Out(1),    # this step the accumulator stage takes a tile's last beat
        }
        if p.pipelined:
            ports["shadow"] = Out(wide)
        super().__init__(ports)

    def elaborate(self, platform):
        p = self.p
        m = Module()
        sig_shape, fine_shape, addend_shape = fp16_product_shape()
        a_reg = Signal(window_layout(p))
        w_reg = Signal(group_layout(p))
        valid = [Signal(name=f"valid{s}") for s in range(1, STAGES + 1)]
        last = [Signal(name=f"last{s}") for s in range(1, STAGES + 1)]
        acc = Signal(signed(p.kulisch_bits))
        step = []                                   # registered updates on adv
        addends = []
        for j in range(p.n):
            act, wgt = Signal(16, name=f"act{j}"), Signal(16, name=f"wgt{j}")
            sig = Signal(sig_shape, name=f"sig{j}")
            shift, neg, zero = Signal(6, name=f"shift{j}"), Signal(name=f"neg{j}"), \
                Signal(name=f"zero{j}")
            fine, coarse = Signal(fine_shape, name=f"fine{j}"), Signal(2, name=f"coarse{j}")
            x = Signal(addend_shape, name=f"x{j}")
            sa, ea, ma, za = fp16_fields(act)
            sb, eb, mb, zb = fp16_fields(wgt)
            # +-2^f (f = shift mod 16), or 0 for a zero operand: the second DSP's
            # multiplier, decoded bit by bit (bit i of -2^f is i >= f) -- one LUT level
            scale = Signal(signed(18), name=f"scale{j}")
            f = shift[:FINE_BITS]
            m.d.comb += scale.eq(Cat(~zero & (f == 0),
                                     *[~zero & ((f == i) | (neg & (f < i))) for i in range(1, 16)],
                                     neg & ~zero, neg & ~zero))
            coarse_x = Signal(addend_shape, name=f"xs{j}")
            with m.Switch(coarse):
                for q in range(4):
                    with m.Case(q):
                        m.d.comb += coarse_x.eq(fine << (16 * q))
            step += [
                act.eq(a_reg.win[w_reg.idx[j]]), wgt.eq(w_reg.val[j]),          # (1)
                sig.eq(ma * mb), shift.eq(ea + eb - 2), neg.eq(sa ^ sb),         # (2)
                zero.eq(za | zb),
                fine.eq(Cat(sig, C(0, 1)).as_signed() * scale),                  # (3)
                coarse.eq(shift[FINE_BITS:]),
                x.eq(coarse_x),                                                  # (4)
            ]
            addends.append(x)
        total = acc
        for x in addends:
            total = total + x
        acc_next = Signal(signed(p.kulisch_bits))
        m.d.comb += acc_next.eq(total)
        step += [valid[0].eq(a_reg.valid)] + [valid[s].eq(valid[s - 1])
                                               for s in range(1, STAGES)]
        if p.pipelined:
            step += [last[0].eq(a_reg.last)] + [last[s].eq(last[s - 1])
                                                 for s in range(1, STAGES)]
        v_acc, l_acc = valid[-1], last[-1]
        m.d.comb += self.last_sum.eq(v_acc & l_acc)
        with m.If(self.clear):
            m.d.sync += [acc.eq(0), a_reg.valid.eq(0)] + [v.eq(0) for v in valid]
        with m.Elif(self.adv):
            m.d.sync += [a_reg.eq(self.a_in), w_reg.eq(self.w_in)] + step
            if p.pipelined:
                shadow = Signal(signed(p.kulisch_bits))
                m.d.comb += self.shadow.eq(shadow)
                with m.If(v_acc & l_acc):
                    m.d.sync += [shadow.eq(acc_next), acc.eq(0)]           # (5), tile end
                with m.Elif(v_acc):
                    m.d.sync += acc.eq(acc_next)                           # (5)
            else:
                with m.If(v_acc):
                    m.d.sync += acc.eq(acc_next)                           # (5)
        m.d.comb += [self.a_out.eq(a_reg), self.w_out.eq(w_reg), self.acc.eq(acc)]
        return m
