"""cocotb tests of the *pipelined* SparsePEArray: runs of tiles back to back.

Run by accel.hw.blocks.pe_array.cosim (``run_tiles`` on ``ArrayParams(pipelined=True)``).  The job holds
the tiles and ``opts["runs"]``: lists of tile indices, each run fed after one ``start``.
Every outcome (one per run) is appended as a JSON line to ``ACCEL_TILE_RESULTS``; each
test also asserts, so the cocotb results file fails on any mismatch.
"""

from __future__ import annotations

import os

import cocotb
from cocotb_pe_array import STALLS, _check, _record, check_outcomes, start_job
from pe_array_tb import PEArrayTB

from accel.hw.blocks.pe_array.cosim import load_job


def _runs(tiles, opts):
    return [(f"run{i}", [tiles[j] for j in idx]) for i, idx in enumerate(opts["runs"])]


@cocotb.test()
@cocotb.parametrize(scenario=list(STALLS))
async def runs(dut, scenario: str) -> None:
    """Every run, unstalled (wall == counter == model) or with random stalls."""
    job = await start_job(dut, scenario)
    if job is None:
        return
    tb, tiles, opts, (p_valid, p_ready) = job

    async def outcomes():
        for name, run in _runs(tiles, opts):
            yield await tb.run_pipelined(name, run, scenario, p_valid, p_ready)

    await check_outcomes(outcomes(), scenario)


@cocotb.test()
async def reset_mid_run(dut) -> None:
    """Reset in the middle of a stalled run (tiles in flight in the shadows and the
    array), then a clean run must be exact."""
    params, tiles, opts = load_job(os.environ["ACCEL_TILE_JOB"])
    if "reset" not in opts["scenarios"]:
        return
    tb = PEArrayTB(dut, params, seed=opts["seed"] + 1)
    await tb.start()
    (_, first), *rest = _runs(tiles, opts)
    beats = sum(-(-t.a_q.shape[1] // params.m) for t in first)
    aborted = await tb.run_pipelined("aborted", first, "reset_abort", 0.6, 0.5,
                                     abort_after=max(2, beats // 2))
    assert aborted is None
    assert int(dut.ctrl__busy.value) == 0 and int(dut.ctrl__cycles.value) == 0
    clean = rest[0][1] if rest else first
    outcome = await tb.run_pipelined("after_reset", clean, "after_reset")
    _record(outcome)
    _check(outcome, exact_wall=True)
