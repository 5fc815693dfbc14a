"""cocotb tests of the SparsePEArray, run by accel.hw.blocks.pe_array.cosim through
cocotb_tools.runner.

The tile job (``ACCEL_TILE_JOB``, an .npz written by accel.hw.blocks.pe_array.cosim) holds
the array parameters and the tiles; every outcome is appended as one JSON line to
``ACCEL_TILE_RESULTS`` so pytest/the CLI can report rtl vs model cycles per tile.
Each test also asserts, so the cocotb results file fails on any mismatch.
"""

from __future__ import annotations

import json
import os

import cocotb
from pe_array_tb import PEArrayTB

from accel.hw.blocks.pe_array.cosim import load_job

# stall probabilities: 1.0 = unstalled; 0.6 valid / 0.5 ready = roughly half the cycles
# stall on every stream, enough to hit valid-without-ready and ready-without-valid often
STALLS = {"unstalled": (1.0, 1.0), "random_stalls": (0.6, 0.5)}


def _record(outcome) -> None:
    with open(os.environ["ACCEL_TILE_RESULTS"], "a") as fh:
        fh.write(json.dumps(outcome.to_dict()) + "\n")


def _check(outcome, exact_wall: bool) -> None:
    assert outcome.row_order_ok, f"{outcome.name}: result rows out of order"
    assert outcome.output_mismatches == 0, \
        f"{outcome.name}: {outcome.output_mismatches} outputs differ from NumPy"
    assert outcome.rtl_cycles == outcome.model_cycles, \
        f"{outcome.name}: rtl {outcome.rtl_cycles} != model {outcome.model_cycles} cycles"
    if exact_wall:
        assert outcome.wall_cycles == outcome.model_cycles, \
            f"{outcome.name}: wall {outcome.wall_cycles} != model {outcome.model_cycles}"


async def start_job(dut, scenario: str):
    """Load the job and start a TB for ``scenario``; None when the job skips it."""
    params, tiles_, opts = load_job(os.environ["ACCEL_TILE_JOB"])
    if scenario not in opts["scenarios"]:
        return None
    tb = PEArrayTB(dut, params, seed=opts["seed"])
    await tb.start()
    return tb, tiles_, opts, STALLS[scenario]


async def check_outcomes(outcomes, scenario: str) -> None:
    """Record every outcome, then fail once listing the first mismatches (so one bad
    tile does not hide the others)."""
    failures = []
    async for outcome in outcomes:
        _record(outcome)
        try:
            _check(outcome, exact_wall=(scenario == "unstalled"))
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "; ".join(failures[:5])


@cocotb.test()
@cocotb.parametrize(scenario=list(STALLS))
async def tiles(dut, scenario: str) -> None:
    """Every tile of the job, unstalled (wall == counter == model) or with random stalls."""
    job = await start_job(dut, scenario)
    if job is None:
        return
    tb, tiles_, opts, (p_valid, p_ready) = job

    async def outcomes():
        for tile in tiles_:
            if scenario == "random_stalls" and tile.name in opts["unstalled_only"]:
                continue
            yield await tb.run_tile(tile, scenario, p_valid, p_ready)

    await check_outcomes(outcomes(), scenario)


@cocotb.test()
async def reset_mid_tile(dut) -> None:
    """Reset in the middle of a (stalled) tile, then a clean tile must be exact."""
    params, tiles_, opts = load_job(os.environ["ACCEL_TILE_JOB"])
    if "reset" not in opts["scenarios"]:
        return
    tb = PEArrayTB(dut, params, seed=opts["seed"] + 1)
    await tb.start()
    first, clean = tiles_[0], tiles_[min(1, len(tiles_) - 1)]
    half = max(2, (first.a_q.shape[1] // params.m) // 2)
    aborted = await tb.run_tile(first, "reset_abort", 0.6, 0.5, abort_after=half)
    assert aborted is None
    assert int(dut.ctrl__busy.value) == 0 and int(dut.ctrl__cycles.value) == 0
    outcome = await tb.run_tile(clean, "after_reset")
    _record(outcome)
    _check(outcome, exact_wall=True)
