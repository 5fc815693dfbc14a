"""The sparse DSP chain in Verilator through cocotb (marker rtl): tiny-llama MV ops
at 2:16 and a mixed N:16 pattern, a LLaMA2-7B q_proj slice (0.7-dense) and dense MM,
unstalled, with random stalls and a reset mid-op; 0 value and 0 cycle mismatches
against the model (NumPy = chain_matmul values, op_cycles timing)."""

from __future__ import annotations

import pytest

from accel.arch.flightllm import dsp_chain as contract
from accel.hw.blocks.dsp_chain import cosim
from accel.hw.blocks.dsp_chain.params import ChainParams

pytestmark = pytest.mark.rtl


def test_dsp_chain_cosim_tiny_llama_llama2_mm(tiny_llm_config):
    from accel.workloads.llm import shape_from_hf_config

    p = ChainParams(16, 2)
    ops = cosim.build_ops(p, ("tiny", "llama", "mm"), ("2", "mixed"), cols=1,
                          shape=shape_from_hf_config(tiny_llm_config))
    rep = cosim.run(p, ops, stalled_every=5)
    assert rep["cocotb_failed"] == 0, rep["log"]
    assert rep["value_mismatches"] == 0 and rep["cycle_mismatches"] == 0 and rep["ok"]
    runs = {(o["scenario"], o["name"]): o for o in rep["per_op"]}
    for op in ops:
        o = runs[("unstalled", op.name)]
        assert o["wall_cycles"] == o["rtl_cycles"] == op.model_cycles
        assert o["model_cycles"] > contract.chain_fill_cycles(16, 2)
        assert o["outputs_checked"] == 2 * op.cols * -(-op.rows // 2)
    assert sum(s == "random_stalls" for s, _ in runs) >= 4
    assert ("after_reset", ops[1].name) in runs
    assert runs[("unstalled", "llama2-7b.q_proj@0.7")]["beats"] == 4096 // 16

