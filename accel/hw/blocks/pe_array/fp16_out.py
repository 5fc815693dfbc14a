"""Result port of the FP16 array: the drained row's wide accumulators -> FP32 codes.

One :class:`accel.hw.fp.FixedToFp32` per column (not per PE: the conversion is needed
once per result, R x C results leave one row per step), and next to the converters a
shift register of the slot's valid bit and row number, so the row index leaves with
its data ``OUT_LATENCY_FP16`` steps after the row was selected.  Everything advances on
``en`` (the array's step) and ``clear`` drops slots in flight (start, reset).
"""

from __future__ import annotations

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.sat.pe_array import OUT_LATENCY_FP16
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.fp import CONVERTER_STAGES, FixedToFp32


class Fp16ResultPipe(wiring.Component):
    def __init__(self, p: ArrayParams):
        assert p.fp and CONVERTER_STAGES == OUT_LATENCY_FP16
        self.p = p
        super().__init__({
            "en": In(1),
            "clear": In(1),
            "in_valid": In(1),
            "in_row": In(p.row_bits),
            "in_acc": In(data.ArrayLayout(signed(p.kulisch_bits), p.cols)),
            "out_valid": Out(1),
            "out_row": Out(p.row_bits),
            "out_code": Out(data.ArrayLayout(unsigned(32), p.cols)),
        })

    def elaborate(self, platform):
        p = self.p
        m = Module()
        valid, row = self.in_valid, self.in_row
        for s in range(OUT_LATENCY_FP16):
            v, r = Signal(name=f"slot_valid{s}"), Signal(p.row_bits, name=f"slot_row{s}")
            with m.If(self.clear):
                m.d.sync += v.eq(0)
            with m.Elif(self.en):
                m.d.sync += [v.eq(valid), r.eq(row)]
            valid, row = v, r
        m.d.comb += [self.out_valid.eq(valid), self.out_row.eq(row)]
        for c in range(p.cols):
            conv = FixedToFp32(p.kulisch_bits)
            m.submodules[f"to_fp32_{c}"] = conv
            m.d.comb += [conv.en.eq(self.en), conv.value.eq(self.in_acc[c]),
                         self.out_code[c].eq(conv.code)]
        return m
