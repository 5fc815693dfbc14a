"""PIUMA's rows of the README's generated "What the models say" table
(``Machine.readme_claims``): SMASH against its rivals, and v2's gain on skew."""

from __future__ import annotations

from accel.arch.registry import times


def study_claims() -> list[tuple[str, str, str]]:
    from accel.arch.piuma import study

    a = study.algorithm_table()
    cyc = {n: r["cycles"] for n, r in a["algorithms"].items()}
    best = a["best_smash"]
    sk = study.skew_vs_uniform()
    return [
        ("SMASH best version vs best rival on PIUMA", times(a["thesis_speedup"], 1),
         f"{times(a['best_smash_speedup'])} on {a['workload']} ({best} vs "
         f"{a['best_competitor']}; {times(cyc['outer'] / cyc[best], 1)} vs outer, "
         f"{times(cyc['inner'] / cyc[best], 1)} vs inner)"),
        ("SMASH v2 tokens over v1 windows, skewed vs uniform", "gains on skew",
         f"{times(sk['rmat']['v2_speedup_over_v1'])} on {a['workload']} vs "
         f"{times(sk['uniform']['v2_speedup_over_v1'])} on uniform of equal size and density"),
    ]
