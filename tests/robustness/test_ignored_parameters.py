"""Issue 25, class 7: a parameter that has no effect on a workload is refused, never turned
into a second label of one result.

A SCALE-Sim topology carries its own shapes and sparsity, so the systolic machine's
workload source declares the knobs it ignores (``scalesim_io.ignored_knobs``): a sweep
that sets one of them over a ``.csv`` is refused when the spec is validated (exit 2, the
parameter named, no store written), whatever its values, and the CLI refuses a knob set
to anything but its default.  What does apply (config fields) still sweeps.
"""

from __future__ import annotations

import json

import pytest
import yaml
from cli_harness import run_cli

from accel.arch.systolic.scalesim_io import TOPOLOGY_IGNORES, ignored_knobs
from accel.errors import ConfigError

TOPO = "Layer, M, N, K, Sparsity,\nfc1, 16, 16, 32, 2:4,\nfc2, 8, 16, 16,\n"


def _spec(params: dict, workloads=("t.csv",)) -> str:
    return yaml.safe_dump({"name": "ign", "machine": "systolic", "base": "scalesim-32x32-ws",
                           "workloads": list(workloads), "parameters": params,
                           "objectives": {"cycles": "min"}}, sort_keys=False)


VALUES = {"prune": [["dense", "2:4"], ["dense"], ["2:4"], ["1:4", "2:8"]],
          "seq_len": [[64, 128], [128]], "seed": [[0, 1], [0]], "batch": [[1, 2], [1]],
          "training": [[False, True], [False]]}
CASES = []
for knob, values in VALUES.items():
    for vals in values:
        CASES.append(pytest.param({knob: vals}, knob, id=f"sweep-{knob}-{'-'.join(map(str, vals))}"))
        CASES.append(pytest.param({knob: vals, "array_rows": [8, 16]}, knob,
                                  id=f"sweep-{knob}-{'-'.join(map(str, vals))}-with-config-field"))
CASES.append(pytest.param({"array_rows": [8], "prune": ["2:4"]}, "prune", id="sweep-knob-after-field"))


@pytest.mark.parametrize(("params", "knob"), CASES)
def test_sweep_of_an_ignored_knob_is_refused(hostile, params, knob):
    line = hostile(["sweep", "s.yaml", "--db", "r.sqlite", "--quiet"],
                   {"s.yaml": _spec(params), "t.csv": TOPO})
    assert repr(knob) in line and "t.csv" in line, line


def test_refused_with_a_builtin_workload_beside_the_topology(hostile):
    line = hostile(["sweep", "s.yaml", "--db", "r.sqlite", "--quiet"],
                   {"s.yaml": _spec({"prune": ["dense", "2:4"]}, ("minilm-l6", "t.csv")), "t.csv": TOPO})
    assert "'prune'" in line and "t.csv" in line


@pytest.mark.parametrize("how", ["--workload", "--topology"])
@pytest.mark.parametrize(("flag", "value"), [("--prune", "2:4"), ("--prune", "1:8"), ("--seq-len", "64"),
                                             ("--seed", "3")])
def test_cli_knob_on_a_topology_is_refused(hostile, how, flag, value):
    line = hostile(["sim", "systolic", how, "t.csv", flag, value], {"t.csv": TOPO})
    assert flag.lstrip("-").replace("-", "_") in line, line


def test_cli_knob_on_a_topology_of_any_name_is_refused(hostile):
    line = hostile(["sim", "systolic", "--topology", "layers.txt", "--prune", "2:4"], {"layers.txt": TOPO})
    assert "prune" in line


def test_cli_defaults_on_a_topology_run(tmp_path):
    (tmp_path / "t.csv").write_text(TOPO)
    rc, out, err = run_cli(["sim", "systolic", "--workload", "t.csv", "--json"], tmp_path)
    assert rc == 0, err
    assert json.loads(out)["per_op"][0]["sparsity"] == "2:4"   # the row's own sparsity


def test_a_config_field_still_sweeps_over_a_topology(tmp_path):
    from accel.sweep import parse_spec

    (tmp_path / "t.csv").write_text(TOPO)
    spec = parse_spec(yaml.safe_load(_spec({"array_rows": [8, 16]}, (str(tmp_path / "t.csv"),))))
    assert spec.parameters["array_rows"] == (8, 16) or list(spec.parameters["array_rows"]) == [8, 16]


def test_a_knob_still_sweeps_over_a_builtin_workload():
    from accel.sweep import parse_spec

    spec = parse_spec(yaml.safe_load(_spec({"prune": ["dense", "2:4"]}, ("minilm-l6",))))
    assert len(spec.parameters["prune"]) == 2


def test_declaration_matches_the_machine():
    """Every knob the systolic machine lets a sweep set is one a topology ignores, and
    only .csv names are topologies."""
    from accel.arch import registry

    assert set(registry.get("systolic").workload_knobs) <= set(TOPOLOGY_IGNORES)
    assert ignored_knobs("a/b/Layers.CSV") == TOPOLOGY_IGNORES
    assert ignored_knobs("minilm-l6") == () and ignored_knobs("w.npz") == ()


def test_sweep_check_is_generic():
    """The sweep's check asks the machine's workload source module, for any machine."""
    from accel.sweep import routing

    systolic = routing.machine("systolic")
    with pytest.raises(ConfigError, match="'seed'"):
        routing.check_knobs_apply(systolic, ["x.csv"], ["array_rows", "seed"])
    routing.check_knobs_apply(systolic, ["minilm-l6"], ["seed"])
    routing.check_knobs_apply(routing.machine("piuma"), ["x.csv"], ["prune"])   # no workload source: no rule
