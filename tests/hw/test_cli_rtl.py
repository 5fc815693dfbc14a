"""`accel rtl generate|synth|cosim pe-array|weight-gen` in-process: JSON on stdout,
one-line errors, exit 2; the block registry lists the blocks."""

from __future__ import annotations

import json

import pytest

from accel.cli import main


def _json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


def test_generate_json(tmp_path, capsys):
    rc = main(["rtl", "generate", "pe-array", "--rows", "2", "--cols", "2", "--n", "1", "--m", "4",
               "--out", str(tmp_path), "--json"])
    assert rc == 0
    d = _json(capsys)
    assert d["params"]["n"] == 1
    assert (tmp_path / "pe2x2_n1m4_a8w8acc32.v").read_text().startswith("/*")
    assert json.loads((tmp_path / "pe2x2_n1m4_a8w8acc32.json").read_text())["top"] \
        == "sparse_pe_array"


@pytest.mark.parametrize("args, needle", [
    (["--n", "5", "--m", "4"], "5:4"),
    (["--m", "6"], "M=6"),
    (["--acc-bits", "12"], "--acc-bits 12"),
    (["--rows", "0"], "0x4"),
    (["--cols", "0"], "4x0"),
])
def test_generate_bad_input(tmp_path, capsys, args, needle):
    rc = main(["rtl", "generate", "pe-array", *args, "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0]
    assert not list(tmp_path.iterdir())


def test_generate_unwritable_out(tmp_path, capsys):
    f = tmp_path / "plain"
    f.write_text("")
    rc = main(["rtl", "generate", "pe-array", "--out", str(f / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and str(f / "x") in err[0]


def test_synth_cached_json(capsys):
    rc = main(["rtl", "synth", "pe-array", "--rows", "4", "--cols", "4", "--n", "2", "--m", "4", "--json"])
    assert rc == 0
    d = _json(capsys)
    assert d["cached"] is True
    for k in ("LUT", "FF", "DSP48E2", "CARRY", "BRAM"):
        assert k in d["resources"]
    assert d["resources"]["DSP48E2"] == 32
    assert d["model_holdout_error"]["LUT"]["mean_rel_error"] < 0.1


@pytest.mark.parametrize("args, needle", [
    (["--n", "4", "--m", "4"], "N < M"),
    (["--mode", "fast"], "--mode"),
    (["--max-tiles", "0"], "--max-tiles"),
])
def test_cosim_bad_input(capsys, args, needle):
    rc = main(["rtl", "cosim", "pe-array", "--workload", "minilm-l6", "--layer", "x", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0]


@pytest.mark.rtl
def test_cosim_minilm_ffn_2to4(capsys):
    rc = main(["rtl", "cosim", "pe-array", "--workload", "minilm-l6",
               "--layer", "encoder.layer.0.intermediate.dense", "--rows", "4", "--cols", "4",
               "--n", "2", "--m", "4", "--max-tiles", "2", "--json"])
    d = _json(capsys)
    assert rc == 0
    assert d["cycle_mismatches"] == 0 and d["output_mismatches"] == 0
    assert d["outputs_checked"] >= 2 * 16
    assert d["rtl_cycles"] == d["model_cycles"] > 0


def test_generate_pipelined_flag(tmp_path, capsys):
    argv = ["rtl", "generate", "pe-array", "--rows", "4", "--cols", "4", "--n", "2", "--m", "8",
            "--out", str(tmp_path), "--json"]
    assert main(argv + ["--pipelined"]) == 0
    piped = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert piped["params"]["pipelined"] is True and "pipelined" not in plain["params"]
    assert piped["config_hash"] != plain["config_hash"]
    # the shadow accumulators are real extra state in the emitted Verilog
    assert len(open(piped["verilog"]).read()) > len(open(plain["verilog"]).read())


@pytest.mark.parametrize("args, needle", [
    (["--dtype", "fp32"], "--dtype"),
    (["--training", "--prune", "bdwp:2:8"], "--dtype fp16"),
    (["--dtype", "fp16", "--phase", "bwd_data"], "--training"),
    (["--dtype", "fp16", "--phase", "bwd_weight"], "--training"),
    (["--dtype", "fp16", "--training", "--phase", "update"], "--phase"),
    (["--dtype", "fp16", "--acc-bits", "40"], "fixes the widths"),
])
def test_cosim_fp16_bad_input(capsys, args, needle):
    rc = main(["rtl", "cosim", "pe-array", "--workload", "minilm-l6", "--layer", "x", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0], err


def test_generate_fp16_names_and_widths(tmp_path, capsys):
    assert main(["rtl", "generate", "pe-array", "--dtype", "fp16", "--rows", "4", "--cols", "4", "--n", "2",
                 "--m", "8", "--pipelined", "--out", str(tmp_path), "--json"]) == 0
    d = _json(capsys)
    assert d["params"]["dtype"] == "fp16" and d["params"]["acc_bits"] == 32
    assert d["verilog"].endswith("pe4x4_n2m8_fp16acc32_pipe.v")


@pytest.mark.rtl
def test_cosim_fp16_training_bwd_data_cli(capsys):
    """The acceptance command shape (bwd_data: the transposed mask), one tile."""
    rc = main(["rtl", "cosim", "pe-array", "--dtype", "fp16", "--workload", "minilm-l6", "--prune",
               "bdwp:2:8", "--training", "--layer", "encoder.layer.0.intermediate.dense",
               "--phase", "bwd_data", "--max-tiles", "1", "--json"])
    d = _json(capsys)
    assert rc == 0 and d["op"].endswith(":bwd_data") and d["mode"] == "sparse"
    assert d["params"]["n"] == 2 and d["params"]["m"] == 8       # from --prune
    assert d["cycle_mismatches"] == 0 and d["output_mismatches"] == 0
    assert d["outputs_checked"] > 0


def test_synth_fp16_cached_json(capsys):
    """The acceptance command: real Yosys counts of the FP16 4x4 2:8 array (committed
    cache), LUT/FF/DSP48E2/CARRY, and the FP16 model's estimate and LOO error."""
    rc = main(["rtl", "synth", "pe-array", "--dtype", "fp16", "--rows", "4", "--cols", "4", "--n", "2",
               "--m", "8", "--json"])
    assert rc == 0
    d = _json(capsys)
    assert d["cached"] is True and d["params"]["dtype"] == "fp16"
    r = d["resources"]
    assert r["DSP48E2"] == 64 and r["LUT"] > 10 * r["DSP48E2"] and r["FF"] > 0 and r["CARRY"] > 0
    assert d["depth"]["within_200mhz_budget"]            # measured with the synthesis
    assert d["model_estimate"]["dtype"] == "fp16"
    assert d["model_holdout_error"]["LUT"]["mean_rel_error"] < 0.1


def test_rtl_help_lists_registered_blocks(capsys):
    from accel.hw.blocks import registry

    assert main(["rtl", "--help"]) == 0
    out = capsys.readouterr().out
    assert registry.names() and all(name in out for name in registry.names())
    for verb in registry.VERBS:
        assert main(["rtl", verb, "--help"]) == 0
        out = capsys.readouterr().out
        assert all(name in out for name in registry.names())


def test_unknown_block_is_refused(capsys):
    rc = main(["rtl", "cosim", "sorter", "--workload", "minilm-l6", "--layer", "x"])
    assert rc == 2 and "sorter" in capsys.readouterr().err


def test_registry_refuses_a_mislabelled_block():
    from accel.errors import ConfigError
    from accel.hw.blocks import registry

    with pytest.raises(ConfigError, match="unknown RTL block"):
        registry.get("sorter")
    b = registry.get("pe-array")
    assert {o.name for o in b.cli_options("cosim")} >= {"workload", "layer", "rows", "dtype"}
    with pytest.raises(ConfigError, match="unknown verb"):
        b.cli_options("place")


@pytest.mark.parametrize("args, needle", [
    (["--prune", "bdwp:2:8", "--lanes", "12"], "--lanes"),
    (["--n", "4", "--m", "4"], "N < M"),
    (["--m", "6"], "M=6"),
])
def test_cosim_weight_gen_bad_input(capsys, args, needle):
    rc = main(["rtl", "cosim", "weight-gen", "--workload", "minilm-l6", "--layer", "x", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0], err


@pytest.fixture(scope="module")
def minilm_files(tmp_path_factory):
    """A MiniLM inference workload saved dense and saved 2:4-compressed."""
    from accel.workloads import io
    from accel.workloads.builtin import resolve

    d = tmp_path_factory.mktemp("wl")
    for prune in ("dense", "2:4"):
        io.save(resolve("minilm-l6", prune=prune, seq_len=8), d / f"{prune.replace(':', '')}.npz",
                compress=False)
    return d


def test_cosim_weight_gen_refuses_compressed_layer(minilm_files, capsys):
    """Issue 25: an N:M-stored layer holds no dense weight; co-simulating its kept
    values as if they were the weight would be a silently wrong result."""
    rc = main(["rtl", "cosim", "weight-gen", "--workload", str(minilm_files / "24.npz"),
               "--layer", "encoder.layer.0.intermediate.dense", "--prune", "bdwp:2:4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "nm 2:4-compressed" in err[0], err


def test_weight_gen_dense_file_layer_is_its_weight(minilm_files):
    """A dense inference file: the layer's W (out, in) is its op's weight operand,
    transposed, and equals the dense training workload's bwd_data operand."""
    import numpy as np

    from accel.hw.blocks.weight_gen.cosim import dense_weight

    layer = "encoder.layer.0.intermediate.dense"
    w_file = dense_weight(str(minilm_files / "dense.npz"), layer)
    w_builtin = dense_weight("minilm-l6", layer)
    assert w_file.shape == w_builtin.shape == (1536, 384)
    np.testing.assert_array_equal(w_file, w_builtin)


def test_generate_and_synth_weight_gen(tmp_path, capsys):
    assert main(["rtl", "generate", "weight-gen", "--n", "2", "--m", "4", "--lanes", "4",
                 "--out", str(tmp_path), "--json"]) == 0
    d = _json(capsys)
    assert d["verilog"].endswith("wgen_n2m4_l4.v")
    assert "module sparse_weight_gen" in open(d["verilog"]).read()
    assert json.loads(open(d["sidecar"]).read())["params"] == {"n": 2, "m": 4, "lanes": 4}
    # the committed seed: real Yosys counts, no DSP (comparators and muxes in fabric)
    assert main(["rtl", "synth", "weight-gen", "--n", "2", "--m", "4", "--lanes", "4",
                 "--json"]) == 0
    d = _json(capsys)
    assert d["cached"] is True and d["resources"]["DSP48E2"] == 0 and d["resources"]["LUT"] > 0
