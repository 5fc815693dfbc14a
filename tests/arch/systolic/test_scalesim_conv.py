"""Convolution topologies (SCALE-Sim's conv input form) against SCALE-Sim 3.0.0, to the cycle.

``reference/scalesim-v3-conv.csv`` (made by ``reference/make_scalesim_reference.py --only
conv``) has one row per layer SCALE-Sim reports: a depthwise ``DP`` layer appears once
per channel, which accel reads as one op repeated ``Channels`` times.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from accel.arch.systolic.config import SystolicConfig
from accel.arch.systolic.model import simulate
from accel.arch.systolic.scalesim_io import read_topology

REF = Path(__file__).parent / "reference" / "scalesim-v3-conv.csv"
with open(REF) as _f:
    ROWS = list(csv.DictReader(_f))
RUNS = sorted({(int(r["array_rows"]), int(r["array_cols"]), r["dataflow"]) for r in ROWS})


@pytest.mark.parametrize("run", RUNS, ids=[f"{r}x{c}-{df}" for r, c, df in RUNS])
def test_conv_topology_reproduces_scalesim(tmp_path, run):
    rows, cols, df = run
    mine = [r for r in ROWS if (int(r["array_rows"]), int(r["array_cols"]), r["dataflow"]) == run]
    topo = tmp_path / "conv.csv"
    lines = list(dict.fromkeys(r["topology_row"] for r in mine))
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                    "Channels, Num Filter, Strides, Sparsity,\n" + "\n".join(lines) + "\n")
    res = simulate(read_topology(topo), SystolicConfig(array_rows=rows, array_cols=cols, dataflow=df))
    want, count, eff = defaultdict(int), defaultdict(int), {}
    for r in mine:
        name = r["topology_row"].split(",")[0]
        want[name] += int(r["total_cycles"])
        count[name] += 1
        eff[name] = float(r["mapping_efficiency_pct"])
    for op in res.per_op:
        assert op["repeat"] == count[op["name"]]
        assert op["cycles"] * op["repeat"] == want[op["name"]], op["name"]
        assert 100 * op["mapping_efficiency"] == pytest.approx(eff[op["name"]], abs=1e-9)
    assert res.cycles == sum(want.values())
