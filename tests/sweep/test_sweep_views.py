"""Each registered machine's report view (declared in its folder) renders from a real sweep
store through the generic report: SAT phases, FlightLLM roofline, PIUMA threads/traffic."""

from __future__ import annotations

import json

import numpy as np

from accel.report import write_report
from accel.sweep import parse_spec, run_sweep
from accel.workloads import io
from accel.workloads.formats import nm_compress
from accel.workloads.ops import Gemm, Workload


def _report(tmp_path, spec: dict) -> dict:
    db = tmp_path / f"{spec['name']}.sqlite"
    s = run_sweep(parse_spec(spec), db, workers=1)
    assert s.failed == 0
    write_report([db], tmp_path / "rep")
    return json.loads((tmp_path / "rep" / "figures.json").read_text())


def test_views_of_the_three_machines(tmp_path, tiny_llm_config):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 64)).astype(np.float32)
    w = rng.standard_normal((64, 16)).astype(np.float32)
    npz = io.save(Workload("t", [Gemm("l0", "fwd", 16, 64, 16, nm_compress(w, 2, 8, axis=0), a=a)]),
                  tmp_path / "t.npz")
    figs = _report(tmp_path, {"name": "s", "machine": "sat", "workloads": [str(npz)],
                              "parameters": {"pe_rows": [8, 16]}})
    assert set(figs["s-phases"]["data"]) >= {"designs", "fwd", "update"}

    figs = _report(tmp_path, {"name": "f", "machine": "flightllm", "workloads": [tiny_llm_config],
                              "parameters": {"prefill": 16, "decode": 8,
                                             "on_chip_decode": [True, False]}})
    assert "hbm_utilization" in figs["f-roofline"]["data"]

    figs = _report(tmp_path, {"name": "p", "machine": "piuma", "workloads": ["rmat:5"],
                              "parameters": {"algorithm": ["smash-v1", "inner"]}})
    assert sorted(figs["p-threads-traffic"]["data"]["algorithms"]) == ["inner", "smash-v1"]
