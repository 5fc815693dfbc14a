"""Tile controller: start, the feed/fill phase, the result drain, done and the cycle counter.

States: IDLE --start--> FEED (beats + (R-1) + (C-1) + MAC_LATENCY steps; the first
``beats`` steps consume one activation beat and one weight beat each, the rest push
bubbles through the skewed array) --> DRAIN (R result beats, one array row each) --> IDLE
with a one-cycle ``done`` pulse.

``cycles`` counts the start cycle plus every cycle in which the tile *advances*: a feed
step with both input beats present, a fill step, or a drain step whose result beat is
accepted.  Stalled cycles (input starvation, result backpressure) are not counted, so
``cycles == tile_cycles(R, C, beats)`` whatever the stream stalls, and with unstalled
streams ``done`` rises exactly ``tile_cycles`` cycles after ``start``.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.arch.sat.pe_array import MAC_LATENCY, START_CYCLES
from accel.hw.params import BEATS_BITS, CYCLES_BITS, ArrayParams


class ControlSignature(wiring.Signature):
    """Tile control seen from the host (Out = driven by the host); components use it as In."""

    def __init__(self):
        super().__init__({
            "start": Out(1),              # pulse in IDLE: begin a tile of `beats` beats
            "beats": Out(BEATS_BITS),
            "busy": In(1),
            "done": In(1),                # one-cycle pulse after the last result beat
            "cycles": In(CYCLES_BITS),    # advancing cycles of the last/current tile
        })


class TileController(wiring.Component):
    def __init__(self, p: ArrayParams):
        self.p = p
        super().__init__({
            "ctrl": In(ControlSignature()),
            "in_valid": In(1),    # both input streams hold a beat this cycle
            "out_ready": In(1),   # the result stream accepts this cycle
            "feed": Out(1),       # input streams may transfer this cycle
            "adv": Out(1),        # the PE array steps this cycle
            "clear": Out(1),      # zero accumulators (start cycle)
            "drain": Out(1),      # a result beat is offered this cycle
            "row": Out(p.row_bits),
        })

    def elaborate(self, platform):
        p = self.p
        m = Module()
        assert START_CYCLES == 1 and MAC_LATENCY == 1, "RTL built for a 1-cycle start and MAC"
        fill = (p.rows - 1) + (p.cols - 1) + MAC_LATENCY   # steps after the last input beat
        step = Signal(BEATS_BITS + 8)
        beats = Signal(BEATS_BITS)
        cycles = Signal(CYCLES_BITS)
        row = Signal(p.row_bits)
        m.d.comb += [self.ctrl.cycles.eq(cycles), self.row.eq(row)]
        m.d.sync += self.ctrl.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.ctrl.start):
                    m.d.comb += self.clear.eq(1)
                    m.d.sync += [beats.eq(self.ctrl.beats), step.eq(0),
                                 cycles.eq(START_CYCLES)]
                    m.next = "FEED"
            with m.State("FEED"):
                m.d.comb += self.ctrl.busy.eq(1)
                in_phase = step < beats
                m.d.comb += [self.feed.eq(in_phase),
                             self.adv.eq(~in_phase | self.in_valid)]
                with m.If(self.adv):
                    m.d.sync += [step.eq(step + 1), cycles.eq(cycles + 1)]
                    with m.If(step == beats + (fill - 1)):
                        m.d.sync += row.eq(0)
                        m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += [self.ctrl.busy.eq(1), self.drain.eq(1)]
                with m.If(self.out_ready):
                    m.d.sync += [cycles.eq(cycles + 1), row.eq(row + 1)]
                    with m.If(row == p.rows - 1):
                        m.d.sync += self.ctrl.done.eq(1)
                        m.next = "IDLE"
        return m
