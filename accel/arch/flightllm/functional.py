"""Functional executor: a compiled decode program run instruction by instruction on arrays.

The timing model (``_kernels.execute``) only times the instruction stream; this module
shows the stream *is* a LLaMA decode step.  Every row of an on-chip decode program
(``compiler.decode_program(..., ops=table)``) is executed in program order against
named on-chip buffers and an "HBM" of weight tiles and the KV cache:

* LD of weight tile k puts that tile's Block into a slot, the MV of tile k takes it out
  and computes its output columns on the sparse DSP chain (``dsp_chain.chain_gemm``);
* MISC rows run RMSNorm, RoPE, softmax, SiLU x up, residual adds and the argmax;
* the k/v store appends the new entry to the INT8 KV cache; KV LDs copy chunks of it
  on chip and the attention MVs consume exactly those chunks.

The quantised model (``QuantModel``) is a small LLaMA with seeded INT8 block-N:M weights
(the workload's ``block_n``, one INT8 scale per output column), INT8 activations at every
MV input (one scale per vector), an INT8 KV cache (one scale per entry) and INT8
probabilities (scale 1/127); norms, RoPE, softmax and SiLU in float64.
``reference_step`` is the same model written as a plain NumPy forward pass.  The
executor's integer products are exact, so the two differ only by float64
re-association of the chunked attention sums (the stated tolerance, ``TOLERANCE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.arch.flightllm import compiler as C
from accel.arch.flightllm import decode as D
from accel.arch.flightllm.config import FlightLLMConfig
from accel.arch.flightllm.dsp_chain import chain_gemm
from accel.arch.flightllm.tiles import OpTiles
from accel.errors import AccelError
from accel.workloads.formats import block_compress
from accel.workloads.llm import SPARSE_M, LLMShape

# relative to the largest magnitude of the compared vector: float64 re-association only;
# one flipped INT8 rounding anywhere upstream would show as >~ 1/127 of it
TOLERANCE = 1e-9
MAX_COMPUTE_PARAMS = 50_000_000     # --compute: linear parameters the executor accepts
ROPE_BASE = 10000.0                 # LLaMA rotary base
RMS_EPS = 1e-5                      # LLaMA rms_norm_eps
STREAMS = {"qkv": ("q_proj", "k_proj", "v_proj"), "ffn_in": ("gate_proj", "up_proj"),
           "o_proj": ("o_proj",), "ffn_out": ("down_proj",)}


def quant(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric INT8 with one scale: (q, s) with x ~ q * s."""
    m = float(np.abs(x).max())
    s = m / 127.0 if m > 0 else 1.0
    return np.clip(np.rint(x / s), -127, 127).astype(np.int8), s


def rms_norm(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x) + RMS_EPS) * w


def rope(x: np.ndarray, pos: int, head_dim: int) -> np.ndarray:
    """Rotate-half RoPE on a (heads * head_dim,) vector at position ``pos``."""
    half = head_dim // 2
    ang = pos * ROPE_BASE ** (-np.arange(half) * 2.0 / head_dim)
    c, s = np.cos(ang), np.sin(ang)
    v = x.reshape(-1, head_dim)
    x1, x2 = v[:, :half], v[:, half:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=1).reshape(-1)


def softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


@dataclass
class QuantModel:
    shape: LLMShape
    embed: np.ndarray                     # (vocab, hidden) float64
    norms: dict                           # (layer, "in"|"post") or "final" -> (hidden,)
    dense: dict                           # (layer, stream) -> INT8 (K, N), pruned
    scale: dict                           # (layer, stream) -> (N,) float64
    block_n: dict                         # stream -> (K/16, N/16)


def make_model(shape: LLMShape, block_ns: dict[str, np.ndarray], seed: int) -> QuantModel:
    """A seeded INT8 block-N:M LLaMA with the workload's per-block N."""
    if not (shape.rope and shape.ffn_kind == "swiglu" and shape.norm == "rmsnorm"):
        raise AccelError(f"--compute runs LLaMA-architecture models (RoPE, RMSNorm, "
                         f"SwiGLU); {shape.name} is not one")
    rng = np.random.default_rng(seed)
    h = shape.hidden
    bn = {s: np.concatenate([block_ns[p] for p in parts], axis=1)
          for s, parts in STREAMS.items()}
    bn["lm_head"] = block_ns["lm_head"]
    dense, scale, norms = {}, {}, {}
    k_of = {"qkv": h, "ffn_in": h, "o_proj": h, "ffn_out": shape.ffn, "lm_head": h}
    for layer in [*range(shape.layers), "lm"]:
        for s in (["lm_head"] if layer == "lm" else list(STREAMS)):
            k, n = k_of[s], bn[s].shape[1] * SPARSE_M
            w = rng.integers(-127, 128, size=(k, n)).astype(np.int8)
            w[w == 0] = 1                     # no ties with the pruned zeros
            dense[(layer, s)] = block_compress(w, bn[s]).to_dense()
            # keeps activations O(1): |y| ~ sqrt(kept) * 127 * scale * |x|
            scale[(layer, s)] = rng.uniform(0.5, 1.5, n) / (127.0 * np.sqrt(k))
        if layer != "lm":
            norms[(layer, "in")] = rng.uniform(0.8, 1.2, h)
            norms[(layer, "post")] = rng.uniform(0.8, 1.2, h)
    norms["final"] = rng.uniform(0.8, 1.2, h)
    return QuantModel(shape, rng.normal(0, 1, (shape.vocab, h)), norms, dense, scale, bn)


@dataclass
class KVCache:
    k: list = field(default_factory=list)   # per layer: list of (INT8 entry, scale)
    v: list = field(default_factory=list)

    @classmethod
    def empty(cls, layers: int) -> KVCache:
        return cls([[] for _ in range(layers)], [[] for _ in range(layers)])


def _linear(model: QuantModel, layer, stream: str, x: np.ndarray) -> np.ndarray:
    xq, sx = quant(x)
    w = model.dense[(layer, stream)]
    return (xq.astype(np.int64) @ w.astype(np.int64)) * sx * model.scale[(layer, stream)]


def reference_step(model: QuantModel, cache: KVCache, token: int, pos: int):
    """Plain NumPy decode step of the quantised model; appends to ``cache``.
    Returns (final hidden state (pre-norm residual), logits)."""
    sh = model.shape
    h, kv, hd, f = sh.hidden, sh.kv_dim, sh.head_dim, sh.ffn
    group = sh.heads // sh.kv_heads
    x = model.embed[token].copy()
    for layer in range(sh.layers):
        y = _linear(model, layer, "qkv", rms_norm(x, model.norms[(layer, "in")]))
        q, k, v = rope(y[:h], pos, hd), rope(y[h:h + kv], pos, hd), y[h + kv:]
        cache.k[layer].append(quant(k))
        cache.v[layer].append(quant(v))
        kq = np.stack([e[0] for e in cache.k[layer]]).astype(np.int64)   # (ctx, kv)
        ks = np.array([e[1] for e in cache.k[layer]])
        vq = np.stack([e[0] for e in cache.v[layer]]).astype(np.int64)
        vs = np.array([e[1] for e in cache.v[layer]])
        qq, sq = quant(q)
        qh = qq.astype(np.int64).reshape(sh.heads, hd)
        kh = kq.reshape(-1, sh.kv_heads, hd)[:, np.arange(sh.heads) // group, :]  # (ctx, H, hd)
        scores = np.einsum("hd,thd->ht", qh, kh) * sq * ks[None, :] / np.sqrt(hd)
        pq = np.rint(softmax(scores) * 127.0)
        vh = vq.reshape(-1, sh.kv_heads, hd)[:, np.arange(sh.heads) // group, :]
        attn = np.einsum("ht,thd->hd", pq * vs[None, :], vh).reshape(-1) / 127.0
        x = x + _linear(model, layer, "o_proj", attn)
        g = _linear(model, layer, "ffn_in", rms_norm(x, model.norms[(layer, "post")]))
        x = x + _linear(model, layer, "ffn_out", silu(g[:f]) * g[f:])
    logits = _linear(model, "lm", "lm_head", rms_norm(x, model.norms["final"]))
    return x, logits


def tile_blocks(model: QuantModel, tiles: dict[str, OpTiles]) -> dict:
    """HBM image of the weight streams: (layer, stream, tile) -> (first output column,
    Block of that tile)."""
    out = {}
    for (layer, s), w in model.dense.items():
        t = tiles[s]
        for k in range(len(t.nbytes)):
            c0, c1 = t.tile_columns(k)
            bn = model.block_n[s][:, c0 // SPARSE_M: -(-c1 // SPARSE_M)]
            out[(layer, s, k)] = (c0, block_compress(w[:, c0:c1], bn))
    return out


def _stack(entries: list) -> tuple[np.ndarray, np.ndarray]:
    """KV-cache entries (INT8 row, scale) -> (rows as int64, scales)."""
    return (np.stack([e[0] for e in entries]).astype(np.int64),
            np.array([e[1] for e in entries]))


def execute_step(prog: np.ndarray, ops: list, model: QuantModel, hbm: dict,
                 cache: KVCache, token: int, pos: int, cfg: FlightLLMConfig):
    """Run one compiled decode step row by row; returns (hidden, logits, next token)."""
    sh = model.shape
    h, kv, hd, f = sh.hidden, sh.kv_dim, sh.head_dim, sh.ffn
    group = sh.heads // sh.kv_heads
    buf: dict = {}
    slots: dict = {}
    for row in prog:
        u, sub, layer = int(row["unit"]), int(row["sub"]), int(row["layer"])
        if row["op"] < 0:
            if u == C.SYS:
                continue
            raise AccelError("program row without an op tag: compile with ops=[...] on chip")
        op = ops[int(row["op"])]
        name = op[0]
        if name == "linear":
            s = op[1]
            lk = "lm" if s == "lm_head" else layer
            if u == C.LD:
                if row["kind"] == C.K_WEIGHT:                # (an INT32 bias LD: zeros)
                    slots[(s, sub)] = hbm[(lk, s, sub)]      # weight tile -> on-chip slot
                continue
            if u != C.MV:
                continue                                      # zero-cycle activation hooks
            if sub == 0:                                     # the MV's INT8 input vector
                buf["xq"] = quant(buf["vec"])
                buf[s] = np.zeros(model.block_n[s].shape[1] * SPARSE_M)
            c0, blk = slots.pop((s, sub))
            c1 = c0 + blk.shape[1]
            xq, sx = buf["xq"]
            out = chain_gemm(xq[None, :], blk, cfg.chain_dsps, cfg.dsp_group).out[0]
            buf[s][c0:c1] = out * sx * model.scale[(lk, s)][c0:c1]
        elif name == "embed":
            if u == C.LD:
                buf["row"] = model.embed[token]
            elif u == C.MISC:
                buf["resid"] = buf["row"].copy()
        elif name == "norm":
            w = model.norms["final"] if op[1] == "final" else model.norms[(layer, "in")]
            buf["vec"] = rms_norm(buf["resid"], w)
        elif name == "rope":
            y = buf["qkv"]
            buf["q"], buf["k"], buf["v"] = rope(y[:h], pos, hd), rope(y[h:h + kv], pos, hd), \
                y[h + kv:]
        elif name == "kv_append":
            cache.k[layer].append(quant(buf["k"]))
            cache.v[layer].append(quant(buf["v"]))
        elif name == "concat":
            if len(cache.k[layer]) != pos + 1:
                raise AccelError(f"KV cache of layer {layer} holds {len(cache.k[layer])} "
                                 f"entries at position {pos}")
        elif name in ("qk", "av"):
            per = op[1]
            store = cache.k[layer] if name == "qk" else cache.v[layer]
            if u == C.LD:                                     # chunk sub of the cache
                slots[(name, sub)] = (sub * per, store[sub * per: min((sub + 1) * per, pos)])
                continue
            nch = -(-pos // per)
            e0, entries = slots.pop((name, sub)) if nch else (pos, [])
            entries = list(entries)
            if sub == max(nch - 1, 0):                        # the on-chip current entry
                entries.append(store[pos])
            q8, sc = _stack(entries)
            xh = q8.reshape(-1, sh.kv_heads, hd)[:, np.arange(sh.heads) // group, :]
            if name == "qk":
                if sub == 0:
                    buf["qq"] = quant(buf["q"])
                    buf["scores"] = np.zeros((sh.heads, pos + 1))
                qq, sq = buf["qq"]
                part = np.einsum("hd,thd->ht", qq.astype(np.int64).reshape(sh.heads, hd), xh)
                buf["scores"][:, e0:e0 + len(entries)] = part * sq * sc[None, :] / np.sqrt(hd)
            else:
                if sub == 0:
                    buf["pq"] = np.rint(buf["probs"] * 127.0)
                    buf["attn"] = np.zeros((sh.heads, hd))
                p = buf["pq"][:, e0:e0 + len(entries)]
                buf["attn"] += np.einsum("ht,thd->hd", p * sc[None, :], xh) / 127.0
                if sub == max(nch - 1, 0):
                    buf["vec"] = buf["attn"].reshape(-1)
        elif name == "qk_head":       # one round of whole heads, one per SLR
            r, per = op[1], op[2]
            hs = np.arange(r * cfg.cores, min((r + 1) * cfg.cores, sh.heads))
            if u == C.LD:                                     # K block sub, cached part
                slots[("qk_head", r, sub)] = cache.k[layer][sub * per: min((sub + 1) * per, pos)]
                continue
            if u == C.MISC:                                   # this round's softmax
                buf["probs"][hs] = softmax(buf["scores"][hs])
                continue
            if r == 0 and sub == 0:
                buf["qq"] = quant(buf["q"])
                buf["scores"] = np.zeros((sh.heads, pos + 1))
                buf["probs"] = np.zeros((sh.heads, pos + 1))
            e0 = sub * per
            entries = list(slots.pop(("qk_head", r, sub))) if e0 < pos else []
            if e0 + per > pos:                                # the on-chip current entry
                entries.append(cache.k[layer][pos])
            q8, sc = _stack(entries)
            kh = q8.reshape(-1, sh.kv_heads, hd)[:, hs // group, :]
            qq, sq = buf["qq"]
            part = np.einsum("hd,thd->ht", qq.astype(np.int64).reshape(sh.heads, hd)[hs], kh)
            buf["scores"][hs, e0:e0 + len(entries)] = part * sq * sc[None, :] / np.sqrt(hd)
        elif name == "softmax":
            buf["probs"] = softmax(buf["scores"])
        elif name == "residual_norm":
            buf["resid"] = buf["resid"] + buf["o_proj"]
            buf["vec"] = rms_norm(buf["resid"], model.norms[(layer, "post")])
        elif name == "act_fn":
            g = buf["ffn_in"]
            buf["vec"] = silu(g[:f]) * g[f:]
        elif name == "residual":
            buf["resid"] = buf["resid"] + buf["ffn_out"]
        elif name == "argmax":
            buf["token"] = int(np.argmax(buf["lm_head"]))
        else:   # pragma: no cover - a compiler op without semantics
            raise AccelError(f"op {name} has no functional semantics")
    if slots:
        raise AccelError(f"{len(slots)} weight tiles / KV chunks loaded but never computed")
    return buf["resid"], buf["lm_head"], buf["token"]


class ComputeRun:
    """Compile and execute decode steps of a small LLaMA against the NumPy reference."""

    def __init__(self, shape: LLMShape, tiles: dict[str, OpTiles], block_ns: dict,
                 cfg: FlightLLMConfig, seed: int):
        if shape.linear_params() > MAX_COMPUTE_PARAMS:
            raise AccelError(f"--compute runs models up to {MAX_COMPUTE_PARAMS:.0e} linear "
                             f"parameters; {shape.name} has {shape.linear_params():.2e}")
        self.shape, self.tiles, self.cfg = shape, tiles, cfg
        self.model = make_model(shape, block_ns, seed)
        self.hbm = tile_blocks(self.model, tiles)
        self.cache = KVCache.empty(shape.layers)
        self.ref_cache = KVCache.empty(shape.layers)

    def step(self, token: int, pos: int) -> dict:
        ops: list = []
        prog = D.decode_program(self.shape, self.tiles, self.cfg, pos + 1, True, ops)
        hid, logits, nxt = execute_step(prog, ops, self.model, self.hbm, self.cache, token, pos,
                                        self.cfg)
        rh, rl = reference_step(self.model, self.ref_cache, token, pos)
        return {"pos": pos, "token": token, "next_token": nxt,
                "reference_next_token": int(np.argmax(rl)),
                "hidden_rel_err": float(np.abs(hid - rh).max() / np.abs(rh).max()),
                "logits_rel_err": float(np.abs(logits - rl).max() / np.abs(rl).max()),
                "instructions": len(prog)}


MAX_COMPUTE_STEPS = 256     # --compute: prompt + generated tokens executed step by step


def run_compute(workload, cfg: FlightLLMConfig, seed: int = 0) -> dict:
    """``accel sim flightllm --compute``: the workload's prompt (seeded tokens) and its
    decode tokens, each executed as a compiled on-chip decode step, against the NumPy
    reference forward pass of the same quantised model."""
    from accel.arch.flightllm.model import _lengths, weight_block_ns
    from accel.workloads.llm import shape_of

    shape = shape_of(workload)
    p, d = _lengths(workload)
    if p + d > MAX_COMPUTE_STEPS:
        raise AccelError(f"--compute runs at most {MAX_COMPUTE_STEPS} steps (prompt + "
                         f"decode); got {p + d}")
    block_ns = weight_block_ns(workload, shape)
    run = ComputeRun(shape, C.fused_tiles(shape, block_ns, cfg), block_ns, cfg, seed)
    prompt = np.random.default_rng(seed).integers(0, shape.vocab, p)
    steps, tok, generated = [], int(prompt[0]), []
    for pos in range(p + d):
        r = run.step(tok, pos)
        steps.append(r)
        tok = int(prompt[pos + 1]) if pos + 1 < p else r["next_token"]
        if pos + 1 >= p:
            generated.append(r["next_token"])
    worst_h = max(s["hidden_rel_err"] for s in steps)
    worst_l = max(s["logits_rel_err"] for s in steps)
    match = all(s["next_token"] == s["reference_next_token"] for s in steps)
    return {"seed": seed, "steps": len(steps), "tolerance": TOLERANCE,
            "max_hidden_rel_err": worst_h, "max_logits_rel_err": worst_l,
            "tokens_match": match, "generated": generated,
            "ok": match and worst_h <= TOLERANCE and worst_l <= TOLERANCE}
