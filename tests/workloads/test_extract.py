"""Workloads extracted from the real MiniLM checkpoint (acceptance items of issue 2)."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from accel.errors import WorkloadError
from accel.workloads.checkpoint import model_folder
from accel.workloads.formats import NM
from accel.workloads.prune import magnitude_nm


def group_counts(dense: np.ndarray, m: int) -> np.ndarray:
    """Nonzeros of every group of m consecutive entries along axis 0 (the reduction axis)."""
    k, n = dense.shape
    return (dense != 0).reshape(k // m, m, n).sum(axis=1)


@pytest.mark.parametrize("prune, n, m", [("2:4", 2, 4), ("2:8", 2, 8), ("1:4", 1, 4),
                                         ("4:8", 4, 8)])
def test_nm_extraction_density_and_groups(minilm_workload, prune, n, m):
    w = minilm_workload(prune)
    assert len(w.ops) == 36
    for op in w.ops:
        assert op.phase == "infer" and op.format == "nm" and op.b.axis == 0
        assert abs(op.density - n / m) < 1e-9
        assert np.all(group_counts(op.b.to_dense(), m) == n)


def test_bdwp_training_has_108_gemms_with_masks_on_both_axes(minilm_workload, minilm_weights):
    w = minilm_workload("bdwp:2:8", training=True)
    assert len(w.ops) == 108
    assert [op.phase for op in w.ops[:3]] == ["fwd", "bwd_data", "bwd_weight"]
    for op in w.ops:
        src = minilm_weights[op.source]
        if op.phase == "bwd_weight":
            assert op.format == "dense" and op.M == src.shape[0] and op.K == 32
            continue
        assert abs(op.density - 0.25) < 1e-9
        assert np.all(group_counts(op.b.to_dense(), 8) == 2)
        if op.phase == "fwd":   # B = W^T: groups of input channels, source axis 1
            assert op.source_axis == 1
            np.testing.assert_array_equal(op.b.to_dense() != 0, magnitude_nm(src, 2, 8, 1).T)
        else:                   # B = W: groups of output channels, source axis 0
            assert op.phase == "bwd_data" and op.source_axis == 0
            np.testing.assert_array_equal(op.b.to_dense() != 0, magnitude_nm(src, 2, 8, 0))
            np.testing.assert_array_equal(op.b.to_dense()[op.b.to_dense() != 0],
                                          src[op.b.to_dense() != 0])


def test_dense_extraction_holds_the_real_weights_and_activations(minilm_workload):
    w = minilm_workload("dense")
    raw = load_file(str(model_folder("minilm-l6") / "model.safetensors"))
    op = w.op("encoder.layer.0.intermediate.dense")
    assert (op.M, op.K, op.N) == (32, 384, 1536)
    np.testing.assert_array_equal(op.b.to_dense(), raw["encoder.layer.0.intermediate.dense.weight"].T)
    # C = A @ B is the layer's pre-activation: check against the checkpoint directly
    ref = op.a @ raw["encoder.layer.0.intermediate.dense.weight"].T
    np.testing.assert_allclose(op.a @ op.b.to_dense(), ref, rtol=1e-5, atol=1e-5)
    # INT8 copies approximate the float GEMM
    approx = op.a_scale[:, None] * (op.a_q.astype(np.int32) @ op.b_q.to_dense().astype(np.int32)) \
        * op.b_scale[None, :]
    assert np.abs(approx - ref).max() < 0.05 * np.abs(ref).max()


def test_pruned_kept_values_are_the_checkpoint_values(minilm_workload, minilm_weights):
    op = minilm_workload("2:4").op("encoder.layer.4.attention.self.value")
    dense = op.b.to_dense()
    wt = minilm_weights["encoder.layer.4.attention.self.value"].T
    np.testing.assert_array_equal(dense[dense != 0], wt[dense != 0])
    assert op.b_q.values.dtype == np.int8 and op.a_q.dtype == np.int8
    assert isinstance(op.b_q, NM) and np.array_equal(op.b_q.indices, op.b.indices)


@pytest.mark.parametrize("prune, fmt, dens", [("unstructured:0.3", "unstructured", 0.3),
                                              ("wanda:0.5", "unstructured", 0.5),
                                              ("wanda:2:4", "nm", 0.5),
                                              ("block:4:16", "block", 0.25)])
def test_other_methods(minilm_workload, prune, fmt, dens):
    w = minilm_workload(prune)
    assert {op.format for op in w.ops} == {fmt}
    for op in w.ops:
        size = op.K * op.N
        if prune.startswith("unstructured"):    # round(D * size) over the whole matrix
            assert op.density == round(dens * size) / size
        elif prune.startswith("wanda:0"):       # round(D * in) per output row
            assert op.density == round(dens * op.K) * op.N / size
        elif fmt == "nm":
            assert abs(op.density - dens) < 1e-9
        else:                                   # block: average tile N <= the requested N
            assert dens - 0.02 < op.density <= dens


def test_training_rejects_methods_without_a_training_form():
    from accel.workloads.extract import extract_workload

    with pytest.raises(WorkloadError, match="--training supports"):
        extract_workload(prune="wanda:0.5", training=True, seq_len=8)


def test_resolve_cache_returns_the_same_content(minilm_workload):
    from accel.workloads.builtin import resolve

    first = minilm_workload("2:4")
    again = resolve("minilm-l6", prune="2:4", seq_len=32)  # from the on-disk cache
    assert again is not first and again.content_id() == first.content_id()
