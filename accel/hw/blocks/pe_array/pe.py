"""One processing element of the sparse array: N multipliers fed by M-way activation muxes.

Output-stationary: the PE owns one accumulator.  Each step (``adv``) it registers the
activation window arriving from the left and the compressed weight group arriving from
above, passes both on (right / down) and, if the registered window is a real beat
(``valid``), adds ``sum_j win[idx[j]] * val[j]`` to its accumulator.  Registered inputs
then accumulate = the one cycle of ``MAC_LATENCY`` in ``accel/arch/sat/pe_array.py``.
The accumulator wraps (two's complement) at ``acc_bits``, exactly like ``wrap_signed``.

FP16 arrays use ``pe_fp16.Fp16PE`` (same systolic registers and layouts, a pipelined
exact datapath behind them).

Pipelined (``p.pipelined``): the window also carries the tile's ``last`` flag; on the
last beat the PE writes ``acc + sum`` into a shadow register and restarts ``acc`` at 0,
so the next tile accumulates while the shadow waits for the drain.
"""

from __future__ import annotations

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from accel.hw.blocks.pe_array.layouts import acc_shape, act_shape, weight_shape
from accel.hw.blocks.pe_array.params import ArrayParams


def window_layout(p: ArrayParams) -> data.StructLayout:
    """One row's activation window travelling right, tagged with its beat-valid bit
    (and, pipelined, the tile's ``last`` flag, which travels with the data)."""
    fields = {"win": data.ArrayLayout(act_shape(p), p.m), "valid": unsigned(1)}
    if p.pipelined:
        fields["last"] = unsigned(1)
    return data.StructLayout(fields)


def group_layout(p: ArrayParams) -> data.StructLayout:
    """One column's compressed weight group travelling down."""
    return data.StructLayout({"val": data.ArrayLayout(weight_shape(p), p.n),
                              "idx": data.ArrayLayout(unsigned(p.idx_bits), p.n)})


class SparsePE(wiring.Component):
    def __init__(self, p: ArrayParams):
        self.p = p
        ports = {
            "a_in": In(window_layout(p)),
            "w_in": In(group_layout(p)),
            "adv": In(1),     # the array steps this cycle (controller's global enable)
            "clear": In(1),   # tile start: zero the accumulator and drop stale beats
            "a_out": Out(window_layout(p)),
            "w_out": Out(group_layout(p)),
            "acc": Out(acc_shape(p)),
        }
        if p.pipelined:
            ports["shadow"] = Out(acc_shape(p))   # finished tile, held for the drain
        super().__init__(ports)

    def elaborate(self, platform):
        p = self.p
        m = Module()
        a_reg = Signal(window_layout(p))
        w_reg = Signal(group_layout(p))
        acc = Signal(acc_shape(p))
        assert not p.fp, "FP16 arrays use pe_fp16.Fp16PE"
        products = []
        for j in range(p.n):
            sel = a_reg.win[w_reg.idx[j]]                      # the M-way sparse mux
            prod = Signal(signed(p.act_bits + p.weight_bits), name=f"prod{j}")
            m.d.comb += prod.eq(sel * w_reg.val[j])
            products.append(prod)
        total = products[0]
        for prod in products[1:]:
            total = total + prod
        acc_next = acc + total                                 # truncation = wrap at acc_bits
        with m.If(self.clear):
            m.d.sync += [acc.eq(0), a_reg.valid.eq(0)]
        with m.Elif(self.adv):
            m.d.sync += [a_reg.eq(self.a_in), w_reg.eq(self.w_in)]
            if p.pipelined:
                shadow = Signal(acc_shape(p))
                m.d.comb += self.shadow.eq(shadow)
                with m.If(a_reg.valid & a_reg.last):
                    # the tile's last beat: its final sum goes to the shadow register,
                    # the accumulator restarts from 0 for the next tile's first beat
                    m.d.sync += [shadow.eq(acc_next), acc.eq(0)]
                with m.Elif(a_reg.valid):
                    m.d.sync += acc.eq(acc_next)
            else:
                with m.If(a_reg.valid):
                    m.d.sync += acc.eq(acc_next)
        m.d.comb += [self.a_out.eq(a_reg), self.w_out.eq(w_reg), self.acc.eq(acc)]
        return m
