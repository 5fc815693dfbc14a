"""The issue's headline acceptance (llama2-7b, u280, [128, 512]) as a regression test."""

from accel.arch.flightllm.config import PRESETS
from accel.arch.flightllm.model import simulate
from accel.workloads.llm import llm_workload


def test_headline_decode_and_hbm_utilisation():
    w = llm_workload("llama2-7b", 128, 512)
    on = simulate(w, PRESETS["u280"], storage=False, compute_outputs=False)
    off = simulate(w, PRESETS["u280"], on_chip_decode=False, storage=False,
                   compute_outputs=False)
    assert 0.8 * 55 <= on.decode_tokens_per_s <= 1.2 * 55      # paper: about 55 tok/s
    assert abs(on.hbm_utilization - 0.659) < 0.05                # paper: 65.9 %
    assert off.hbm_utilization < on.hbm_utilization - 0.03       # paper: 35.6 % off-chip
    assert off.decode_tokens_per_s < on.decode_tokens_per_s
