"""cocotb tests of the SparseWeightGen, run by accel.hw.blocks.weight_gen.cosim through cocotb_tools.

The job (``ACCEL_GEN_JOB``) holds the generator parameters, each weight matrix's input
blocks and the expected output beats (``nm_compress`` = prune.py's rule on the same FP16
weights).  Same shape as the PE-array bench: a stream driver for the blocks, a monitor
with random backpressure on the mask stream, a scoreboard comparing every field of
every beat.  One JSON line per (scenario, matrix) goes to ``ACCEL_GEN_RESULTS``.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from pe_array_tb import CLOCK_NS, StreamDriver, pulse_start

from accel.arch.sat.weight_gen import gen_cycles
from accel.hw import layouts
from accel.hw.blocks.weight_gen.gen import GenParams, block_beat, mask_beat

STALLS = {"unstalled": (1.0, 1.0), "random_stalls": (0.6, 0.5)}
FIELDS = ("fwd_val", "fwd_idx", "bwd_val", "bwd_idx")


def load():
    with np.load(os.environ["ACCEL_GEN_JOB"], allow_pickle=False) as z:
        g = GenParams(**json.loads(str(z["params"])))
        opts = json.loads(str(z["opts"]))
        runs = []
        for i, name in enumerate(z["names"]):
            runs.append((str(name), z[f"blocks{i}"],
                         {k: z[f"{k}{i}"] for k in FIELDS}))
    return g, opts, runs


class MaskMonitor:
    def __init__(self, dut, g, rng, p_ready):
        self.dut, self.rng, self.p_ready = dut, rng, p_ready
        self.layout = mask_beat(g)
        self.beats: list[dict] = []

    async def run(self):
        dut = self.dut
        while True:
            dut.mask__ready.value = int(self.rng.random() < self.p_ready)
            await FallingEdge(dut.clk)
            if int(dut.mask__valid.value) and int(dut.mask__ready.value):
                self.beats.append(layouts.unpack(self.layout, int(dut.mask__payload.value)))
            await RisingEdge(dut.clk)


def score(expected, beats) -> tuple[int, int]:
    n_beats = expected["fwd_val"].shape[0]
    checked = sum(expected[k].size for k in FIELDS)
    if len(beats) != n_beats:
        return checked, checked
    bad = 0
    for b, got in enumerate(beats):
        for k in FIELDS:
            bad += int(np.count_nonzero(got[k] != expected[k][b].ravel()))
    return checked, bad


class GenTB:
    def __init__(self, dut, g, seed):
        self.dut, self.g = dut, g
        self.rng = random.Random(seed)
        self.lb = block_beat(g)

    async def start(self):
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        self.dut.ctrl__start.value = 0
        self.dut.ctrl__beats.value = 0
        self.dut.block__valid.value = 0
        self.dut.mask__ready.value = 0
        await self.reset()

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(2):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def run(self, name, blocks, expected, scenario, p_valid=1.0, p_ready=1.0,
                  abort_after=None):
        dut, clk = self.dut, self.dut.clk
        beats = blocks.shape[0]
        words = [layouts.pack(self.lb, w=blocks[b]) for b in range(beats)]
        drv = StreamDriver(clk, "block", dut, self.rng, p_valid)
        mon = MaskMonitor(dut, self.g, self.rng, p_ready)
        tasks = [cocotb.start_soon(drv.send(words)), cocotb.start_soon(mon.run())]
        await pulse_start(dut, dut.ctrl__beats, beats)
        model = gen_cycles(beats)
        wall = 0
        while True:
            await FallingEdge(clk)
            wall += 1
            if int(dut.ctrl__done.value):
                break
            if abort_after is not None and wall >= abort_after:
                for t in tasks:
                    t.cancel()
                drv.idle()
                await RisingEdge(clk)
                await self.reset()
                return None
            assert wall < 64 + 20 * model, f"{name}: no done after {wall} cycles"
            await RisingEdge(clk)
        rtl = int(dut.ctrl__cycles.value)
        for t in tasks:
            t.cancel()
        dut.mask__ready.value = 0
        await RisingEdge(clk)
        checked, bad = score(expected, mon.beats)
        return {"name": name, "scenario": scenario, "beats": beats, "model_cycles": model,
                "rtl_cycles": rtl, "wall_cycles": wall, "outputs_checked": checked,
                "output_mismatches": bad, "beats_received": len(mon.beats)}


def _record(o):
    with open(os.environ["ACCEL_GEN_RESULTS"], "a") as fh:
        fh.write(json.dumps(o) + "\n")


def _check(o, exact_wall):
    assert o["output_mismatches"] == 0, f"{o['name']}: {o['output_mismatches']} fields differ"
    assert o["rtl_cycles"] == o["model_cycles"], \
        f"{o['name']}: rtl {o['rtl_cycles']} != model {o['model_cycles']}"
    if exact_wall:
        assert o["wall_cycles"] == o["model_cycles"], o


@cocotb.test()
@cocotb.parametrize(scenario=list(STALLS))
async def matrices(dut, scenario: str) -> None:
    g, opts, runs = load()
    if scenario not in opts["scenarios"]:
        return
    tb = GenTB(dut, g, opts["seed"])
    await tb.start()
    failures = []
    for name, blocks, exp in runs:
        o = await tb.run(name, blocks, exp, scenario, *STALLS[scenario])
        _record(o)
        try:
            _check(o, scenario == "unstalled")
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "; ".join(failures[:5])


@cocotb.test()
async def reset_mid_run(dut) -> None:
    """Reset in the middle of a stalled run, then a clean run must be exact."""
    g, opts, runs = load()
    if "reset" not in opts["scenarios"]:
        return
    tb = GenTB(dut, g, opts["seed"] + 1)
    await tb.start()
    name, blocks, exp = runs[0]
    aborted = await tb.run(name, blocks, exp, "reset_abort", 0.6, 0.5,
                           abort_after=max(2, blocks.shape[0] // 2))
    assert aborted is None
    assert int(dut.ctrl__busy.value) == 0 and int(dut.ctrl__cycles.value) == 0
    o = await tb.run(name, blocks, exp, "after_reset")
    o["name"] = "after_reset"
    _record(o)
    _check(o, True)
