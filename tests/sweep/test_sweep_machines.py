"""The three real adapters: a sweep's stored metrics equal a direct call of the model.

This checks the routing (config field / workload knob / simulate option / preset) and
that the sweep adds nothing to, and hides nothing from, what the model computed.
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.configs import apply_overrides
from accel.sweep import open_frame, parse_spec, routing, run_sweep


def _check_equal(df, direct: dict[tuple, dict], keys: list[str]):
    assert (df["status"] == "ok").all(), df["error"].dropna().tolist()
    assert len(df) == len(direct)
    for _, row in df.iterrows():
        want = direct[tuple(row[f"param.{k}"] for k in keys)]
        for m, v in want.items():
            if not m.endswith("wall_s"):
                assert row[f"metric.{m}"] == pytest.approx(v, rel=1e-12), m


def test_sat_sweep_equals_model(tmp_path):
    from accel.arch.sat import model
    from accel.arch.sat.config import PRESETS
    from accel.workloads import io
    from accel.workloads.ops import Workload
    from accel.workloads.training import training_ops

    rng = np.random.default_rng(0)
    ops = []
    for i, (o, k) in enumerate([(32, 64), (64, 32)]):
        ops += training_ops(f"l{i}", rng.standard_normal((o, k)), rng.standard_normal((48, k)), 2, 8)
    path = tmp_path / "tiny.npz"
    io.save(Workload("tiny", ops), path)
    spec = parse_spec({"machine": "sat", "base": "sat-vcu1525", "workloads": [str(path)],
                       "parameters": {"pe_rows": [8, 16], "dram_gbps_per_channel": [4.8, 19.2],
                                      "pregen": [True, False]},
                       "objectives": {"cycles": "min", "hw_lut": "min"}})
    run_sweep(spec, tmp_path / "s.sqlite", workers=2)
    df = open_frame(tmp_path / "s.sqlite")
    wl = io.load(path)
    direct = {}
    for r in (8, 16):
        for bw in (4.8, 19.2):
            for pregen in (True, False):
                cfg = apply_overrides(PRESETS["sat-vcu1525"], {"pe_rows": r, "dram_gbps_per_channel": bw})
                direct[(r, bw, pregen)] = model.simulate(wl, cfg, pregen=pregen).metrics()
    _check_equal(df, direct, ["pe_rows", "dram_gbps_per_channel", "pregen"])
    m = routing.machine("sat")
    small_cfg = apply_overrides(PRESETS["sat-vcu1525"], {"pe_rows": 8})
    hw = {k: v for f in m.derived() for k, v in f(small_cfg, wl, {}).items()}
    if hw:  # the RTL resource model is installed: it is in the store, and grows with the array
        small = df[df["param.pe_rows"] == 8]["metric.hw_lut"].iloc[0]
        big = df[df["param.pe_rows"] == 16]["metric.hw_lut"].iloc[0]
        assert small == hw["hw_lut"] and big > small


def test_piuma_sweep_equals_model(tmp_path):
    from accel.arch.piuma import model
    from accel.arch.piuma.config import PRESETS
    from accel.workloads.builtin import resolve

    spec = parse_spec({"machine": "piuma", "base": "piuma", "workloads": ["rmat:6"],
                       "parameters": {"algorithm": ["smash-v1", "inner"], "threads_per_pipeline": [4, 16]}})
    run_sweep(spec, tmp_path / "p.sqlite", workers=2)
    df = open_frame(tmp_path / "p.sqlite")
    wl = resolve("rmat:6")
    direct = {}
    for alg in ("smash-v1", "inner"):
        for t in (4, 16):
            m = model.simulate(wl, apply_overrides(PRESETS["piuma"], {"threads_per_pipeline": t}), alg).metrics()
            m["dram_bytes"] = m["dram_bytes_read"] + m["dram_bytes_written"]
            direct[(alg, t)] = m
    _check_equal(df, direct, ["algorithm", "threads_per_pipeline"])
    assert (df["metric.correct"] == 1.0).all()  # the model's C equals SciPy's


def test_flightllm_sweep_equals_model(tmp_path):
    from accel.arch.flightllm import model
    from accel.arch.flightllm.config import PRESETS
    from accel.workloads.llm import llm_workload

    spec = parse_spec({"machine": "flightllm", "base": "u280", "workloads": ["llama2-7b"],
                       "parameters": {"preset": ["u280", "vhk158"], "sparsity": ["2:16"],
                                      "on_chip_decode": [True, False], "prefill": 128,
                                      "decode": [64, 128], "storage": False}})
    run_sweep(spec, tmp_path / "f.sqlite", workers=2)
    df = open_frame(tmp_path / "f.sqlite")
    direct = {}
    for dev in ("u280", "vhk158"):
        for on in (True, False):
            for dec in (64, 128):
                wl = llm_workload("llama2-7b", 128, dec, sparsity="2:16")
                direct[(dev, on, dec)] = model.simulate(wl, PRESETS[dev], on_chip_decode=on,
                                                        storage=False).metrics()
    _check_equal(df, direct, ["preset", "on_chip_decode", "decode"])
    # decode length lives in the workload's provenance: 64 and 128 must be distinct rows
    assert df["workload_id"].nunique() == 2
