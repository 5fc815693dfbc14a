"""cocotb 2.x testbench of the sparse DSP chain: driver -> DUT -> monitor -> scoreboard.

Timing discipline (as sim/pe_array_tb.py): drivers change inputs just after a rising
edge; observers read at the falling edge, when inputs and the DUT's combinational
``ready`` are stable, i.e. exactly what the next rising edge samples.

Payloads come packed from the host (``accel.hw.blocks.dsp_chain.ops``, built with the
same ``layouts`` the RTL ports are built from); results are unpacked with
``layouts.unpack_result``.  The scoreboard is fed by the reference results of the op
(NumPy = the model's ``chain_matmul``, checked equal on the host).

Cycles: ``wall`` counts every cycle from the first beat's transfer to the last
result's, inclusive; ``rtl`` counts only the cycles in which the chain advanced and was
fed (``beat.ready`` high, and ``beat.valid`` high unless every beat was already sent),
i.e. the wall minus the cycles the bench's random stalls cost.  The model's
``op_cycles`` must equal ``rtl`` always, and ``wall`` when nothing stalls.
"""

from __future__ import annotations

import random

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from pe_array_tb import CLOCK_NS, PEArrayTB, StreamDriver

from accel.hw.blocks.dsp_chain import layouts


def outcome(name: str, scenario: str, beats: int, model_cycles: int, rtl_cycles: int,
            wall_cycles: int, checked: int, mismatches: int, **extra) -> dict:
    """One op run as the shared ``CosimReport`` reads it (plus the op's beats)."""
    return {"name": name, "scenario": scenario, "beats": beats, "model_cycles": model_cycles,
            "rtl_cycles": rtl_cycles, "wall_cycles": wall_cycles, "outputs_checked": checked,
            "output_mismatches": mismatches, **extra}


class ResultMonitor:
    """Sink of the result stream with random backpressure; records accepted results."""

    def __init__(self, dut, p, rng: random.Random, p_ready: float):
        self.dut, self.p, self.rng, self.p_ready = dut, p, rng, p_ready
        self.results: list[tuple[int, int]] = []

    async def run(self) -> None:
        dut = self.dut
        while True:
            dut.result__ready.value = int(self.rng.random() < self.p_ready)
            await FallingEdge(dut.clk)
            if int(dut.result__valid.value) and int(dut.result__ready.value):
                self.results.append(layouts.unpack_result(self.p, int(dut.result__payload.value)))
            await RisingEdge(dut.clk)


class Cycles:
    """Cycle counter read at falling edges: wall cycles since the first beat transfer and
    the cycles in which the chain advanced while fed (see the module doc)."""

    def __init__(self, dut, driver: StreamDriver, beats: int):
        self.dut, self.driver, self.beats = dut, driver, beats
        self.now = 0
        self.first = None
        self.fed = 0          # fed & advancing cycles so far (from the first transfer)
        self.last_out = -1    # cycle of the latest result transfer, and ``fed`` then
        self.fed_last_out = 0

    async def run(self) -> None:
        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            ready = int(dut.beat__ready.value)
            valid = int(dut.beat__valid.value)
            if self.first is None and ready and valid:
                self.first = self.now
            if self.first is not None and ready and (valid or self.driver.sent >= self.beats):
                self.fed += 1
            if int(dut.result__valid.value) and int(dut.result__ready.value):
                self.last_out, self.fed_last_out = self.now, self.fed
            self.now += 1
            await RisingEdge(dut.clk)


class Scoreboard:
    """Compares the monitored (y0, y1) results with the reference, in order."""

    def check(self, expected: np.ndarray, results: list[tuple[int, int]]) -> tuple[int, int]:
        got = np.array(results, dtype=np.int64).reshape(-1, 2)
        if got.shape != expected.shape:
            return expected.size, expected.size
        return expected.size, int(np.count_nonzero(got != expected))


class DSPChainTB:
    """Owns clock, reset, driver, monitor, cycle counter and scoreboard of one DUT."""

    def __init__(self, dut, p, seed: int = 1):
        self.dut, self.p = dut, p
        self.rng = random.Random(seed)
        self.scoreboard = Scoreboard()

    async def start(self) -> None:
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        self.dut.beat__valid.value = 0
        self.dut.result__ready.value = 0
        await self.reset()

    # the benches' one reset sequence (rst high for ``cycles`` rising edges, then one
    # more edge); it only touches ``self.dut``
    reset = PEArrayTB.reset

    async def run_op(self, op: dict, scenario: str, p_valid: float = 1.0, p_ready: float = 1.0,
                     abort_after: int | None = None):
        """Run one op (``name``, ``words``, ``expected``, ``model_cycles``); with
        ``abort_after`` reset the DUT after that many beats were sent and return None."""
        import cocotb

        dut = self.dut
        await RisingEdge(dut.clk)    # drivers start just after a rising edge (see above)
        drv = StreamDriver(dut.clk, "beat", dut, self.rng, p_valid)
        cyc = Cycles(dut, drv, len(op["words"]))
        mon = ResultMonitor(dut, self.p, self.rng, p_ready)
        tasks = [cocotb.start_soon(cyc.run()), cocotb.start_soon(mon.run()),
                 cocotb.start_soon(drv.send(op["words"]))]
        expected = op["expected"]
        limit = 64 + 20 * op["model_cycles"]
        while len(mon.results) < len(expected):
            await RisingEdge(dut.clk)
            if abort_after is not None and drv.sent >= abort_after:
                for t in tasks:
                    t.cancel()
                drv.idle()
                dut.result__ready.value = 0
                await self.reset()
                return None
            assert cyc.now < limit, f"{op['name']}: {len(mon.results)} of {len(expected)} " \
                                    f"results after {cyc.now} cycles"
        for t in tasks:
            t.cancel()
        dut.result__ready.value = 0
        drv.idle()
        for _ in range(3):                       # nothing more may come out
            await FallingEdge(dut.clk)
            assert not int(dut.result__valid.value), f"{op['name']}: extra result"
        checked, mism = self.scoreboard.check(expected, mon.results)
        wall = cyc.last_out - cyc.first + 1
        rtl = cyc.fed_last_out
        extra = {} if not mism else {"got": [list(r) for r in mon.results][:8],
                                     "expected": expected[:8].tolist()}
        return outcome(op["name"], scenario, len(op["words"]), op["model_cycles"], rtl, wall,
                       checked, mism, **extra)
