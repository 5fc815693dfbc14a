"""The utilisation-sensitivity study: each HBM field moves utilisation the way it must."""

from accel.arch.flightllm.config import PRESETS
from accel.arch.flightllm.model import simulate
from accel.arch.flightllm.study import utilisation_sensitivity
from accel.workloads.llm import llm_workload


def test_sensitivity_rows_move_the_right_way():
    rows = {r["variant"].split(" (")[0]: r for r in utilisation_sensitivity(128, 16)}
    preset = rows["preset"]
    ref = simulate(llm_workload("llama2-7b", 128, 16), PRESETS["u280"], storage=False,
                   compute_outputs=False)
    assert preset["on_chip_hbm_util"] == ref.hbm_utilization
    # lower streaming efficiency lowers both modes; longer latency hurts off-chip first
    assert (rows["Shuhai long-stream efficiency 0.92"]["on_chip_hbm_util"]
            > rows["hbm_efficiency 0.80"]["on_chip_hbm_util"] > preset["on_chip_hbm_util"])
    lat = [rows[k]["off_chip_hbm_util"] for k in ("preset", "hbm_latency_ns 1,000",
                                                 "hbm_latency_ns 5,000", "hbm_latency_ns 20,000")]
    assert lat == sorted(lat, reverse=True) and lat[0] > lat[-1]
    for r in rows.values():
        assert r["off_chip_tok_s"] < r["on_chip_tok_s"]
