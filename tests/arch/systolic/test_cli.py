"""`accel sim systolic`: SCALE-Sim's inputs reproduce every reference row; accel workloads;
one-line errors with exit code 2."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from accel.cli import main

REF = Path(__file__).parent / "reference"
EXAMPLE_CFG = (REF / "scalesim-example" / "scale.cfg").read_text()


def _run(capsys, *args):
    rc = main(["sim", "systolic", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def _groups():
    """Reference rows grouped by what one scale.cfg fixes: array, dataflow, sparsity support."""
    groups = defaultdict(list)
    for name in ("scalesim-v3-cycles.csv", "scalesim-v3-generated.csv"):
        with open(REF / name) as f:
            for row in csv.DictReader(f):
                key = (int(row["array_rows"]), int(row["array_cols"]), row["dataflow"],
                       row.get("sparsity_support", "true"))
                groups[key].append(row)
    return groups


GROUPS = _groups()


def _cfg_text(rows, cols, df, sparse):
    text = (EXAMPLE_CFG.replace("ArrayHeight:    32", f"ArrayHeight:    {rows}")
            .replace("ArrayWidth:     32", f"ArrayWidth:     {cols}")
            .replace("Dataflow : ws", f"Dataflow : {df}")
            .replace("SparsitySupport : true", f"SparsitySupport : {sparse}"))
    assert f"Dataflow : {df}" in text and f"ArrayHeight:    {rows}" in text
    return text


@pytest.mark.parametrize("key", sorted(GROUPS), ids=[f"{r}x{c}-{df}-sparse_{s}"
                                                     for r, c, df, s in sorted(GROUPS)])
def test_scalesim_inputs_reproduce_every_reference_row(tmp_path, capsys, key):
    rows = GROUPS[key]
    cfg = tmp_path / "scale.cfg"
    cfg.write_text(_cfg_text(*key))
    topo = tmp_path / "layers.csv"
    lines = ["Layer, M, N, K, Sparsity,"]
    for i, r in enumerate(rows):
        sp = "1:1" if r["sparsity"] == "dense" else r["sparsity"]
        lines.append(f"{r['layer']}_{i}, {r['M']}, {r['N']}, {r['K']}, {sp},")
    topo.write_text("\n".join(lines) + "\n")
    rc, out, err = _run(capsys, "--scalesim-cfg", cfg, "--topology", topo, "--json")
    assert rc == 0, err
    d = json.loads(out)
    got = [op["cycles"] for op in d["per_op"]]
    assert got == [int(r["total_cycles"]) for r in rows]
    assert d["cycles"] == sum(got)


def test_example_files_and_table(capsys):
    ex = REF / "scalesim-example"
    rc, out, err = _run(capsys, "--scalesim-cfg", ex / "scale.cfg", "--topology", ex / "topology.csv")
    assert rc == 0, err
    assert "63,935 cycles" in out                       # ffn1 2:4 ws in the reference


def test_topology_as_workload(capsys):
    ex = REF / "scalesim-example"
    rc, out, err = _run(capsys, "--scalesim-cfg", ex / "scale.cfg", "--workload", ex / "topology.csv",
                        "--json")
    assert rc == 0, err
    assert json.loads(out)["cycles"] == 63935


def test_set_overrides_the_cfg(capsys):
    ex = REF / "scalesim-example"
    rc, out, _ = _run(capsys, "--scalesim-cfg", ex / "scale.cfg", "--topology", ex / "topology.csv",
                      "--set", "dataflow=os", "--json")
    assert rc == 0 and json.loads(out)["cycles"] == 48767       # ffn1 2:4 os in the reference


def test_accel_workload_computes_and_checks(tmp_path, capsys):
    from accel.workloads.formats import nm_compress
    from accel.workloads.io import save
    from accel.workloads.ops import Gemm, Workload

    rng = np.random.default_rng(3)
    a = rng.standard_normal((20, 37)).astype(np.float32)
    w = rng.standard_normal((37, 11)).astype(np.float32)
    wl = Workload("tiny", [Gemm("l0", "infer", 20, 37, 11, nm_compress(w, 2, 4, axis=0), a=a)])
    path = tmp_path / "tiny.npz"
    save(wl, path)
    for df in ("ws", "os", "is"):
        rc, out, err = _run(capsys, "--workload", path, "--set", f"dataflow={df}", "--set",
                            "array_rows=8", "--set", "array_cols=4", "--compute", "--json")
        assert rc == 0, err
        d = json.loads(out)
        assert d["check"]["max_abs_error"] < 1e-4
        assert d["per_op"][0]["K_streamed"] == 19           # 9 full groups x 2 + min(2, 1)


def test_builtin_llm_shapes(capsys):
    rc, out, err = _run(capsys, "--workload", "llama2-7b:16:4", "--arch", "tpu-v1", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["cycles"] > 0 and d["config"]["array_rows"] == 256


@pytest.mark.parametrize(("args", "match"), [
    ((), "give --workload or --topology"),
    (("--workload", "x.npz", "--topology", "t.csv"), "give --workload or --topology"),
    (("--topology", "/nonexistent.csv"), "not found"),
    (("--workload", "rmat:5", "--json"), "spgemm workload"),   # --json: no progress line
    (("--arch", "nope", "--topology", "t.csv"), "unknown preset"),
    (("--set", "dataflow=rs", "--topology", "t.csv"), "dataflow must be one of"),
])
def test_bad_input_one_line_exit_2(capsys, args, match):
    rc, out, err = _run(capsys, *args)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0], err


def test_bad_cfg_one_line(tmp_path, capsys):
    cfg = tmp_path / "scale.cfg"
    cfg.write_text(_cfg_text(32, 32, "ws", "true").replace("InterfaceBandwidth: CALC",
                                                           "InterfaceBandwidth: USER"))
    ex = REF / "scalesim-example"
    rc, _, err = _run(capsys, "--scalesim-cfg", cfg, "--topology", ex / "topology.csv")
    assert rc == 2 and err.count("\n") == 1 and "InterfaceBandwidth 'USER'" in err
    rc, _, err = _run(capsys, "--scalesim-cfg", cfg, "--arch", "tpu-v1", "--topology", ex / "topology.csv")
    assert rc == 2 and "not both" in err
