"""Shared fixtures of the RTL tests: real pruned MiniLM layers as PE-array tiles."""

from __future__ import annotations

import numpy as np
import pytest

from accel.hw.blocks.pe_array import cosim
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.workloads.formats import nm_compress

SEQ_LEN = 8   # tokens: 2 row blocks of a 4-row array; enough tiles, cheap extraction
LAYERS = ("encoder.layer.0.attention.self.query", "encoder.layer.0.intermediate.dense",
          "encoder.layer.0.output.dense")


def minilm_op(prune: str, layer: str):
    from accel.workloads.builtin import resolve

    wl = resolve("minilm-l6", prune=prune, seq_len=SEQ_LEN)
    return next(op for op in wl.ops if op.name == layer)


def layer_tiles(p: ArrayParams, prune: str, per_layer: int = 2, layers=LAYERS) -> list:
    tiles = []
    for layer in layers:
        tiles += cosim.op_tiles(minilm_op(prune, layer), p, max_tiles=per_layer)
    return tiles


def ragged_k_tile(p: ArrayParams, prune: str, k: int):
    """Real Q-projection operands cut to a K that is not a multiple of M, re-pruned
    with the same magnitude rule (the padding rule of formats.nm_compress)."""
    op = minilm_op("dense", LAYERS[0])
    a = np.asarray(op.a_q[: p.rows, :k], dtype=np.int64)
    w = np.asarray(op.b_q.to_dense()[:k, : p.cols], dtype=np.int64)
    name = f"ragged_k{k}_{prune}"
    if prune == "dense":
        return cosim.make_tile(name, p, a, w_dense=w)
    nm = nm_compress(w, p.n, p.m)
    return cosim.make_tile(name, p, a, w_vals=nm.values, w_idx=nm.indices)


def extreme_tile(p: ArrayParams, beats: int):
    """Rows of all -128 / all 127 against columns of all -128 / all 127 for ``beats``
    beats: every accumulator ends within 1 % of +-2^31 without wrapping."""
    k = beats * p.m
    a = np.where(np.arange(p.rows)[:, None] % 2 == 0, -128, 127) * np.ones((1, k), np.int64)
    g = beats
    vals = np.where(np.arange(p.cols)[None, :] % 2 == 0, -128, 127) * np.ones((g * p.n, 1),
                                                                                np.int64)
    idx = np.tile(np.arange(p.n), g)[:, None].repeat(p.cols, axis=1)
    return cosim.make_tile(f"extreme_{beats}beats", p, a, w_vals=vals, w_idx=idx)


@pytest.fixture(scope="session")
def rtl_tiles():
    return {"layer_tiles": layer_tiles, "ragged": ragged_k_tile, "extreme": extreme_tile,
            "minilm_op": minilm_op}
