"""``SparseDSPChain``: one FlightLLM sparse DSP chain (REFERENCE §2), pipelined, stallable.

Per beat (one chain pass for two activation rows) and per DSP i of group j:

1. beat register;
2. sparse MUX: ``act0[j][idx[i]]`` (row 0: MV and MM), packed with row 1's
   ``act1[i]`` as ``a0 * 2**18 + a1`` (two INT8 MACs sharing the weight) -> the DSP's
   A register, the weight -> its B register.  Row 1 only serves dense MM, where slot i
   holds a fixed position of a contiguous window, so it needs no MUX;
3. multiplier register (MREG);
4. the group's cascade: P_q = P_{q-1} + M_q, one P register per DSP (PCIN/PCOUT),
   the operands of DSP q delayed q more cycles (systolic skew inside the group);
5. the reduction nodes at the group ends feed a pipelined adder tree; the packed sums
   are unpacked into the two rows' fields once a node spans ``PACKED_MAX_DSPS`` DSPs
   (overflow adjust, only in chains longer than that) or at the root;
6. two accumulators add the pass sums of one output column and emit them on ``last``.

Every register advances on one enable, ``~result.valid | result.ready``: a refused
result freezes the chain (``beat.ready`` low), a missing beat is a bubble.  The
latency is ``accel.arch.flightllm.dsp_chain.chain_fill_cycles``.
"""

from __future__ import annotations

from amaranth import Module, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.flightllm import dsp_chain as contract
from accel.hw.blocks.dsp_chain import layouts
from accel.hw.blocks.dsp_chain.params import A_BITS, P_BITS, WEIGHT_BITS, ChainParams

MUL_BITS = A_BITS + WEIGHT_BITS        # product of the packed A and the weight


def chain_signature(p: ChainParams) -> wiring.Signature:
    return wiring.Signature({
        "beat": In(stream.Signature(layouts.beat(p))),
        "result": Out(stream.Signature(layouts.result(p))),
    })


class SparseDSPChain(wiring.Component):
    def __init__(self, p: ChainParams):
        p.validate()
        self.p = p
        super().__init__(chain_signature(p))

    def elaborate(self, platform):
        p = self.p
        m = Module()
        en = Signal()
        m.d.comb += [en.eq(~self.result.valid | self.result.ready), self.beat.ready.eq(en)]

        def reg(shape, name, value):
            """A datapath register (no reset: only the valid bits and accumulators have one)."""
            r = Signal(shape, name=name, reset_less=True)
            with m.If(en):
                m.d.sync += r.eq(value)
            return r

        # control travels with the data: valid and last per stage
        def ctl(v, last, name):
            v2, l2 = Signal(name=f"{name}_valid"), Signal(name=f"{name}_last", reset_less=True)
            with m.If(en):
                m.d.sync += [v2.eq(v), l2.eq(last)]
            return v2, l2

        # 1. beat register
        b = reg(layouts.beat(p), "beat_q", self.beat.payload)
        v, last = ctl(self.beat.valid, self.beat.payload.last, "s1")

        # 2. sparse MUX + pack (the DSP's A/B registers); 3. M; 4. the group cascades
        group_out = []
        for j in range(p.groups):
            prev = None
            for q in range(p.dsp_group):
                i = j * p.dsp_group + q
                a0 = b.act0[j][b.idx[i]]
                a1 = b.act1[i]
                a = reg(signed(A_BITS), f"a_{i}", (a0 << contract.PACK_SHIFT) + a1)
                w = reg(signed(WEIGHT_BITS), f"w_{i}", b.w[i])
                for d in range(q):                     # skew inside the group
                    a = reg(signed(A_BITS), f"a_{i}_d{d}", a)
                    w = reg(signed(WEIGHT_BITS), f"w_{i}_d{d}", w)
                mul = reg(signed(MUL_BITS), f"m_{i}", a * w)
                prev = reg(signed(P_BITS), f"p_{i}", mul if prev is None else prev + mul)
            group_out.append(prev)
        for s in range(2 + p.dsp_group):
            v, last = ctl(v, last, f"s{s + 2}")

        # 5. reduction tree over the group outputs, unpacked at PACKED_MAX_DSPS spans
        levels = contract.tree_levels(p.chain_dsps, p.dsp_group)
        span = p.dsp_group
        unpack_at = 0
        while unpack_at < levels and span * 2 <= contract.PACKED_MAX_DSPS:
            span *= 2
            unpack_at += 1
        nodes = group_out                               # packed values (P_BITS)
        for lvl in range(levels + 1):
            if lvl == unpack_at:
                nodes = [self._unpack(reg, x, f"unpack_{k}") for k, x in enumerate(nodes)]
                v, last = ctl(v, last, f"unpack{lvl}")
            if lvl == levels:
                break
            nodes = [self._add(reg, nodes[k:k + 2], f"t{lvl}_{k // 2}")
                     for k in range(0, len(nodes), 2)]
            v, last = ctl(v, last, f"tree{lvl}")
        (hi, lo), = nodes

        # 6. accumulators and the result register
        acc0 = Signal(signed(p.acc_bits))
        acc1 = Signal(signed(p.acc_bits))
        with m.If(en):
            m.d.sync += self.result.valid.eq(0)
            with m.If(v):
                with m.If(last):
                    m.d.sync += [self.result.payload.y0.eq(acc0 + hi),
                                 self.result.payload.y1.eq(acc1 + lo),
                                 self.result.valid.eq(1), acc0.eq(0), acc1.eq(0)]
                with m.Else():
                    m.d.sync += [acc0.eq(acc0 + hi), acc1.eq(acc1 + lo)]
        return m

    def _unpack(self, reg, x, name):
        """Packed ``hi * 2**18 + lo`` (``x`` a value, or an already unpacked pair) ->
        registered (hi, lo) row sums; |lo| < 2**17 is what PACKED_MAX_DSPS guarantees."""
        sb = self.p.sum_bits
        sh = contract.PACK_SHIFT
        lo = x[:sh].as_signed()
        hi = (x >> sh) + x[sh - 1]
        return reg(signed(sb), f"{name}_hi", hi), reg(signed(sb), f"{name}_lo", lo)

    def _add(self, reg, pair, name):
        """One reduction-tree node (registered); an odd node passes through."""
        if isinstance(pair[0], tuple):
            sb = self.p.sum_bits
            if len(pair) == 1:
                return reg(signed(sb), f"{name}_hi", pair[0][0]), reg(signed(sb), f"{name}_lo",
                                                                     pair[0][1])
            return (reg(signed(sb), f"{name}_hi", pair[0][0] + pair[1][0]),
                    reg(signed(sb), f"{name}_lo", pair[0][1] + pair[1][1]))
        value = pair[0] if len(pair) == 1 else pair[0] + pair[1]
        return reg(signed(P_BITS), name, value)
