"""``SparsePEArray``: R x C output-stationary systolic array of N:M sparse PEs.

Beat b's activation window for row r is delayed r steps (skew registers) and then moves
right one PE per step; its weight group for column c is delayed c steps and moves down,
so PE (r, c) sees beat b at step b + r + c, as ``accel/arch/sat/pe_array.py`` states.
All registers advance on one global enable from the :class:`TileController`, which is
how the array stalls on a missing input beat or a refused result beat without losing
data.  The result stream offers one array row of C accumulators per beat.

Pipelined (``ArrayParams(pipelined=True)``): one ``start`` runs a sequence of tiles;
the act stream's ``last`` bit ends a tile and travels with the window, every PE moves
its sum to a shadow register on it, and row r of the shadows is drained the step after
PE (r, C-1) saw it, while the next tile feeds (``RunController``; timing
``pe_array.tiles_cycles(..., pipelined=True)``).

FP16 (``ArrayParams.fp16``): the PEs are ``Fp16PE`` (exact wide accumulators, a
registered product pipeline) and the drained row passes through one FP32 converter per
column (``Fp16ResultPipe``) before the result port; the controllers count the extra
steps (``tile_cycles(..., dtype="fp16")``).

Dense mode is not a separate datapath: the host feeds dense groups (each window M/N
times with N consecutive positions, ``pack_tile(dense=True)``), so ``N == M`` is simply
an engine with no multiplexing choice.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.controller import (
    ControlSignature,
    RunController,
    RunControlSignature,
    TileController,
)
from accel.hw.blocks.pe_array.fp16_out import Fp16ResultPipe
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.blocks.pe_array.pe import SparsePE, group_layout, window_layout
from accel.hw.blocks.pe_array.pe_fp16 import Fp16PE


def array_signature(p: ArrayParams) -> wiring.Signature:
    """Ports of the array (also read by the Verilog sidecar without elaborating)."""
    return wiring.Signature({
        "ctrl": In(RunControlSignature() if p.pipelined else ControlSignature()),
        "act": In(stream.Signature(layouts.act_beat(p))),
        "weight": In(stream.Signature(layouts.weight_beat(p))),
        "result": Out(stream.Signature(layouts.result_beat(p))),
    })


class SparsePEArray(wiring.Component):
    def __init__(self, p: ArrayParams):
        p.validate()
        self.p = p
        super().__init__(array_signature(p))

    def elaborate(self, platform):
        p = self.p
        m = Module()
        if p.pipelined:
            m.submodules.ctl = ctl = RunController(p)
            wiring.connect(m, wiring.flipped(self.ctrl), ctl.ctrl)
            out_ok = ~ctl.drain | self.result.ready
            m.d.comb += [
                ctl.in_valid.eq(self.act.valid & self.weight.valid),
                ctl.in_last.eq(self.act.payload.last),
                ctl.out_ready.eq(self.result.ready),
                # both inputs transfer together, only in a step that advances and not
                # while a tile's last beat waits for the previous tile's drain
                self.act.ready.eq(ctl.feed & ~ctl.hold & self.weight.valid & out_ok),
                self.weight.ready.eq(ctl.feed & ~ctl.hold & self.act.valid & out_ok),
            ]
            take = ctl.feed & ~ctl.hold & ctl.adv
        else:
            m.submodules.ctl = ctl = TileController(p)
            wiring.connect(m, wiring.flipped(self.ctrl), ctl.ctrl)
            m.d.comb += [
                ctl.in_valid.eq(self.act.valid & self.weight.valid),
                ctl.out_ready.eq(self.result.ready),
                # both input streams transfer together: each is ready when the other is valid
                self.act.ready.eq(ctl.feed & self.weight.valid),
                self.weight.ready.eq(ctl.feed & self.act.valid),
            ]
            take = ctl.feed & ctl.adv   # this step consumes a beat (else it inserts a bubble)

        # skew chains: row r's window waits r steps, column c's group waits c steps
        row_in = []
        for r in range(p.rows):
            head = Signal(window_layout(p), name=f"act_row{r}")
            m.d.comb += [head.win.eq(self.act.payload.win[r]), head.valid.eq(take)]
            if p.pipelined:
                m.d.comb += head.last.eq(take & self.act.payload.last)
            for d in range(r):
                reg = Signal(window_layout(p), name=f"act_skew{r}_{d}")
                with m.If(ctl.clear):
                    m.d.sync += reg.valid.eq(0)
                with m.Elif(ctl.adv):
                    m.d.sync += reg.eq(head)
                head = reg
            row_in.append(head)
        col_in = []
        for c in range(p.cols):
            head = Signal(group_layout(p), name=f"w_col{c}")
            m.d.comb += [head.val.eq(self.weight.payload.val[c]),
                         head.idx.eq(self.weight.payload.idx[c])]
            for d in range(c):
                reg = Signal(group_layout(p), name=f"w_skew{c}_{d}")
                with m.If(ctl.adv):
                    m.d.sync += reg.eq(head)
                head = reg
            col_in.append(head)

        pe_class = Fp16PE if p.fp else SparsePE
        pes = [[pe_class(p) for _ in range(p.cols)] for _ in range(p.rows)]
        for r in range(p.rows):
            for c in range(p.cols):
                pe = pes[r][c]
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += [
                    pe.adv.eq(ctl.adv), pe.clear.eq(ctl.clear),
                    pe.a_in.eq(row_in[r] if c == 0 else pes[r][c - 1].a_out),
                    pe.w_in.eq(col_in[c] if r == 0 else pes[r - 1][c].w_out),
                ]

        if p.fp:
            self._fp16_result(m, ctl, pes)
            return m
        # result: the drained row's accumulators, held until the sink accepts them
        if p.pipelined:
            # offer a row only in a step that can advance: the transfer is the step
            m.d.comb += self.result.valid.eq(ctl.drain & (~ctl.feed | ctl.in_valid))
            m.d.comb += [ctl.row_last[r].eq(pes[r][p.cols - 1].a_out.valid
                                            & pes[r][p.cols - 1].a_out.last)
                         for r in range(p.rows)]
        else:
            m.d.comb += self.result.valid.eq(ctl.drain)
        m.d.comb += self.result.payload.row.eq(ctl.row)
        for r in range(p.rows):
            with m.If(ctl.row == r):
                m.d.comb += [self.result.payload.acc[c].eq(
                    pes[r][c].shadow if p.pipelined else pes[r][c].acc)
                    for c in range(p.cols)]
        return m

    def _fp16_result(self, m, ctl, pes):
        """FP16: the selected row enters the column converters; their output row is the
        result beat (pipelined: ``row_last`` is the accumulator stage's last-beat flag)."""
        p = self.p
        m.submodules.out = out = Fp16ResultPipe(p)
        m.d.comb += [out.clear.eq(ctl.clear), out.in_row.eq(ctl.row),
                     ctl.out_valid.eq(out.out_valid),
                     self.result.payload.row.eq(out.out_row),
                     self.result.payload.acc.eq(out.out_code)]
        if p.pipelined:
            m.d.comb += [out.en.eq(ctl.adv), ctl.out_last.eq(out.out_row == p.rows - 1),
                         self.result.valid.eq(ctl.drain & (~ctl.feed | ctl.in_valid))]
            m.d.comb += [ctl.row_last[r].eq(pes[r][p.cols - 1].last_sum) for r in range(p.rows)]
            m.d.comb += out.in_valid.eq(ctl.row_ready)     # ctl.drain is the output side
        else:
            m.d.comb += [out.en.eq(ctl.out_adv), out.in_valid.eq(ctl.drain),
                         self.result.valid.eq(out.out_valid)]
        for r in range(p.rows):
            with m.If(ctl.row == r):
                m.d.comb += [out.in_acc[c].eq(pes[r][c].shadow if p.pipelined else pes[r][c].acc)
                             for c in range(p.cols)]
