"""Compile the FlightLLM model's kernels ahead of a first run (``accel cache warm``, run
by ``make install``): a 16-token prefill and decode of LLaMA2-7B's shape in both decode
dataflows, which compiles every kernel a longer run uses (Numba compiles per type
signature, never per length).  Instruction storage is left out: it is counted, and kept,
per configuration on first use."""

from __future__ import annotations

WARM_TOKENS = 16


def warm() -> None:
    from accel.arch.flightllm.config import PRESETS
    from accel.arch.flightllm.model import simulate
    from accel.workloads.llm import llm_workload

    wl = llm_workload("llama2-7b", WARM_TOKENS, WARM_TOKENS)
    for on_chip in (True, False):
        simulate(wl, PRESETS["u280"], on_chip_decode=on_chip, storage=False)
