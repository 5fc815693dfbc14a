"""Compile the PIUMA engine ahead of a first run (``accel cache warm``, run by ``make
install``): every algorithm once on a 32-vertex R-MAT graph, which compiles every kernel a
run of any size uses (Numba compiles per type signature, never per size)."""

from __future__ import annotations

WARM_SCALE, WARM_EDGE_FACTOR = 5, 4   # the smallest graph whose rows exercise every step


def warm() -> None:
    from accel.arch.piuma._planahead import AHEAD_SYNC
    from accel.arch.piuma.config import DEFAULT_PRESET, PRESETS
    from accel.arch.piuma.model import ALGORITHMS, simulate_spgemm
    from accel.workloads.graphs import rmat

    g = rmat(WARM_SCALE, WARM_EDGE_FACTOR, seed=1)
    cfg = PRESETS[DEFAULT_PRESET]
    runs = [(algo, {}) for algo in ALGORITHMS]
    # a long run plans rows ahead (``_planahead``): its kernels too, in calls of a few steps
    runs.append(("smash-v1", dict(plan_ahead=AHEAD_SYNC, steps_per_call=8)))
    for algo, engine in runs:
        r = simulate_spgemm(g, g, cfg, algo, **engine)
        if not r.correct:   # a warm-up that computes a wrong product is a bug, say so now
            raise RuntimeError(f"PIUMA warm-up: {algo} product differs from SciPy's")
