"""The machine registry: every machine declares everything, results follow the shared
protocol with units for every metric, and a new machine plugs into `accel sim`, sweeps and
reports through its declaration alone (tests/arch/registry_toy/toy_gemm)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import typer

from accel.arch import registry
from accel.workloads import io
from accel.workloads.builtin import KNOBS, resolve
from accel.workloads.formats import Dense, nm_compress
from accel.workloads.kinds import WORKLOAD_KINDS, workload_kind
from accel.workloads.ops import Gemm, Workload

SPECS = Path(__file__).resolve().parents[2] / "workloads" / "sweeps"
TOY = Path(__file__).parent / "registry_toy"


def _gemm_workload(seed=0, m=8, k=32, n=8, nm=(2, 8)):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = nm_compress(w, nm[0], nm[1], axis=0) if nm else Dense((k, n), w)
    return Workload("tiny", [Gemm("l0", "fwd", m, k, n, b, a=a)])


@pytest.mark.parametrize("name", list(registry.MACHINES))
def test_machine_declares_everything(name):
    m = registry.get(name)
    assert m.name == name and m.summary
    presets = m.presets()
    assert m.default_preset() in presets
    assert dataclasses.is_dataclass(m.config_class())
    assert set(m.workload_kinds) <= set(WORKLOAD_KINDS)
    if not m.workload_source:
        assert set(m.workload_knobs) <= set(KNOBS)   # every knob is a resolver argument
    assert callable(m.model_module().simulate) and m.model_version()
    rt = m.result_type()
    assert callable(rt.to_dict) and callable(rt.metrics) and isinstance(rt.UNITS, dict)
    # the declared options are exactly the run() arguments (after `note`)
    run_params = list(inspect.signature(m.cli_module().run).parameters)[1:]
    assert [o.name for o in m.cli_options()] == run_params
    for stem, fn, what in m.views():
        assert stem and what and callable(fn)
    for fn in m.derived():
        assert callable(fn)
    assert (SPECS / f"{m.demo_spec}.yaml").is_file()


def test_unknown_machine_is_a_one_line_error():
    from accel.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown machine 'sta'.*did you mean 'sat'"):
        registry.get("sta")


def _units_cover(result):
    assert isinstance(result, registry.MachineResult)
    missing = [k for k in result.metrics() if registry.unit_of(type(result).UNITS, k) is None]
    assert not missing, missing
    json.dumps(result.to_dict(), default=float)


def test_sat_result_protocol_and_units():
    from accel.arch.sat.config import PRESETS

    m = registry.get("sat")
    _units_cover(m.simulate(_gemm_workload(), PRESETS[m.default_preset()]))


def test_piuma_result_protocol_and_units():
    m = registry.get("piuma")
    _units_cover(m.simulate(resolve("rmat:5", seed=1), m.presets()[m.default_preset()]))


def test_flightllm_result_protocol_and_units(tiny_llm_config):
    from accel.workloads.llm import llm_workload

    m = registry.get("flightllm")
    _units_cover(m.simulate(llm_workload(tiny_llm_config, 16, 8),
                            m.presets()[m.default_preset()]))


def test_machine_refuses_a_workload_kind_it_does_not_run():
    from accel.errors import WorkloadError

    w = resolve("rmat:4")
    assert workload_kind(w) == "spgemm"
    with pytest.raises(WorkloadError, match="machine sat runs training or gemm workloads"):
        registry.get("sat").check_workload(w)


def test_unit_of_exact_before_glob():
    units = {"cycles": "cycles", "*_cycles": "cycles", "busy_*": "fraction"}
    assert registry.unit_of(units, "fwd_cycles") == "cycles"
    assert registry.unit_of(units, "busy_mpe") == "fraction"
    assert registry.unit_of(units, "tokens") is None


@pytest.fixture
def toy(monkeypatch):
    """Register tests/arch/registry_toy/toy_gemm the way a plug-in would."""
    monkeypatch.syspath_prepend(str(TOY))
    from toy_gemm.machine import MACHINE

    monkeypatch.setitem(registry._EXTRA, MACHINE.name, MACHINE)
    yield MACHINE
    sys.modules.pop("toy_gemm", None)


def _sim_app():
    from accel.cli import sim

    app = typer.Typer()
    sim_app = typer.Typer()
    app.add_typer(sim_app, name="sim")
    sim.register(app, sim_app)
    return app


def test_new_machine_gets_a_sim_command(toy, tmp_path, capsys):
    w = _gemm_workload(nm=None)
    path = io.save(w, tmp_path / "w.npz")
    app = _sim_app()
    app(["sim", "toy-gemm", "-w", str(path), "--set", "rows=8", "--json"], standalone_mode=False)
    d = json.loads(capsys.readouterr().out)
    assert d == {"cycles": 1 * 2 * 32, "max_abs_err": 0.0}   # 8x8 output on 8x4: 2 tiles of K
    app(["sim", "toy-gemm", "-w", str(path)], standalone_mode=False)
    assert "128" in capsys.readouterr().out   # default 4x4: 4 tiles of K=32
    # the existing machines' commands are built by the same code
    app(["sim", "sat", "-w", str(path), "--json"], standalone_mode=False)
    assert json.loads(capsys.readouterr().out)["cycles"] > 0


def test_new_machine_sweeps_and_reports(toy, tmp_path):
    from accel.report import write_report
    from accel.sweep.runner import run_sweep
    from accel.sweep.spec import parse_spec

    path = io.save(_gemm_workload(nm=None), tmp_path / "w.npz")
    spec = parse_spec({"name": "toy-gemm-sweep", "machine": "toy-gemm", "base": "toy-4x4",
                       "workloads": [str(path)], "parameters": {"rows": [2, 4, 8], "cols": [4, 8]},
                       "objectives": {"cycles": "min", "pes": "min"}})
    s = run_sweep(spec, tmp_path / "r.sqlite", workers=1)
    assert (s.rows, s.failed) == (6, 0)
    # a workload name only this machine knows (its workload_source), next to a resolver name
    spec2 = parse_spec({"name": "toy-names", "machine": "toy-gemm", "workloads": ["toy:8x16x8"],
                        "parameters": {"rows": [4], "seed": [1]}})
    s2 = run_sweep(spec2, tmp_path / "n.sqlite", workers=1)
    assert (s2.rows, s2.failed) == (1, 0)
    from accel.sweep import open_frame

    assert open_frame(tmp_path / "n.sqlite")["metric.cycles"].tolist() == [2 * 2 * 16]
    res = write_report([tmp_path / "r.sqlite"], tmp_path / "rep")
    assert any(f.endswith("toy-gemm-sweep-cycles.png") for f in res["figures"]), res["figures"]
    for name in ("summary.md", "index.html", "figures.json"):   # reports are shareable files
        assert (tmp_path / "rep" / name).stat().st_mode & 0o777 == 0o644, name
    assert "| cycles [cycles] |" in (tmp_path / "rep" / "summary.md").read_text()   # UNITS
    figs = json.loads((tmp_path / "rep" / "figures.json").read_text())
    cyc = figs["toy-gemm-sweep-cycles"]["data"]
    assert len(cyc["labels"]) == 6 and "rows=" in cyc["labels"][0]   # the report's label helper
    # rows x cols -> ceil(8/rows) * ceil(8/cols) tiles of K=32 cycles each
    assert sorted(cyc["cycles"]) == sorted(32 * -(-8 // r) * -(-8 // c)
                                           for r in (2, 4, 8) for c in (4, 8))


def test_cli_import_loads_no_model():
    # registrations are declarations: building `accel sim <m>` for every machine must not
    # import a model, Numba or matplotlib (keeps `accel --help` fast)
    import subprocess

    code = ("import sys, accel.cli; heavy = [m for m in sys.modules if m == 'numba' or "
            "m == 'matplotlib' or m.startswith('accel.arch.') and m.endswith('.model')]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
