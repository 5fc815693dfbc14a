"""A configuration that passes validation runs: every machine, every numeric field.

``accel sim piuma --set dram_interleave_bytes=4`` was accepted and then died in the
engine with a ZeroDivisionError (exit 1, a traceback) instead of exit 2 and one ``error:``
line.  This is the generic check of that promise (DESIGN "Robustness": validation
happens once, at the edge, before any work): for each registered machine, each int/float
field of its default preset is set (``--set``) to a few edge values; a value validation
refuses (an AccelError from ``apply_overrides``) is skipped, and every value it accepts
must run ``accel sim <machine>`` on a tiny workload to exit 0, or to exit 2 with one
``error:`` line: never another exception, never a hang.  Each machine runs the options
that reach the most of its code (every PIUMA algorithm; systolic and flightllm also
compute their outputs, which is where a flightllm weight tile smaller than one stripe
failed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_harness import run_cli

from accel.arch import registry
from accel.configs import field_types
from accel.errors import AccelError

# `accel sim <machine>` arguments of a tiny run ({npz}, {llm}: the files the fixtures below
# write), and config overrides every run of that machine carries under the tested one:
# flightllm counts the instruction storage of every length up to max_length (4,096
# programs at the preset's 2048, ~0.3 s a run), so its runs serve lengths up to 256.
TINY = {
    "sat": (["--workload", "{npz}"], {}),
    "flightllm": (["--model", "{llm}", "--prefill", "3", "--decode", "2", "--compute"],
                  {"max_length": 256}),
    "piuma": (["--workload", "rmat:4", "--algo", "all"], {}),
    "systolic": (["--workload", "{npz}", "--compute"], {}),
}
# One LLaMA layer, K = 128 and 256: a 16-column stripe of its weights (~2-4 KB) is wider
# than the smallest weight tiles, as a 7B model's (~60-170 KB) is wider than smaller ones.
TINY_LLM = {"model_type": "llama", "hidden_size": 128, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 2, "intermediate_size": 256,
            "vocab_size": 256, "hidden_act": "silu", "rms_norm_eps": 1e-5,
            "max_position_embeddings": 2048}
INTS = (0, 1, 2, 3, 7, 9, 12, 17, 255)
FLOATS = (1e-3, 0.5, 1.5)


def _preset(machine: str):
    m = registry.get(machine)
    return m.presets()[m.default_preset()]


def _numeric_fields(machine: str) -> list[str]:
    return [f for f, t in field_types(type(_preset(machine))).items() if t in (int, float)]


def edge_values(default: int | float, typ: type) -> list:
    """The edge values tried for a field: small and odd sizes, and the preset's +-1."""
    return sorted({*(INTS if typ is int else FLOATS), default - 1, default + 1} - {default})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """npz: two layers' training GEMMs (fwd, bwd_data, bwd_weight), 2:8 BDWP, 16 tokens;
    llm: TINY_LLM as a Hugging Face config.json."""
    from accel.workloads import io
    from accel.workloads.ops import Workload
    from accel.workloads.training import training_ops

    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    ops = []
    for i, (out_ch, in_ch) in enumerate(((40, 24), (24, 40))):
        w = rng.standard_normal((out_ch, in_ch)).astype(np.float32)
        x = rng.standard_normal((16, in_ch)).astype(np.float32)
        ops += training_ops(f"l{i}", w, x, 2, 8, seed=0)
    (folder / "config.json").write_text(json.dumps(TINY_LLM))
    return {"npz": io.save(Workload("tiny", ops), folder / "tiny.npz"),
            "llm": folder / "config.json"}


def test_every_machine_has_a_tiny_run():
    assert set(TINY) == set(registry.MACHINES), "give each machine a tiny run in TINY"


@pytest.mark.timeout(120)   # a hang guard: the slowest field (piuma cores) takes ~3 s here
@pytest.mark.parametrize("machine,field", [
    pytest.param(m, f, id=f"{m}-{f}") for m in registry.MACHINES if m in TINY
    for f in _numeric_fields(m)])
def test_validated_config_runs_or_refuses(machine, field, files, tmp_path):
    m = registry.get(machine)
    preset = _preset(machine)
    args, base = TINY[machine]
    typ = field_types(type(preset))[field]
    failures = []
    for value in edge_values(getattr(preset, field), typ):
        sets = {**base, field: value}
        try:
            m.build_config(None, sets)
        except AccelError:
            continue                        # refused at the edge: what validation is for
        argv = ["sim", machine, *(a.format(**files) for a in args)]
        for k, v in sets.items():
            argv += ["--set", f"{k}={v!r}"]
        try:
            rc, _, err = run_cli(argv, tmp_path)
        except Exception as exc:            # not an AccelError: what the test looks for
            failures.append(f"{field}={value!r}: {type(exc).__name__}: {exc}")
            continue
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if rc not in (0, 2) or "Traceback" in err or (
                rc == 2 and not (len(lines) == 1 and lines[0].startswith("error:"))):
            failures.append(f"{field}={value!r}: exit {rc}: {err.strip()[-300:]}")
    assert not failures, (f"accel sim {machine} {' '.join(args)}: validated, did not run:\n"
                          + "\n".join(failures))
