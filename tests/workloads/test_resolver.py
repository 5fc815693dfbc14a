"""accel.workloads.builtin.resolve is the one resolver: every built-in name, every knob."""

from __future__ import annotations

import numpy as np
import pytest

from accel.errors import WorkloadError
from accel.workloads.builtin import resolve
from accel.workloads.kinds import workload_kind


def test_resnet18_is_the_cnn_training_workload():
    from accel.workloads.cnn import cnn_workload

    w = resolve("resnet18", prune="bdwp:2:8", batch=1)
    assert workload_kind(w) == "training"
    assert {op.phase for op in w.ops} == {"fwd", "bwd_data", "bwd_weight"}
    assert w.content_id() == cnn_workload("resnet18", prune="bdwp:2:8", batch=1).content_id()


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vit-b16"])
def test_vision_names_reach_the_cnn_builder_with_every_knob(name, monkeypatch):
    # (building resnet50 / vit-b16 takes GBs; the builder itself is tested in test_accuracy_cnn)
    from accel.workloads import cnn

    calls = []
    monkeypatch.setattr(cnn, "cnn_workload", lambda *a, **k: calls.append((a, k)) or "built")
    assert resolve(name.upper(), prune="2:4", seed=7) == "built"
    assert calls == [((name,), {"prune": "2:4", "batch": None, "seed": 7})]


def test_llm_knobs_and_spec_suffix_agree():
    a = resolve("llama2-7b", prefill=64, decode=32, sparsity="4:16", seed=3)
    b = resolve("llama2-7b:64:32", prune="4:16", seed=3)
    assert workload_kind(a) == "llm"
    assert a.content_id() == b.content_id()
    assert resolve("llama2-7b").content_id() == resolve("llama2-7b:128:512").content_id()


def test_minilm_weight_name():
    w = resolve("minilm-weight:encoder.layer.0.attention.self.query:0.2")
    op = w.ops[0]
    assert workload_kind(w) == "spgemm" and op.a.shape == (384, 384)
    assert op.a.nnz == pytest.approx(0.2 * 384 * 384, rel=0.01)
    np.testing.assert_array_equal(op.b.to_dense(), op.a.to_dense().T)
    with pytest.raises(WorkloadError, match="density 'x' is not a number"):
        resolve("minilm-weight:encoder.layer.0.attention.self.query:x")


def test_unknown_name_lists_every_builtin():
    with pytest.raises(WorkloadError) as e:
        resolve("resnet-18")
    for name in ("resnet18", "vit-b16", "minilm-weight", "rmat:S", "llama2-7b"):
        assert name in str(e.value)


def test_hf_config_json_is_an_llm_workload(tiny_llm_config):
    from accel.workloads.llm import llm_workload

    w = resolve(tiny_llm_config, prefill=16, decode=8, sparsity="8:16", seed=2)
    assert workload_kind(w) == "llm"
    assert w.content_id() == llm_workload(tiny_llm_config, 16, 8, sparsity="8:16",
                                          seed=2).content_id()
