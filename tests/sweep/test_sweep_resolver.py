"""One workload resolver behind the sweeps: the CNN training workloads and MiniLM sweep on
SAT (they could not before: WorkloadError), and a machine refuses a workload kind it cannot run."""

from __future__ import annotations

import pytest

from accel.errors import WorkloadError
from accel.sweep import open_frame, parse_spec, run_sweep


def test_sat_sweep_over_resnet18_and_minilm(tmp_path):
    from accel.arch.sat import model
    from accel.arch.sat.config import PRESETS
    from accel.configs import apply_overrides
    from accel.workloads.builtin import resolve

    spec = parse_spec({"name": "sat-cnn", "machine": "sat", "base": "sat-vcu1525",
                       "workloads": ["resnet18", "minilm-l6"],
                       "parameters": {"training": True, "batch": 1, "seq_len": 16,
                                      "prune": ["bdwp:2:8"], "pe_rows": [16, 32]}})
    s = run_sweep(spec, tmp_path / "s.sqlite", workers=1)
    assert (s.rows, s.failed) == (4, 0)
    df = open_frame(tmp_path / "s.sqlite")
    assert (df["status"] == "ok").all(), df["error"].dropna().tolist()
    # each row is the model run on what the resolver builds for that name
    for name in ("resnet18", "minilm-l6"):
        w = resolve(name, prune="bdwp:2:8", training=True, batch=1, seq_len=16)
        for rows in (16, 32):
            cfg = apply_overrides(PRESETS["sat-vcu1525"], {"pe_rows": rows})
            want = model.simulate(w, cfg).cycles
            got = df[(df["workload"] == name) & (df["param.pe_rows"] == rows)]["metric.cycles"]
            assert got.tolist() == [want], (name, rows)
    assert len(set(df["metric.cycles"])) == 4   # workload and design both change the answer


def test_sweep_refuses_a_workload_the_machine_cannot_run(tmp_path):
    spec = parse_spec({"machine": "sat", "workloads": ["rmat:4"], "parameters": {"pe_rows": [16]}})
    with pytest.raises(WorkloadError, match="machine sat runs training or gemm workloads"):
        run_sweep(spec, tmp_path / "x.sqlite", workers=1)
