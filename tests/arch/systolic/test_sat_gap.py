"""The documented gap between SCALE-Sim's os fold and accel's RTL-verified SAT PE-array tile.

accel/arch/systolic/README.md states: per R x C tile with beats = Ke streamed rows,
SAT's one-tile-per-start ``tile_cycles`` exceeds SCALE-Sim's os fold by START_CYCLES +
MAC_LATENCY + R (serial drain); SAT's default pipelined array (one run of all the layer's
tiles) is R + C - 2 per tile faster, plus its start and tail R + C + 1 once; and SCALE-Sim's
per-layer count is one less than its folds' length.  This measures both with accel's own
tile timing on every os reference row.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from accel.arch.sat import pe_array
from accel.arch.systolic.config import SystolicConfig
from accel.arch.systolic.model import kept_rows, simulate
from accel.workloads.formats import NM, Dense
from accel.workloads.ops import Gemm, Workload

with open(Path(__file__).parent / "reference" / "scalesim-v3-cycles.csv") as _f:
    OS_ROWS = [r for r in csv.DictReader(_f) if r["dataflow"] == "os"]


@pytest.mark.parametrize("row", OS_ROWS, ids=[f"{r['layer']}-{r['sparsity']}" for r in OS_ROWS])
def test_sat_tile_minus_scalesim_fold(row):
    m, n, k = int(row["M"]), int(row["N"]), int(row["K"])
    r, c = int(row["array_rows"]), int(row["array_cols"])
    nm = None if row["sparsity"] == "dense" else tuple(map(int, row["sparsity"].split(":")))
    ke = kept_rows(k, *nm) if nm else k
    b = NM((k, n), *nm, axis=0) if nm else Dense((k, n))
    ours = simulate(Workload("w", [Gemm("x", "infer", m, k, n, b)]),
                    SystolicConfig(array_rows=r, array_cols=c, dataflow="os")).cycles
    assert ours == int(row["total_cycles"])
    tiles = math.ceil(m / r) * math.ceil(n / c)
    sat = tiles * pe_array.tile_cycles(r, c, ke)
    per_tile = pe_array.START_CYCLES + pe_array.MAC_LATENCY + r * pe_array.DRAIN_BEATS_PER_ROW
    assert per_tile == 34
    assert sat - ours == tiles * per_tile + 1
    assert ke >= pe_array.pipelined_spacing(r, c)   # no bubbles between tiles
    pipelined = pe_array.tiles_cycles(r, c, [ke] * tiles, pipelined=True)
    assert pipelined - ours == (r + c + 1) + 1 - tiles * (r + c - 2)
