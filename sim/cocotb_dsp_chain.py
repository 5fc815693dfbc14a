"""cocotb tests of the sparse DSP chain, run by accel.hw.blocks.dsp_chain.cosim.

The job (``ACCEL_DSP_CHAIN_JOB``, an .npz written by the host) holds the chain
parameters and the ops; every outcome is appended as one JSON line to
``ACCEL_DSP_CHAIN_RESULTS``.  Each test also asserts, so cocotb's results fail too.
"""

from __future__ import annotations

import json
import os

import cocotb
from dsp_chain_tb import DSPChainTB

from accel.hw.blocks.dsp_chain.cosim import load_job

# stall probabilities: 1.0 = unstalled; 0.6 valid / 0.5 ready stall about half the
# cycles on each stream (valid-without-ready and ready-without-valid both frequent)
STALLS = {"unstalled": (1.0, 1.0), "random_stalls": (0.6, 0.5)}


def _record(outcome) -> None:
    with open(os.environ["ACCEL_DSP_CHAIN_RESULTS"], "a") as fh:
        fh.write(json.dumps(outcome) + "\n")


def _check(o, exact_wall: bool) -> list[str]:
    errs = []
    if o["output_mismatches"]:
        errs.append(f"{o['name']}: {o['output_mismatches']} outputs differ from the reference")
    if o["rtl_cycles"] != o["model_cycles"]:
        errs.append(f"{o['name']}: rtl {o['rtl_cycles']} != model {o['model_cycles']} cycles")
    if exact_wall and o["wall_cycles"] != o["model_cycles"]:
        errs.append(f"{o['name']}: wall {o['wall_cycles']} != model {o['model_cycles']} cycles")
    return errs


@cocotb.test()
@cocotb.parametrize(scenario=list(STALLS))
async def ops(dut, scenario: str) -> None:
    """Every op of the job, unstalled (wall == fed == model) or with random stalls."""
    params, ops_, opts = load_job(os.environ["ACCEL_DSP_CHAIN_JOB"])
    if scenario not in opts["scenarios"]:
        return
    tb = DSPChainTB(dut, params, seed=opts["seed"] + len(scenario))
    await tb.start()
    p_valid, p_ready = STALLS[scenario]
    failures = []
    for op in ops_:
        if scenario != "unstalled" and op["name"] not in opts["stalled_ops"]:
            continue
        o = await tb.run_op(op, scenario, p_valid, p_ready)
        _record(o)
        failures += _check(o, exact_wall=scenario == "unstalled")
    assert not failures, "; ".join(failures[:5])


@cocotb.test()
async def reset_mid_op(dut) -> None:
    """Reset halfway through a stalled op, then a clean op must be exact."""
    params, ops_, opts = load_job(os.environ["ACCEL_DSP_CHAIN_JOB"])
    if "reset" not in opts["scenarios"]:
        return
    tb = DSPChainTB(dut, params, seed=opts["seed"] + 1)
    await tb.start()
    first, clean = ops_[0], ops_[min(1, len(ops_) - 1)]
    aborted = await tb.run_op(first, "reset_abort", 0.6, 0.5,
                              abort_after=max(1, len(first["words"]) // 2))
    assert aborted is None
    o = await tb.run_op(clean, "after_reset")
    _record(o)
    errs = _check(o, exact_wall=True)
    assert not errs, "; ".join(errs)
