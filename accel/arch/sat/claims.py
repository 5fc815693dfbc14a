"""SAT's rows of the README's generated "What the models say" table (``Machine.readme_claims``).

Computed by running the study the README points to (``accel bdwp study``); the paper
column is the study's own PAPER constant.  The PE-array cost row needs the RTL resource
model, which sits above arch: it is ``accel.hw.resource_metrics:pe_array_cost_claims``.
"""

from __future__ import annotations

from accel.arch.registry import times


def study_claims() -> list[tuple[str, str, str]]:
    from accel.arch.sat import study as sat

    s = sat.run_study()
    return [("SAT BDWP 2:8 training speedup over dense, average of " + "/".join(sat.MODELS),
             times(s["paper_average_2_8"]),
             f"{times(s['average']['2:8'])} (preset: RTL-verified pipelined FP16 array, RTL "
             f"weight-generator timing; 2:4: {times(s['average']['2:4'])}); "
             f"{times(s['average_one_tile']['2:8'])} one tile per start "
             "(`--set pipelined_tiles=false`)")]
