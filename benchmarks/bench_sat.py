"""SAT model speed: simulated cycles per wall second and MiniLM training steps per second.

Not a test.  Run: ``python benchmarks/bench_sat.py [workload.npz]`` (default: builds the
minilm-l6 bdwp:2:8 training workload through accel.workloads.builtin, cached).
Timings are after a JIT warm-up call.
"""

from __future__ import annotations

import sys
import time

from accel.arch.sat.config import PRESETS
from accel.arch.sat.model import simulate
from accel.workloads.builtin import resolve


def main(argv: list[str]) -> None:
    spec = argv[0] if argv else "minilm-l6"
    w = resolve(spec, prune="bdwp:2:8", training=True)
    cfg = PRESETS["sat-vcu1525"]
    t = time.perf_counter()
    simulate(w, cfg)                                   # JIT warm-up (or cache load)
    warm = time.perf_counter() - t
    reps, cycles = 0, 0
    t = time.perf_counter()
    while time.perf_counter() - t < 5.0:
        r = simulate(w, cfg)
        cycles += r.cycles + r.dense_cycles            # both are walked tile by tile
        reps += 1
    wall = time.perf_counter() - t
    print(f"workload {w.name}: {len(w.ops)} GEMMs, warm-up {warm:.2f} s")
    print(f"training-step simulations/s (SAT + dense baseline): {reps / wall:.1f}")
    print(f"wall per step: {wall / reps * 1e3:.1f} ms")
    print(f"simulated cycles per wall second: {cycles / wall:.3e}")


if __name__ == "__main__":
    main(sys.argv[1:])
