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

from accel.arch.sat.pe_array import MAC_LATENCY, START_CYCLES, pipelined_spacing
from accel.hw.blocks.pe_array.params import BEATS_BITS, CYCLES_BITS, ArrayParams


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


# --- pipelined runs of tiles (ArrayParams(pipelined=True)) ------------------------------

class RunControlSignature(wiring.Signature):
    """Control of a pipelined array: one ``start`` per *run* of ``tiles`` tiles.  Tile
    boundaries come with the data (the act stream's ``last`` flag), so tiles of any
    length follow each other without host handshakes."""

    def __init__(self):
        super().__init__({
            "start": Out(1),              # pulse in IDLE: begin a run of `tiles` tiles
            "tiles": Out(BEATS_BITS),     # 0 = empty run: done at once, counter = START_CYCLES
            "busy": In(1),
            "done": In(1),                # one-cycle pulse after the last tile's last row
            "cycles": In(CYCLES_BITS),    # advancing cycles of the last/current run
        })


class RunController(wiring.Component):
    """Feeds tiles back to back and drains each one's shadow registers as they finish.

    * A beat with ``last`` set is *held* at the input (a counted bubble step) until
      ``pipelined_spacing(R, C)`` steps have passed since the previous tile's last beat
      entered; this is the short-tile rule of ``accel.arch.sat.pe_array``.
    * ``row_last[r]`` is PE (r, C-1) accumulating a tile's last beat into its shadow this
      step; the row is offered on the result stream the next step (``rdy``).  The
      spacing rule keeps ``rdy`` one-hot.
    * The array advances when it needs no input beat or has one, and offers no result
      or has it accepted; ``cycles`` counts those steps, so it equals ``tiles_cycles``
      under any stalls.
    """

    def __init__(self, p: ArrayParams):
        self.p = p
        super().__init__({
            "ctrl": In(RunControlSignature()),
            "in_valid": In(1),    # both input streams hold a beat this cycle
            "in_last": In(1),     # ... and the act beat ends its tile
            "out_ready": In(1),
            "row_last": In(p.rows),
            "feed": Out(1),       # more beats to come: an input beat is needed to advance
            "hold": Out(1),       # the waiting beat is a last beat that must wait (bubble)
            "adv": Out(1),
            "clear": Out(1),
            "drain": Out(1),      # a result row is offered (valid only when adv may happen)
            "row": Out(p.row_bits),
        })

    def elaborate(self, platform):
        p = self.p
        m = Module()
        assert START_CYCLES == 1 and MAC_LATENCY == 1, "RTL built for a 1-cycle start and MAC"
        spacing = pipelined_spacing(p.rows, p.cols)
        tiles = Signal(BEATS_BITS)
        fed = Signal(BEATS_BITS)          # tiles whose last beat has entered
        drained = Signal(BEATS_BITS)      # tiles whose last row has left
        since = Signal(range(spacing + 1))
        rdy = Signal(p.rows)
        cycles = Signal(CYCLES_BITS)
        m.d.comb += self.ctrl.cycles.eq(cycles)
        for r in range(p.rows):
            with m.If(rdy[r]):
                m.d.comb += self.row.eq(r)
        m.d.sync += self.ctrl.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.ctrl.start):
                    m.d.comb += self.clear.eq(1)
                    m.d.sync += [tiles.eq(self.ctrl.tiles), fed.eq(0), drained.eq(0),
                                 since.eq(spacing), rdy.eq(0), cycles.eq(START_CYCLES)]
                    with m.If(self.ctrl.tiles == 0):
                        m.d.sync += self.ctrl.done.eq(1)
                    with m.Else():
                        m.next = "RUN"
            with m.State("RUN"):
                feed = fed < tiles
                drain = rdy.any()
                m.d.comb += [
                    self.ctrl.busy.eq(1),
                    self.feed.eq(feed),
                    self.hold.eq(self.in_last & (since < spacing)),
                    self.drain.eq(drain),
                    self.adv.eq((~feed | self.in_valid) & (~drain | self.out_ready)),
                ]
                take_last = feed & self.in_valid & self.in_last & ~self.hold
                with m.If(self.adv):
                    m.d.sync += [cycles.eq(cycles + 1), rdy.eq(self.row_last)]
                    with m.If(take_last):
                        m.d.sync += [fed.eq(fed + 1), since.eq(1)]
                    with m.Elif(since < spacing):
                        m.d.sync += since.eq(since + 1)
                    with m.If(rdy[p.rows - 1]):
                        m.d.sync += drained.eq(drained + 1)
                        with m.If(drained + 1 == tiles):
                            m.d.sync += self.ctrl.done.eq(1)
                            m.next = "IDLE"
        return m
