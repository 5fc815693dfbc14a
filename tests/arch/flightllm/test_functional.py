"""The compiled decode program computes what it times: executed row by row on a seeded
INT8 block-N:M LLaMA, it equals a NumPy forward pass of the same quantised model."""

import dataclasses
import json

import numpy as np
import pytest

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm import decode as D
from accel.arch.flightllm.functional import (
    TOLERANCE,
    ComputeRun,
    KVCache,
    execute_step,
    reference_step,
    run_compute,
)
from accel.arch.flightllm.model import weight_block_ns
from accel.cli import main
from accel.errors import AccelError
from accel.workloads.llm import llm_workload, shape_of


@pytest.fixture(scope="module")
def gqa_config(tmp_path_factory):
    """Tiny LLaMA with grouped KV heads (4 query heads share 2 KV heads)."""
    p = tmp_path_factory.mktemp("fl") / "config.json"
    p.write_text(json.dumps({
        "model_type": "llama", "hidden_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 256,
        "vocab_size": 512, "hidden_act": "silu", "rms_norm_eps": 1e-5,
        "max_position_embeddings": 2048}))
    return str(p)


# 1 KB KV chunks (16 entries of 64 B) and 8 KB weight tiles: several chunks and tiles
CFG = dataclasses.replace(PRESETS["u280"], kv_buffer_kb=1, weight_tile_kb=8, max_length=256)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compute_matches_numpy_reference(gqa_config, seed):
    w = llm_workload(gqa_config, 18, 4, sparsity="mixed:0.5", seed=seed)
    r = run_compute(w, CFG, seed)
    assert r["steps"] == 22 and len(r["generated"]) == 5
    assert r["ok"], r
    assert r["max_hidden_rel_err"] <= TOLERANCE and r["max_logits_rel_err"] <= TOLERANCE


@pytest.mark.parametrize("cols, per_head", [(16, True), (512, False)])
def test_compute_attention_variants(gqa_config, cols, per_head):
    """Per-head QK^T + softmax over several 16-key MV blocks (the last holding the on-chip
    key), and the one-softmax-after-all-heads program: both equal the reference."""
    cfg = dataclasses.replace(CFG, mv_cols_per_instr=cols, softmax_per_head=per_head)
    w = llm_workload(gqa_config, 18, 4, sparsity="mixed:0.5", seed=3)
    r = run_compute(w, cfg, 3)
    assert r["ok"], r
    ops: list = []
    shape = shape_of(w)
    D.decode_program(shape, C.fused_tiles(shape, weight_block_ns(w, shape), cfg), cfg, 20,
                     True, ops)
    names = {o[0] for o in ops}
    assert ("qk_head" in names) == per_head and ("softmax" in names) != per_head


def _setup(cfg_path, seed=0):
    w = llm_workload(cfg_path, 8, 4, sparsity="mixed:0.5", seed=seed)
    shape = shape_of(w)
    bns = weight_block_ns(w, shape)
    return ComputeRun(shape, C.fused_tiles(shape, bns, CFG), bns, CFG, seed)


def test_wrong_program_gives_wrong_answer(gqa_config):
    """The comparison can fail: drop the FFN residual add of layer 1 and the logits move;
    drop a weight tile's MV and the executor refuses."""
    run = _setup(gqa_config)
    for pos, tok in enumerate((5, 9, 11)):
        run.step(tok, pos)
    ops: list = []
    prog = D.decode_program(run.shape, run.tiles, CFG, 4, True, ops)
    res_op = ops.index(("residual",))
    drop = np.nonzero(prog["op"] == res_op)[0][-1]
    cache = KVCache([list(x) for x in run.cache.k], [list(x) for x in run.cache.v])
    ref = KVCache([list(x) for x in run.ref_cache.k], [list(x) for x in run.ref_cache.v])
    _, logits, _ = execute_step(np.delete(prog, drop, 0), ops, run.model, run.hbm, cache, 7,
                                3, CFG)
    _, rl = reference_step(run.model, ref, 7, 3)
    assert np.abs(logits - rl).max() > 1e-3 * np.abs(rl).max()
    qkv = np.nonzero((prog["unit"] == C.MV) & (prog["op"] == ops.index(("linear", "qkv"))))[0]
    mv = qkv[len(qkv) // 2 - 1]                  # layer 0's last qkv tile
    with pytest.raises(AccelError, match="never computed"):
        execute_step(np.delete(prog, mv, 0), ops, run.model, run.hbm, KVCache.empty(2), 7, 0,
                     CFG)


def test_cli_compute_and_its_limits(gqa_config, capsys):
    rc = main(["sim", "flightllm", "--model", gqa_config, "--prefill", "6", "--decode", "4",
               "--set", "max_length=256", "--compute", "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["compute"]["ok"]
    for args, needle in ((["--model", "llama2-7b"], "--compute runs models up to"),
                         (["--model", gqa_config, "--prefill", "300", "--set",
                           "max_length=512"], "--compute runs at most"),
                         (["--model", gqa_config, "--no-on-chip-decode", "--set",
                           "max_length=256"], "--compute executes on-chip")):
        rc = main(["sim", "flightllm", "--decode", "4", "--compute", *args])
        err = capsys.readouterr().err
        assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1
