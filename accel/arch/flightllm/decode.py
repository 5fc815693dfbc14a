"""Decode-step programs: always-on-chip decode and decode via HBM, one function each.

Both emit through ``compiler.Builder``; see compiler.py's docstring for the dataflows.
"""

from __future__ import annotations

import numpy as np

from accel.arch.flightllm.compiler import (
    K_ACT_VEC,
    K_ACTFN,
    K_ELT,
    K_EMBED,
    K_KV,
    K_NORM,
    K_SOFTMAX,
    K_SYNC,
    LD,
    MISC,
    MV,
    ST,
    SYS,
    Builder,
    OpTiles,
    assemble_layers,
    bit,
    pad_cols,
    pos_kind,
)
from accel.arch.flightllm.config import FlightLLMConfig
from accel.workloads.llm import LLMShape


def decode_program(shape: LLMShape, tiles: dict[str, OpTiles], cfg: FlightLLMConfig,
                   ctx: int, on_chip: bool = True, ops: list | None = None) -> np.ndarray:
    """Instructions of one decode step with ``ctx`` tokens in context (current included);
    ``ops`` (a list) receives the op table the records' ``op`` index (on-chip decode)."""
    return assemble_layers(decode_parts(shape, tiles, cfg, ctx, on_chip, ops), shape.layers)


def decode_parts(shape: LLMShape, tiles: dict[str, OpTiles], cfg: FlightLLMConfig,
                 ctx: int, on_chip: bool = True, ops: list | None = None,
                 builder: type[Builder] = Builder):
    """(prologue, one layer, epilogue) of a decode step; layers repeat the middle part
    (``builder=RowCounter``: only their row counts are meaningful)."""
    d = _DecodeShape(shape, cfg, ctx)
    if on_chip:
        return _decode_on_chip(d, tiles, [] if ops is None else ops, builder)
    return _decode_via_hbm(d, tiles, builder)


class _DecodeShape:
    """Sizes one decode step's ops share: widths, bytes per element, MV padding."""

    def __init__(self, shape: LLMShape, cfg: FlightLLMConfig, ctx: int):
        self.shape, self.cfg, self.ctx = shape, cfg, ctx
        self.h, self.kv, self.f, self.heads = shape.hidden, shape.kv_dim, shape.ffn, shape.heads
        self.ab = cfg.act_bits // 8 or 1
        self.entry = self.kv * max(1, cfg.kv_bits // 8)      # one token's K (or V), all KV heads
        self.hd = self.h // self.heads
        # per head, QK^T is an MV of N = ctx columns and AV one of N = head_dim columns, each
        # padded to whole MV instructions [artifact IR_attention_mv.py]
        self.pad_qk = self.heads * pad_cols(ctx, cfg.mv_cols_per_instr) * self.hd
        self.pad_av = self.heads * ctx * pad_cols(self.hd, cfg.mv_cols_per_instr)
        self.per = max(1, cfg.kv_buffer_kb * 1024 // self.entry)   # entries per KV chunk
        self.pos = pos_kind(shape)

    def concat(self, b: Builder) -> None:
        """The KV concat re-reads the cached K and V before attention; the new entry is
        appended on chip [artifact IR_concat.py]."""
        if self.ctx > 1:
            b.new_op()
            b.emit(LD, 1, nbytes=2 * (self.ctx - 1) * self.entry, kind=K_KV)


def _decode_on_chip(d: _DecodeShape, tiles: dict[str, OpTiles], ops: list,
                    builder: type[Builder] = Builder):
    """Always-on-chip decode [paper]: activations stay in the global buffer, q/k/v and
    gate/up are one weight stream each, MISC ops hand tokens to MV directly."""
    cfg, h, kv, ctx = d.cfg, d.h, d.kv, d.ctx
    pro, b, epi = (builder(cfg, vectors=True, ops=ops) for _ in range(3))
    pro.begin("embed")
    pro.emit(LD, 1, nbytes=h * 2, rel=bit(MISC), kind=K_EMBED)       # FP16 embedding row
    pro.misc(h, wait=bit(LD), rel=0, kind=K_EMBED)
    b.begin("norm", "in")
    b.misc(h, wait=0, rel=bit(MV), kind=K_NORM)
    b.begin("linear", "qkv")
    b.linear(tiles["qkv"], 1, wait_first=bit(MISC), rel_last=bit(MISC), bias=True)
    b.begin("rope")
    b.misc(h + kv, wait=bit(MV), rel=bit(MV) | bit(ST), kind=d.pos)
    # append k, v: like the authors' k/v projection outputs, the new entry is written by a
    # one-channel store from its fixed buffer (artifact IR_linear_mv ST,
    # parallel_channel_num 1), not striped at a context-dependent address
    b.begin("kv_append")
    b.emit(ST, 1, nbytes=2 * d.entry, wait=bit(MISC), kind=K_ACT_VEC, split=cfg.cores)
    b.begin("concat")
    d.concat(b)
    if cfg.softmax_per_head:
        b.qk_softmax_heads(ctx, d.hd, d.heads, d.entry, wait_first=bit(MISC),
                           rel_last=bit(MV), store=False, tag=True)
    else:     # ablation: one softmax after every head's scores
        b.begin("qk", d.per)
        b.kv_stream(MV, ctx, d.entry, h, wait_first=bit(MISC), rel_last=bit(MISC),
                    cached=ctx - 1, pad_slots=d.pad_qk, heads=d.heads)
        b.begin("softmax")
        b.misc(d.heads * ctx, wait=bit(MV), rel=bit(MV), kind=K_SOFTMAX)
    b.begin("av", d.per)
    b.kv_stream(MV, ctx, d.entry, h, wait_first=bit(MISC), rel_last=0, cached=ctx - 1,
                pad_slots=d.pad_av, heads=d.heads)
    b.begin("linear", "o_proj")
    b.linear(tiles["o_proj"], 1, rel_last=bit(MISC), bias=True)
    b.begin("residual_norm")
    b.misc(2 * h, wait=bit(MV), rel=bit(MV), kind=K_NORM)           # residual + norm fused
    b.begin("linear", "ffn_in")
    b.linear(tiles["ffn_in"], 1, wait_first=bit(MISC), rel_last=bit(MISC))
    b.begin("act_fn")
    b.misc(d.f, wait=bit(MV), rel=bit(MV), kind=K_ACTFN)
    b.begin("linear", "ffn_out")
    b.linear(tiles["ffn_out"], 1, wait_first=bit(MISC), rel_last=bit(MISC))
    b.begin("residual")
    b.misc(h, wait=bit(MV), rel=0, kind=K_ELT)                      # residual
    epi.begin("norm", "final")
    epi.misc(h, wait=0, rel=bit(MV), kind=K_NORM)
    epi.begin("linear", "lm_head")
    epi.linear(tiles["lm_head"], 1, wait_first=bit(MISC), rel_last=bit(MISC))
    epi.begin("argmax")
    epi.misc(d.shape.vocab, wait=bit(MV), rel=bit(SYS), kind=K_ELT)  # argmax
    epi.emit(SYS, 1, cycles=cfg.sys_sync_cycles, wait=bit(MISC), kind=K_SYNC)
    return pro.build(), b.build(), epi.build()


def _decode_via_hbm(d: _DecodeShape, tiles: dict[str, OpTiles],
                    builder: type[Builder] = Builder):
    """Decode with every op's output stored to HBM and loaded back by its consumer.
    ``fuse_misc_into_mv``: the artifact's generator, MISC ops fused behind the MV that
    feeds them and the softmax per head behind QK^T; else the paper's off-chip baseline,
    every op (q, k, v, each MISC) its own HBM round trip."""
    cfg, h, kv, f, ctx, ab, heads = d.cfg, d.h, d.kv, d.f, d.ctx, d.ab, d.heads
    pro, b, epi = (builder(cfg, vectors=True) for _ in range(3))
    fz = cfg.fuse_misc_into_mv
    pro.hbm_misc(h * 2, h * ab, h, K_EMBED, in_wait=0)
    b.hbm_misc(h * ab, h * ab, h, K_NORM)
    for name in ("q_proj", "k_proj", "v_proj"):
        n_out = tiles[name].N
        # RoPE (x*cos + rotate(x)*sin: three eltwise ops) rides on q and k
        fuse = (3 * n_out, d.pos, 2 * n_out * ab) if fz and name != "v_proj" else None
        b.linear_hbm(tiles[name], 1, fuse=fuse, bias=True)
    if not fz:
        b.hbm_misc((h + kv) * ab, (h + kv) * ab, h + kv, d.pos)
    d.concat(b)
    if fz:      # softmax per head behind QK^T, then the scores stored
        b.qk_softmax_heads(ctx, d.hd, heads, d.entry, h * ab)
    else:       # scores stored for a separate softmax op
        b.kv_stream(MV, ctx, d.entry, h, wait_first=0, rel_last=bit(ST),
                    ld_first_wait=bit(ST), act_bytes=h * ab, cached=ctx - 1,
                    pad_slots=d.pad_qk, heads=heads)
        b.emit(ST, 1, nbytes=heads * ctx * ab, wait=bit(MV), rel=bit(LD), kind=b.k_act,
               split=cfg.cores)
        b.hbm_misc(heads * ctx * ab, heads * ctx * ab, heads * ctx, K_SOFTMAX)
    b.kv_stream(MV, ctx, d.entry, h, wait_first=0, rel_last=bit(ST), ld_first_wait=bit(ST),
                act_bytes=heads * ctx * ab, cached=ctx - 1, pad_slots=d.pad_av, heads=heads)
    b.emit(ST, 1, nbytes=h * ab, wait=bit(MV), rel=bit(LD), kind=b.k_act, split=cfg.cores)
    residual = (h, K_ELT, h * ab) if fz else None
    b.linear_hbm(tiles["o_proj"], 1, fuse=residual, bias=True)
    if not fz:
        b.hbm_misc(2 * h * ab, h * ab, h, K_ELT)
    b.hbm_misc(h * ab, h * ab, h, K_NORM)
    ffn_in = ("gate_proj", "up_proj") if d.shape.ffn_kind == "swiglu" else ("fc1",)
    for j, name in enumerate(ffn_in):
        fuse = None
        if fz:      # SiLU on gate; the gate x up product on up (reads gate's output)
            fuse = (f, K_ACTFN, 0) if j == 0 else (f, K_ELT, f * ab)
        b.linear_hbm(tiles[name], 1, fuse=fuse)
    if not fz:
        b.hbm_misc(len(ffn_in) * f * ab, f * ab, f, K_ACTFN)
    b.linear_hbm(tiles["ffn_out"], 1, fuse=residual)
    if not fz:
        b.hbm_misc(2 * h * ab, h * ab, h, K_ELT)
    epi.hbm_misc(h * ab, h * ab, h, K_NORM)
    epi.linear_hbm(tiles["lm_head"], 1)
    epi.hbm_misc(d.shape.vocab * ab, 4, d.shape.vocab, K_ELT, out_rel=bit(SYS))
    epi.emit(SYS, 1, cycles=cfg.sys_sync_cycles, wait=bit(ST), kind=K_SYNC)
    return pro.build(), b.build(), epi.build()
