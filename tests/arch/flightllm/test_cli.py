"""`accel sim flightllm` in-process: JSON keys and one-line errors with exit code 2."""

import json

import pytest

from accel.cli import main

KEYS = ("prefill_ms", "decode_ms_per_token", "decode_tokens_per_s", "end_to_end_tokens_per_s",
        "hbm_utilization", "unit_busy", "energy_j", "tokens_per_j", "instruction_bytes",
        "gpu_baselines", "sim_wall_s")


def test_json_keys(tiny_config, capsys):
    rc = main(["sim", "flightllm", "--model", tiny_config, "--prefill", "16", "--decode", "8",
               "--set", "max_length=256", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    for k in KEYS:
        assert k in d
    assert set(d["decode_ms_per_token"]) == {"mean", "first", "last"}
    assert {"v100s_fp16", "a100_fp16"} <= set(d["gpu_baselines"])
    assert set(d["unit_busy"]) == {"LD", "ST", "MM", "MV", "MISC", "SYS"}


@pytest.mark.parametrize("args,needle", [
    (["--model", "gpt5"], "unknown model"),
    (["--device", "h100"], "unknown preset"),
    (["--prefill", "0"], "--prefill must be positive"),
    (["--decode", "-3"], "--decode must be positive"),
    (["--prefill", "3000", "--set", "hbm_capacity_gb=6.5"], "KV capacity of"),
    (["--prefill", "5000"], "exceeds llama2-7b's 4096 positions"),
    (["--sparsity", "6:16"], "unsupported N=6"),
    (["--sparsity", "2:8"], "unsupported M=8"),
    (["--weight-bits", "5"], "weight bits 5 not supported"),
])
def test_bad_input(args, needle, capsys):
    rc = main(["sim", "flightllm", "--decode", "4", *args, "--json"] if "--decode" not in args
              else ["sim", "flightllm", *args, "--json"])
    err = capsys.readouterr()
    assert rc == 2
    assert needle in err.err and len(err.err.strip().splitlines()) == 1
    assert err.out == ""


def test_each_preset_runs_its_own_decode_dataflow(tiny_config, capsys):
    """``--device vhk158-artifact`` runs the artifact's dataflow (every op through HBM,
    MISC fused into MV) unless told otherwise; ``u280`` keeps decode on chip; the flag
    overrides either."""
    def run(*extra):
        rc = main(["sim", "flightllm", "--model", tiny_config, "--prefill", "16", "--decode",
                   "4", "--set", "max_length=256", *extra, "--json"])
        assert rc == 0
        return json.loads(capsys.readouterr().out)

    art = run("--device", "vhk158-artifact")
    assert art["options"]["on_chip_decode"] is False
    off = run("--device", "vhk158-artifact", "--no-on-chip-decode")
    assert off["decode_ms_per_token"] == art["decode_ms_per_token"]
    on = run("--device", "vhk158-artifact", "--on-chip-decode")
    assert on["options"]["on_chip_decode"] is True
    assert on["decode_ms_per_token"] != art["decode_ms_per_token"]
    assert run()["options"]["on_chip_decode"] is True            # u280
    assert run("--no-on-chip-decode")["options"]["on_chip_decode"] is False
