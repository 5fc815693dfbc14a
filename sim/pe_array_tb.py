"""cocotb 2.x testbench of the SparsePEArray: drivers -> DUT -> monitor -> scoreboard.

Timing discipline: drivers change inputs just after a rising edge; every observer reads
at the falling edge, when inputs and the DUT's combinational outputs (``ready``) are
stable, i.e. exactly what the next rising edge samples.  A beat transfers at a rising
edge iff ``valid & ready`` was seen at the falling edge before it.

Payloads are packed with ``accel.arch.sat.pe_array.pack_tile`` (the same packer the SAT
model times with ``tile_beats``) and ``accel.hw.layouts.pack`` (the same layouts the RTL
ports are built from).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from accel.arch.sat.pe_array import pack_tile, tile_beats, tile_cycles, tiles_cycles
from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.cosim import Tile
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.layouts import pack, unpack

CLOCK_NS = 10


@dataclass
class TileOutcome:
    name: str
    scenario: str
    beats: int
    model_cycles: int
    rtl_cycles: int
    wall_cycles: int
    outputs_checked: int
    output_mismatches: int
    row_order_ok: bool
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def pulse_start(dut, count, value: int) -> None:
    """Set the count register ``count`` (``ctrl__beats`` / ``ctrl__tiles``) to ``value``
    and hold ``start`` for one rising edge; the DUT must be idle when it is sampled."""
    count.value = value
    dut.ctrl__start.value = 1
    await FallingEdge(dut.clk)
    assert int(dut.ctrl__busy.value) == 0, "start issued while busy"
    await RisingEdge(dut.clk)
    dut.ctrl__start.value = 0


class StreamDriver:
    """Source of one valid/ready stream; ``p_valid`` < 1 inserts random idle cycles."""

    def __init__(self, clk, bus_prefix, dut, rng: random.Random, p_valid: float):
        self.clk = clk
        self.valid = getattr(dut, f"{bus_prefix}__valid")
        self.ready = getattr(dut, f"{bus_prefix}__ready")
        self.payload = getattr(dut, f"{bus_prefix}__payload")
        self.rng, self.p_valid = rng, p_valid
        self.sent = 0

    def idle(self):
        self.valid.value = 0

    async def send(self, words: list[int]) -> None:
        holding = False
        i = 0
        while i < len(words):
            if not holding and self.rng.random() < self.p_valid:
                self.payload.value = words[i]
                self.valid.value = 1
                holding = True          # once valid, hold until the transfer (stream rule)
            await FallingEdge(self.clk)
            fire = holding and int(self.ready.value) == 1
            await RisingEdge(self.clk)
            if fire:
                i += 1
                self.sent += 1
                holding = False
                self.valid.value = 0


class ResultMonitor:
    """Sink of the result stream with random backpressure; records every accepted beat."""

    def __init__(self, clk, dut, p: ArrayParams, rng: random.Random, p_ready: float):
        self.clk, self.dut, self.p = clk, dut, p
        self.layout = layouts.result_beat(p)
        self.rng, self.p_ready = rng, p_ready
        self.beats: list[tuple[int, np.ndarray]] = []

    async def run(self) -> None:
        dut = self.dut
        while True:
            dut.result__ready.value = int(self.rng.random() < self.p_ready)
            await FallingEdge(self.clk)
            if int(dut.result__valid.value) and int(dut.result__ready.value):
                fields = unpack(self.layout, int(dut.result__payload.value))
                self.beats.append((int(fields["row"][0]), fields["acc"]))
            await RisingEdge(self.clk)


class Scoreboard:
    """Compares result rows with the NumPy reference of the quantised, pruned operands."""

    def check(self, expected: np.ndarray, beats: list[tuple[int, np.ndarray]]):
        rows = [r for r, _ in beats]
        order_ok = rows == list(range(expected.shape[0]))
        got = np.zeros_like(expected)
        for r, acc in beats:
            if 0 <= r < expected.shape[0]:
                got[r] = acc
        mismatches = int(np.count_nonzero(got != expected)) if order_ok else expected.size
        return expected.size, mismatches, order_ok


class PEArrayTB:
    """Owns the clock, reset, drivers, monitor and scoreboard for one DUT."""

    def __init__(self, dut, p: ArrayParams, seed: int = 1):
        self.dut, self.p = dut, p
        self.rng = random.Random(seed)
        self.act_layout = layouts.act_beat(p)
        self.w_layout = layouts.weight_beat(p)
        self.scoreboard = Scoreboard()
        self.cycle = 0

    async def start(self) -> None:
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        self.dut.ctrl__start.value = 0
        if self.p.pipelined:
            self.dut.ctrl__tiles.value = 0
        else:
            self.dut.ctrl__beats.value = 0
        self.dut.act__valid.value = 0
        self.dut.weight__valid.value = 0
        self.dut.result__ready.value = 0
        await self.reset()

    async def reset(self, cycles: int = 2) -> None:
        self.dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    def pack(self, tile: Tile):
        p = self.p
        act, wv, wi = pack_tile(tile.a_q, tile.w_vals, tile.w_idx, p.n, p.m, dense=tile.dense)
        beats = tile_beats(tile.a_q.shape[1], p.n, p.m, tile.dense)
        assert act.shape[0] == beats, (act.shape, beats)
        # pipelined arrays: the tile's last beat carries the `last` flag
        extra = (lambda b: {"last": int(b == beats - 1)}) if p.pipelined else (lambda b: {})
        a_words = [pack(self.act_layout, win=act[b], **extra(b)) for b in range(beats)]
        w_words = [pack(self.w_layout, val=wv[b], idx=wi[b]) for b in range(beats)]
        return beats, a_words, w_words

    async def _await_done(self, tasks, acts, wts, abort_after, limit, label):
        """Count wall cycles from start until ``done``; with ``abort_after``, stop the
        drivers mid-tile after that many cycles, reset the DUT and return None."""
        clk, dut = self.dut.clk, self.dut
        wall = 0
        while True:
            await FallingEdge(clk)
            wall += 1
            if int(dut.ctrl__done.value):
                return wall
            if abort_after is not None and wall >= abort_after:
                for t in tasks:
                    t.cancel()
                acts.idle()
                wts.idle()
                await RisingEdge(clk)
                await self.reset()
                return None
            assert wall < limit, f"{label}: no done after {wall} cycles"
            await RisingEdge(clk)

    async def _stop(self, tasks):
        """Stop drivers and monitor after ``done``; hold the result stream."""
        for t in tasks:
            t.cancel()
        self.dut.result__ready.value = 0
        await RisingEdge(self.dut.clk)

    async def run_tile(self, tile: Tile, scenario: str, p_valid: float = 1.0,
                       p_ready: float = 1.0, abort_after: int | None = None):
        """Run one tile; with ``abort_after`` reset the DUT that many cycles after start
        and return None (the tile is abandoned, as a host reset would)."""
        import cocotb

        dut, clk = self.dut, self.dut.clk
        beats, a_words, w_words = self.pack(tile)
        acts = StreamDriver(clk, "act", dut, self.rng, p_valid)
        wts = StreamDriver(clk, "weight", dut, self.rng, p_valid)
        mon = ResultMonitor(clk, dut, self.p, self.rng, p_ready)
        tasks = [cocotb.start_soon(acts.send(a_words)), cocotb.start_soon(wts.send(w_words)),
                 cocotb.start_soon(mon.run())]
        await pulse_start(dut, dut.ctrl__beats, beats)
        wall = await self._await_done(tasks, acts, wts, abort_after,
                                      64 + 20 * tile_cycles(self.p.rows, self.p.cols, beats,
                                                            self.p.dtype),
                                      f"tile {tile.name}")
        if wall is None:
            return None
        rtl_cycles = int(dut.ctrl__cycles.value)
        await self._stop(tasks)
        checked, mism, order_ok = self.scoreboard.check(tile.expected, mon.beats)
        return TileOutcome(tile.name, scenario, beats,
                           tile_cycles(self.p.rows, self.p.cols, beats, self.p.dtype),
                           rtl_cycles, wall,
                           checked, mism, order_ok,
                           {"act_sent": acts.sent, "weight_sent": wts.sent})


    async def run_pipelined(self, name: str, tiles: list[Tile], scenario: str,
                            p_valid: float = 1.0, p_ready: float = 1.0,
                            abort_after: int | None = None):
        """One pipelined run: all tiles back to back after a single ``start``.

        The outcome covers the whole run: ``beats`` is the total, ``model_cycles`` is
        ``tiles_cycles(R, C, beats per tile, pipelined=True)``, outputs are checked row by
        row in drain order (tile 0 rows 0..R-1, tile 1 rows 0..R-1, ...).  With
        ``abort_after`` the DUT is reset that many cycles after start (returns None)."""
        import cocotb

        dut, clk, p = self.dut, self.dut.clk, self.p
        a_words, w_words, beats = [], [], []
        for tile in tiles:
            b, aw, ww = self.pack(tile)
            beats.append(b)
            a_words += aw
            w_words += ww
        model = tiles_cycles(p.rows, p.cols, beats, pipelined=True, dtype=p.dtype)
        acts = StreamDriver(clk, "act", dut, self.rng, p_valid)
        wts = StreamDriver(clk, "weight", dut, self.rng, p_valid)
        mon = ResultMonitor(clk, dut, p, self.rng, p_ready)
        tasks = [cocotb.start_soon(acts.send(a_words)), cocotb.start_soon(wts.send(w_words)),
                 cocotb.start_soon(mon.run())]
        await pulse_start(dut, dut.ctrl__tiles, len(tiles))
        wall = await self._await_done(tasks, acts, wts, abort_after, 64 + 20 * model,
                                      f"run {name}")
        if wall is None:
            return None
        rtl_cycles = int(dut.ctrl__cycles.value)
        await self._stop(tasks)
        expected = np.concatenate([t.expected for t in tiles], axis=0)
        got_rows = [(i // p.rows * p.rows + r, acc) for i, (r, acc) in enumerate(mon.beats)]
        order_ok = [r for r, _ in mon.beats] == list(range(p.rows)) * len(tiles)
        checked, mism, _ = self.scoreboard.check(expected, got_rows)
        if not order_ok:
            mism = expected.size
        return TileOutcome(name, scenario, sum(beats), model, rtl_cycles, wall, checked, mism,
                           order_ok, {"tiles": [t.name for t in tiles], "beats_per_tile": beats,
                                      "act_sent": acts.sent, "weight_sent": wts.sent})
