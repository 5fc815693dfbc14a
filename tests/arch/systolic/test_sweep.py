"""`systolic` in sweeps and reports through the registry alone: a SCALE-Sim topology as the
workload, every design point equal to a direct simulate(), the machine's view in the report."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from accel.arch.systolic.config import SystolicConfig
from accel.arch.systolic.model import simulate
from accel.arch.systolic.scalesim_io import read_topology
from accel.cli import main

REPO = Path(__file__).resolve().parents[3]
TOPO = Path(__file__).parent / "reference" / "scalesim-example" / "topology.csv"


def _cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_committed_spec_validates():
    from accel.sweep.points import design_points
    from accel.sweep.spec import load_spec

    spec = load_spec(REPO / "workloads" / "sweeps" / "systolic-minilm.yaml")
    assert spec.machine == "systolic"
    pts = design_points(spec)
    assert len(pts) == 216 and all(p["array_rows"] * p["array_cols"] <= 65536 for p in pts)


def test_sweep_and_report_of_a_scalesim_topology(tmp_path, capsys):
    spec = {"name": "systolic-topo", "machine": "systolic", "base": "scalesim-32x32-ws",
            "workloads": [str(TOPO)],
            "parameters": {"array_rows": [8, 32], "array_cols": [8, 32],
                           "dataflow": ["ws", "os", "is"]},
            "objectives": {"cycles": "min", "pes": "min"}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    db = tmp_path / "s.sqlite"
    rc, out, err = _cli(capsys, "sweep", "run", path, "--db", db, "--workers", "1", "--json")
    assert rc == 0, err
    s = json.loads(out)
    assert (s["points"], s["failed"]) == (12, 0)
    rc, out, err = _cli(capsys, "sweep", "export", db, "--format", "csv", "--out", tmp_path / "s.csv")
    assert rc == 0, err
    import pandas as pd

    df = pd.read_csv(tmp_path / "s.csv")
    w = read_topology(TOPO)
    for _, row in df.iterrows():
        cfg = SystolicConfig(array_rows=int(row["param.array_rows"]),
                             array_cols=int(row["param.array_cols"]), dataflow=row["param.dataflow"])
        assert row["metric.cycles"] == simulate(w, cfg).cycles
    ws32 = df[(df["param.array_rows"] == 32) & (df["param.array_cols"] == 32)
              & (df["param.dataflow"] == "ws")]
    assert ws32["metric.cycles"].tolist() == [63935]          # the reference row, via the sweep
    rc, out, err = _cli(capsys, "report", db, "--out", tmp_path / "rep", "--json")
    assert rc == 0, err
    figs = json.loads(out)["figures"]
    assert any(f.endswith("systolic-topo-dataflows.png") for f in figs)
    assert "systolic-topo-dataflows.png" in (tmp_path / "rep" / "summary.md").read_text()
