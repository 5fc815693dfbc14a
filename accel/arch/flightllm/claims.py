"""FlightLLM's rows of the README's generated "What the models say" table
(``Machine.readme_claims``): the study's model figures beside its PAPER constants."""

from __future__ import annotations

import tempfile

from accel.arch.registry import times


def _pct(a: float, b: float) -> str:
    return f"{a:.1%} / {b:.1%}".replace("%", " %")


def study_claims() -> list[tuple[str, str, str]]:
    from accel.arch.flightllm import study

    with tempfile.TemporaryDirectory() as tmp:  # the study writes its report; not wanted here
        f = study.run(tmp)
    m, p = f["model"], f["paper"]
    return [
        ("FlightLLM llama2-7b decode on U280", f"~{p['u280 llama2-7b decode tok/s']} tok/s",
         f"{m['u280 llama2-7b decode tok/s']:.1f} tok/s"),
        ("FlightLLM HBM utilisation, always-on-chip / off-chip decode",
         _pct(p["u280 HBM util on-chip"], p["u280 HBM util off-chip"]),
         _pct(m["u280 HBM util on-chip"], m["u280 HBM util off-chip"])
         + " (see `reports/flightllm/summary.md`; not fitted)"),
        ("FlightLLM VHK158 throughput vs A100 (mean of 6 cases x 2 models)",
         times(p["vhk158 throughput vs A100"], 1), times(m["vhk158 throughput vs A100"])),
        ("FlightLLM length-adaptive instruction storage (max 2048)",
         f"~{p['storage reduction']}×",
         f"{m['storage reduction']:,.0f}× per-request accounting, "
         f"{m['storage reduction (shared step programs)']:,.0f}× with shared step programs"),
    ]
