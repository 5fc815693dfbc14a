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

FP16 arrays: the fill takes MAC_LATENCY_FP16 steps instead of MAC_LATENCY, and DRAIN
takes R + OUT_LATENCY_FP16 steps: step k puts row k (k < R) into the column converters
(``fp16_out.py``), whose output row is offered; a step advances when no row is offered
or the offered one is accepted (``out_adv``), so the counter still counts exactly
``tile_cycles(R, C, beats, "fp16")``.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accel.arch.sat.pe_array import (
    MAC_LATENCY,
    MAC_LATENCY_FP16,
    OUT_LATENCY_FP16,
    START_CYCLES,
    pipelined_spacing,
)
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
        ports = {
            "ctrl": In(ControlSignature()),
            "in_valid": In(1),    # both input streams hold a beat this cycle
            "out_ready": In(1),   # the result stream accepts this cycle
            "feed": Out(1),       # input streams may transfer this cycle
            "adv": Out(1),        # the PE array steps this cycle
            "clear": Out(1),      # zero accumulators (start cycle)
            "drain": Out(1),      # a result beat is offered (FP16: a row enters the converters)
            "row": Out(p.row_bits),
        }
        if p.fp:
            ports["out_valid"] = In(1)   # the converters offer a result row
            ports["out_adv"] = Out(1)    # a drain step: the converters advance
        super().__init__(ports)

    def elaborate(self, platform):
        p = self.p
        m = Module()
        mac = MAC_LATENCY_FP16 if p.fp else MAC_LATENCY
        assert START_CYCLES == 1 and MAC_LATENCY == 1, "RTL built for a 1-cycle start and MAC"
        fill = (p.rows - 1) + (p.cols - 1) + mac   # steps after the last input beat
        step = Signal(BEATS_BITS + 8)
        beats = Signal(BEATS_BITS)
        cycles = Signal(CYCLES_BITS)
        # FP16: the drain step counter runs past the rows while the converters empty
        row = Signal(range(p.rows + OUT_LATENCY_FP16)) if p.fp else Signal(p.row_bits)
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
                if p.fp:
                    self._fp16_feed(m, beats, fill, cycles, row)
                else:
                    in_phase = step < beats
                    m.d.comb += [self.feed.eq(in_phase),
                                 self.adv.eq(~in_phase | self.in_valid)]
                    with m.If(self.adv):
                        m.d.sync += [step.eq(step + 1), cycles.eq(cycles + 1)]
                        with m.If(step == beats + (fill - 1)):
                            m.d.sync += row.eq(0)
                            m.next = "DRAIN"
            with m.State("DRAIN"):
                if p.fp:
                    m.d.comb += [self.ctrl.busy.eq(1), self.drain.eq(row < p.rows),
                                 self.out_adv.eq(~self.out_valid | self.out_ready)]
                    step_ok, last_step = self.out_adv, p.rows - 1 + OUT_LATENCY_FP16
                else:
                    m.d.comb += [self.ctrl.busy.eq(1), self.drain.eq(1)]
                    step_ok, last_step = self.out_ready, p.rows - 1
                with m.If(step_ok):
                    m.d.sync += [cycles.eq(cycles + 1), row.eq(row + 1)]
                    with m.If(row == last_step):
                        m.d.sync += self.ctrl.done.eq(1)
                        m.next = "IDLE"
        return m

    def _fp16_feed(self, m, beats, fill, cycles, row):
        """FEED of the FP16 array with down-counters (``beats`` = beats still to come,
        ``fill`` steps after them), so no wide comparator sits in the 200 MHz paths;
        same steps as the INT8 ``step`` counter: ``beats`` + ``fill``."""
        fill_left = Signal(range(fill + 1), init=fill)
        in_phase = beats != 0
        m.d.comb += [self.feed.eq(in_phase), self.adv.eq(~in_phase | self.in_valid)]
        with m.If(self.adv):
            m.d.sync += cycles.eq(cycles + 1)
            with m.If(in_phase):
                m.d.sync += beats.eq(beats - 1)
            with m.Else():
                m.d.sync += fill_left.eq(fill_left - 1)
                with m.If(fill_left == 1):
                    m.d.sync += [row.eq(0), fill_left.eq(fill)]
                    m.next = "DRAIN"


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
    * FP16: the ``rdy`` row enters the column converters; the row they offer
      ``OUT_LATENCY_FP16`` steps later (``out_valid``, ``out_last`` = row R-1) is the
      result beat, and a tile is drained when its row R-1 leaves.
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
            **({"out_valid": In(1),   # FP16: the converters hold a result row
                "out_last": In(1),    # ... and it is row R-1
                "row_ready": Out(1)}  # a finished row (``row``) enters the converters
               if p.fp else {}),
        })

    def elaborate(self, platform):
        p = self.p
        m = Module()
        assert START_CYCLES == 1 and MAC_LATENCY == 1, "RTL built for a 1-cycle start and MAC"
        spacing = pipelined_spacing(p.rows, p.cols)
        tiles = Signal(BEATS_BITS)
        fed = Signal(BEATS_BITS)          # tiles whose last beat has entered (FP16: still to)
        drained = Signal(BEATS_BITS)      # tiles whose last row has left (FP16: still to)
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
                    if p.fp:   # FP16: down-counters (tiles to feed / to drain), no comparators
                        m.d.sync += [fed.eq(self.ctrl.tiles), drained.eq(self.ctrl.tiles)]
                    with m.If(self.ctrl.tiles == 0):
                        m.d.sync += self.ctrl.done.eq(1)
                    with m.Else():
                        m.next = "RUN"
            with m.State("RUN"):
                feed = (fed != 0) if p.fp else (fed < tiles)
                drain = self.out_valid if p.fp else rdy.any()
                if p.fp:
                    m.d.comb += self.row_ready.eq(rdy.any())
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
                        m.d.sync += [fed.eq(fed - 1 if p.fp else fed + 1), since.eq(1)]
                    with m.Elif(since < spacing):
                        m.d.sync += since.eq(since + 1)
                    with m.If((self.out_valid & self.out_last) if p.fp else rdy[p.rows - 1]):
                        m.d.sync += drained.eq(drained - 1 if p.fp else drained + 1)
                        with m.If((drained == 1) if p.fp else (drained + 1 == tiles)):
                            m.d.sync += self.ctrl.done.eq(1)
                            m.next = "IDLE"
        return m
