"""``compiler.RowCounter`` sizes programs without building them (instruction storage counts
4,096 of them): its row counts must equal those of the built programs, for prefill and
both decode dataflows, on every preset, at lengths around every edge of every block plan
(token groups, attention blocks, MV key blocks, KV chunks, buckets), taken from the
configuration so a changed default is still covered."""

import dataclasses

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm.decode import decode_parts
from accel.arch.flightllm.model import shape_of, weight_block_ns
from accel.errors import ConfigError
from accel.workloads.llm import llm_workload

LENGTHS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257)


def _edges(cfg, shape):
    """Lengths either side of each block edge of ``cfg`` (two edges of each), up to its
    ``max_length``: where a row count can change."""
    entry = shape.kv_dim * max(1, cfg.kv_bits // 8)
    kv_chunk = max(1, cfg.kv_buffer_kb * 1024 // entry)
    sizes = (cfg.mm_token_tile, cfg.attn_block, cfg.mv_cols_per_instr, kv_chunk,
             cfg.prefill_bucket, cfg.decode_bucket)
    edges = {k * t + d for t in sizes for k in (1, 2) for d in (-1, 0, 1, 2)}
    return sorted(n for n in edges | set(LENGTHS) if 1 <= n <= cfg.max_length)


def _inputs(model, sparsity, cfg):
    wl = llm_workload(model, 16, 4, sparsity=sparsity)
    shape = shape_of(wl)
    return shape, C.fused_tiles(shape, weight_block_ns(wl, shape), cfg)


def _rows(parts):
    return [len(p) for p in parts]


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("model,sparsity", [("llama2-7b", "2:16"), ("opt-6.7b", "dense"),
                                            ("tiny", "4:16")])
def test_row_counter_sizes_every_program_as_built(preset, model, sparsity, tiny_config):
    cfg = dataclasses.replace(PRESETS[preset], max_length=1100)
    shape, tiles = _inputs(tiny_config if model == "tiny" else model, sparsity, cfg)
    lengths = _edges(cfg, shape)
    assert 2 * cfg.mv_cols_per_instr + 1 in lengths     # the MV key blocks' second edge
    for n in lengths:
        built = C.prefill_parts(shape, tiles, cfg, n)
        counted = C.prefill_parts(shape, tiles, cfg, n, builder=C.RowCounter)
        assert _rows(counted) == _rows(built), ("prefill", n)
        for on_chip in (True, False):
            built = decode_parts(shape, tiles, cfg, n, on_chip)
            counted = decode_parts(shape, tiles, cfg, n, on_chip, builder=C.RowCounter)
            assert _rows(counted) == _rows(built), ("decode", on_chip, n)


@settings(max_examples=40, deadline=None)
@given(preset=st.sampled_from(sorted(PRESETS)),
       mv_cols=st.sampled_from([16, 32, 48, 512]), token_tile=st.integers(1, 80),
       attn_block=st.integers(1, 80), kv_kb=st.sampled_from([1, 2, 3, 64]),
       cores=st.integers(1, 4), stream=st.booleans(), bias=st.booleans(), fuse=st.booleans(),
       per_head=st.booleans(), broadcast=st.booleans(), whole=st.booleans(),
       length=st.integers(1, 300))
def test_row_counter_on_any_block_plan(tiny_config, preset, mv_cols, token_tile, attn_block,
                                       kv_kb, cores, stream, bias, fuse, per_head, broadcast,
                                       whole, length):
    """Configurations the presets never take (tiny blocks and chunks, one SLR or four,
    every dataflow switch), at any length: the counts still equal the built programs'."""
    cfg = dataclasses.replace(
        PRESETS[preset], max_length=512, mv_cols_per_instr=mv_cols, mm_token_tile=token_tile,
        attn_block=attn_block, kv_buffer_kb=kv_kb, cores=cores, prefill_weight_stream=stream,
        int32_bias_qkvo=bias, fuse_misc_into_mv=fuse, softmax_per_head=per_head,
        slr_broadcast_inputs=broadcast, slr_whole_instr_split=whole)
    try:
        cfg.validate()
    except ConfigError:     # e.g. a weight tile larger than one SLR's buffer
        assume(False)
    shape, tiles = _inputs(tiny_config, "2:16", cfg)
    assert _rows(C.prefill_parts(shape, tiles, cfg, length, builder=C.RowCounter)) == \
        _rows(C.prefill_parts(shape, tiles, cfg, length))
    for on_chip in (True, False):
        assert _rows(decode_parts(shape, tiles, cfg, length, on_chip, builder=C.RowCounter)) == \
            _rows(decode_parts(shape, tiles, cfg, length, on_chip)), on_chip
