"""Speed of the RTL in Verilator through cocotb vs the Numba PE-array model, same tiles.

Run: python benchmarks/bench_rtl.py [--tiles 64]   (prints one JSON object).

Tiles: real MiniLM FFN1 (encoder.layer.0.intermediate.dense, 2:4, INT8) on a 4x4 2:4
array, unstalled.  RTL rate = simulated clock cycles / wall seconds of the cocotb run;
the steady rate divides by the time cocotb spent inside the tests only (no simulator
start-up, i.e. no Python + NumPy + Numba import inside the simulator).  Model rate = the same tiles'
cycles / wall seconds of pack_tile + tile_compute + tile_cycles_nb (the model's whole
per-tile work, result included), after JIT warm-up.  The ratio model/RTL is the
workbench's reason to exist.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from accel.arch.sat.pe_array import pack_tile, tile_beats, tile_compute, tile_cycles_nb
from accel.hw.blocks.pe_array import cosim
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.workloads.builtin import resolve

LAYER = "encoder.layer.0.intermediate.dense"


def model_rate(p: ArrayParams, tiles, repeats: int = 20) -> dict:
    def once():
        cycles = 0
        for t in tiles:
            act, wv, wi = pack_tile(t.a_q, t.w_vals, t.w_idx, p.n, p.m, dense=t.dense)
            out = tile_compute(act, wv, wi, p.acc_bits)
            assert np.array_equal(out, t.expected)
            cycles += tile_cycles_nb(p.rows, p.cols, tile_beats(t.a_q.shape[1], p.n, p.m,
                                                                  t.dense))
        return cycles

    once()                                             # JIT warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        cycles = once()
    dt = (time.perf_counter() - t0) / repeats
    return {"cycles": int(cycles), "seconds": dt, "cycles_per_s": cycles / dt}


def rtl_rate(p: ArrayParams, tiles) -> dict:
    rep = cosim.run_tiles(p, tiles, scenarios=("unstalled",))
    assert rep.tests_failed == 0 and rep.cycle_mismatches == 0 and rep.output_mismatches == 0
    inside = rep.extra["test_seconds"]
    return {"cycles": rep.wall_cycles, "seconds": rep.sim_seconds, "test_seconds": inside,
            "cycles_per_s": rep.wall_cycles / rep.sim_seconds,
            "steady_cycles_per_s": rep.wall_cycles / inside}


def main(n_tiles: int = 64) -> dict:
    p = ArrayParams(4, 4, 2, 4)
    op = next(o for o in resolve("minilm-l6", prune="2:4", seq_len=16).ops if o.name == LAYER)
    tiles = cosim.op_tiles(op, p, max_tiles=n_tiles)
    cosim.build(p)                                     # build outside the timed runs
    rtl = rtl_rate(p, tiles)
    model = model_rate(p, tiles)
    return {"config": p.name, "layer": LAYER, "tiles": len(tiles),
            "rtl_cycles": rtl["cycles"], "rtl_seconds_total": rtl["seconds"],
            "rtl_seconds_in_tests": rtl["test_seconds"],
            "rtl_cycles_per_s": rtl["cycles_per_s"],
            "rtl_steady_cycles_per_s": rtl["steady_cycles_per_s"],
            "model_cycles": model["cycles"], "model_seconds": model["seconds"],
            "model_cycles_per_s": model["cycles_per_s"],
            "model_over_rtl": model["cycles_per_s"] / rtl["cycles_per_s"],
            "model_over_rtl_steady": model["cycles_per_s"] / rtl["steady_cycles_per_s"]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=64)
    print(json.dumps(main(ap.parse_args().tiles), indent=1))
