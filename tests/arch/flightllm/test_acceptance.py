"""The issue's headline case (llama2-7b, u280, [128, 512]) as a regression test.

Model 0.4 moved the U280 figure away from the paper's ~55 tok/s on evidence from the
authors' artifact (dense ops carry no sparse index; MV instructions padded to 512
columns); model 0.5 dropped the 0.8 SLR efficiency copied from the artifact's correction
factor and models the SLRs' split instead (whole MV instructions / heads per SLR, every
SLR loading an op's whole input): decode is MV-bound at about 82 tok/s for the dense
3.5-bit model.  This test pins that figure and the mechanisms that set it.
"""

import dataclasses

from accel.arch.flightllm.config import PRESETS
from accel.arch.flightllm.model import simulate
from accel.arch.flightllm.study import PAPER
from accel.workloads.llm import llm_workload


def test_headline_decode_and_hbm_utilisation():
    w = llm_workload("llama2-7b", 128, 512)
    u280 = PRESETS["u280"]
    on = simulate(w, u280, storage=False, compute_outputs=False)
    off = simulate(w, u280, on_chip_decode=False, storage=False, compute_outputs=False)
    tok_s = PAPER["u280 llama2-7b decode tok/s"]
    # the paper's +-20 % is missed upward, by the MV bound of the index-free dense weights
    assert 1.4 * tok_s < on.decode_tokens_per_s < 1.6 * tok_s
    mv_bound = 1e3 / on.decode_ms_per_token / on.unit_busy["MV"]   # tok/s at 100 % MV busy
    assert on.unit_busy["MV"] > 0.9 and mv_bound < 1.7 * tok_s
    # a perfectly even split over the 3 SLRs would be faster (measured +4.9 %): 8 MV
    # instructions of o_proj / down_proj over 3 SLRs leave the busiest with 3 (+12.5 %),
    # the fused q/k/v (24 instructions) splits evenly, gate+up (43) gives 15 vs 14.3
    ideal = simulate(w, dataclasses.replace(u280, slr_whole_instr_split=False,
                                            slr_broadcast_inputs=False),
                     storage=False, compute_outputs=False)
    assert 1.03 * on.decode_tokens_per_s < ideal.decode_tokens_per_s < 1.15 * on.decode_tokens_per_s
    assert off.hbm_utilization < on.hbm_utilization - 0.03       # paper: 35.6 % off-chip
    assert off.decode_tokens_per_s < on.decode_tokens_per_s
