"""Resources of the design around the RTL blocks (accel.hw.design_resources): SAT's buffers
in URAM/BRAM36 by capacity and by the operand width of one beat, FlightLLM's chains x
cores and buffers.  Hand-computed from the documented mapping, not from the code."""

import dataclasses
import math

import pytest

from accel.arch.flightllm.config import PRESETS as FL
from accel.arch.sat.config import PRESETS as SAT
from accel.hw import design_resources as D


def test_sat_preset_buffers_by_hand():
    c = SAT["sat-vcu1525"]
    # activations: 32 rows x M=8 x 16 bit = 4096 bit/beat -> 57 URAM (72-bit ports) > 512 KB / 36 KB
    # weights: 32 cols x N=2 x (16 + 3) bit = 1216 -> 17 URAM > 15 for 512 KB
    # results: 32 x FP32 = 1024 bit -> 15 BRAM36; 256 KB / 4.5 KB -> 57 BRAM36
    assert (c.pe_rows, c.pe_cols, c.group_m, c.mults_per_pe) == (32, 32, 8, 2)
    assert D.sat_buffer_metrics(c, None, {}) == {"hw_buffer_uram": 57.0 + 17.0,
                                                 "hw_buffer_bram36": 57.0}


@pytest.mark.parametrize("kb", [64, 512, 2048, 8192])
def test_sat_buffers_grow_with_capacity_and_width(kb):
    c = dataclasses.replace(SAT["sat-vcu1525"], act_buffer_kb=kb, weight_buffer_kb=kb)
    u = D.sat_buffer_metrics(c, None, {})["hw_buffer_uram"]
    assert u == max(math.ceil(kb * 8 / 288), 57) + max(math.ceil(kb * 8 / 288), 17)
    wide = dataclasses.replace(c, pe_rows=64)
    assert D.sat_buffer_metrics(wide, None, {})["hw_buffer_uram"] >= u


def test_flightllm_engine_is_chains_times_cores():
    from accel.hw.blocks.dsp_chain import resources

    for cfg in FL.values():
        m = D.flightllm_metrics(cfg, None, {})
        chains = resources.chains_per_core(cfg)["chains"] * cfg.cores
        # every DSP of a chain is one DSP48E2 (the Yosys builds the model is fitted on)
        assert m["hw_chains_dsp48e2"] == pytest.approx(chains * cfg.chain_dsps, abs=1)
        kb = cfg.weight_buffer_kb + cfg.act_buffer_kb + cfg.kv_buffer_kb + cfg.global_buffer_kb
        assert m["hw_buffer_uram"] == cfg.cores * math.ceil(kb * 8 / 288)
