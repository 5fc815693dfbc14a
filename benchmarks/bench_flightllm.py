"""Speed of the FlightLLM model: llama2-7b [128, 512] on u280 after JIT warm-up.

Run: python benchmarks/bench_flightllm.py   (prints one JSON object of measured rates).
Bucketed runs execute each distinct decode program once, so "covered" counts every
decode step's instructions, not only the executed ones.
"""

from __future__ import annotations

import json
import time

from accel.arch.flightllm import PRESETS, simulate
from accel.workloads.llm import llm_workload


def main() -> dict:
    cfg = PRESETS["u280"]
    simulate(llm_workload("llama2-7b", 16, 4), cfg, storage=False)        # JIT warm-up
    w = llm_workload("llama2-7b", 128, 512)
    out = {}
    for label, kw in (("bucketed", {}), ("off_chip", {"on_chip_decode": False}),
                      ("per_length", {"length_adaptive": False})):
        t = time.perf_counter()
        r = simulate(w, cfg, storage=False, **kw)
        dt = time.perf_counter() - t
        out[label] = {"wall_s": dt, "decode_instructions_covered_per_s":
                      r.decode_instructions_per_token * r.decode / dt}
    t = time.perf_counter()
    simulate(w, cfg, storage=True)
    out["with_storage_report_wall_s"] = time.perf_counter() - t
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
