"""LLM shape presets and prefill/decode workloads (FlightLLM's inputs).

A shape preset is the handful of numbers that fix every GEMM of a decoder-only
transformer (REFERENCE §2).  ``llm_workload`` turns one into a ``Workload`` of ``Gemm``
ops: one op per linear layer *kind* with ``repeat = layers`` (all layers share a shape),
for the prefill phase (M = prompt length) and the decode phase (M = 1, batch 1), plus
the LM head.  The weight operand is a metadata-only ``Block`` (FlightLLM's format): its
``block_n`` (one N of M = 16 per 16x16 tile) is seeded, so sparsity is data the model
reads, never a flag.  Attention and the KV cache are not GEMMs with a weight; the model
builds them from ``provenance["llm"]`` (the shape) and the lengths.

Sparsity grammar (``sparsity=``): ``dense`` (every tile N = 16), ``N:16`` (every tile
N), or ``mixed:D`` (each tile draws N from {2, 4, 8, 16}, seeded, mixing the two
allowed densities that bracket D so the expected density is D).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import Block
from accel.workloads.nm import parse_nm
from accel.workloads.ops import Gemm, Workload

SPARSE_M = 16                      # FlightLLM block / group size [paper]
SUPPORTED_N = (2, 4, 8, 16)        # N of M = 16 the sparse DSP chain supports [paper]


@dataclass(frozen=True)
class LLMShape:
    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    ffn_kind: str          # "swiglu" (gate, up, down) or "relu" (fc1, fc2)
    norm: str              # "rmsnorm" or "layernorm"
    rope: bool             # rotary position embedding (LLaMA) vs learned (OPT)
    max_positions: int

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def linears(self) -> list[tuple[str, int, int]]:
        """(name, in_features, out_features) of one layer's linear layers, in order."""
        h, kv, f = self.hidden, self.kv_dim, self.ffn
        attn = [("q_proj", h, h), ("k_proj", h, kv), ("v_proj", h, kv), ("o_proj", h, h)]
        if self.ffn_kind == "swiglu":
            return attn + [("gate_proj", h, f), ("up_proj", h, f), ("down_proj", f, h)]
        return attn + [("fc1", h, f), ("fc2", f, h)]

    def linear_params(self) -> int:
        return self.layers * sum(k * n for _, k, n in self.linears()) + self.hidden * self.vocab


LLM_PRESETS: dict[str, LLMShape] = {
    # REFERENCE §2: 32 layers, hidden 4096, 32 heads, FFN 11008 SwiGLU, vocab 32000
    "llama2-7b": LLMShape("llama2-7b", 32, 4096, 32, 32, 11008, 32000, "swiglu", "rmsnorm",
                          True, 4096),
    # REFERENCE §2: 32 layers, hidden 4096, 32 heads, FFN 16384 ReLU, vocab 50272
    "opt-6.7b": LLMShape("opt-6.7b", 32, 4096, 32, 32, 16384, 50272, "relu", "layernorm",
                         False, 2048),
}


# Bounds of a model shape read from a file (the largest public decoders are well
# inside: e.g. 126 layers, hidden 16384, FFN 53248, vocab 256000, 128k positions).
SHAPE_LIMITS = {"layers": 1024, "hidden": 2**17, "heads": 1024, "kv_heads": 1024,
                "ffn": 2**20, "vocab": 2**22, "max_positions": 2**22}
MAX_TOKENS = 2**20           # prefill or decode length (1M tokens)
MAX_CONFIG_BYTES = 2**20     # a config.json is a few KB
# Bytes per 16x16 weight tile while a workload is built: its uint8 N, and for mixed:D the
# float64 draw and bool pick that choose it.  Checked (accel.memory) before any is made:
# a config.json at SHAPE_LIMITS' corners means ~10^9 tiles.
BYTES_PER_TILE = 10


def _bounded_int(where: str, key: str, v, limit: int) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= limit:
        raise WorkloadError(f"{where}: {key} must be an integer in 1..{limit}, got {str(v)[:40]}")
    return v


def _checked_shape(where: str, **kw) -> LLMShape:
    for key, limit in SHAPE_LIMITS.items():
        kw[key] = _bounded_int(where, key, kw.get(key), limit)
    for key in ("name", "ffn_kind", "norm"):
        if not isinstance(kw.get(key), str) or len(kw[key]) > 200:
            raise WorkloadError(f"{where}: {key} must be a short string")
    if kw["ffn_kind"] not in ("swiglu", "relu") or not isinstance(kw.get("rope"), bool):
        raise WorkloadError(f"{where}: ffn_kind must be swiglu or relu and rope true/false")
    shape = LLMShape(**{k: kw[k] for k in LLMShape.__dataclass_fields__})
    if shape.hidden % shape.heads or shape.heads % shape.kv_heads:
        raise WorkloadError(f"{where}: hidden {shape.hidden} / heads {shape.heads} / "
                            f"kv heads {shape.kv_heads} do not divide")
    return shape


def shape_from_hf_config(path: str | Path) -> LLMShape:
    """Read a Hugging Face style ``config.json`` (LLaMA or OPT families)."""
    from accel.files import check_input_file

    p = check_input_file(path, "model config", MAX_CONFIG_BYTES, WorkloadError)

    def no_constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        cfg = json.loads(p.read_bytes().decode("utf-8"), parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WorkloadError(f"malformed model config {path}: {str(exc).splitlines()[0][:80]}") from None
    if not isinstance(cfg, dict):
        raise WorkloadError(f"model config {path} must be a JSON object")
    where = f"model config {path}"
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
        if key not in cfg:
            raise WorkloadError(f"{where} lacks key {key!r}")
    ffn = cfg.get("intermediate_size") or cfg.get("ffn_dim")
    if ffn is None:
        raise WorkloadError(f"{where} lacks key 'intermediate_size' (or 'ffn_dim')")
    act = str(cfg.get("hidden_act", cfg.get("activation_function", "silu"))).lower()
    swiglu = act in ("silu", "swish") or "intermediate_size" in cfg
    heads = cfg["num_attention_heads"]
    name = cfg.get("_name_or_path") or cfg.get("model_type") or p.stem
    return _checked_shape(
        where, name=str(name)[:200], layers=cfg["num_hidden_layers"], hidden=cfg["hidden_size"],
        heads=heads, kv_heads=cfg.get("num_key_value_heads", heads), ffn=ffn,
        vocab=cfg["vocab_size"], ffn_kind="swiglu" if swiglu else "relu",
        norm="rmsnorm" if "rms_norm_eps" in cfg else "layernorm",
        rope=cfg.get("model_type", "llama") != "opt",
        max_positions=cfg.get("max_position_embeddings", 2048))


def resolve_shape(model: str) -> LLMShape:
    if model in LLM_PRESETS:
        return LLM_PRESETS[model]
    if model.endswith(".json") or Path(model).exists():
        return shape_from_hf_config(model)
    raise WorkloadError(f"unknown model {model!r}; known: {', '.join(LLM_PRESETS)} "
                        "(or a Hugging Face config.json)")


def parse_sparsity(text: str) -> tuple[str, float]:
    """``dense`` | ``N:16`` | ``mixed:D`` -> (kind, value); errors name the bad value."""
    t = text.strip().lower()
    if t == "dense":
        return "uniform", float(SPARSE_M)
    if t.startswith("mixed:"):
        try:
            d = float(t.split(":", 1)[1])
        except (ValueError, OverflowError):
            raise WorkloadError(f"bad sparsity {text!r}: mixed:D needs a number D") from None
        lo, hi = SUPPORTED_N[0] / SPARSE_M, 1.0
        if not lo <= d <= hi:
            raise WorkloadError(f"bad sparsity {text!r}: density must be in [{lo}, {hi}]")
        return "mixed", d
    if ":" in t:
        n, m = parse_nm(t, f"bad sparsity {text!r}: N:M", example="N:16 (or dense, mixed:D)")
        if m != SPARSE_M:
            raise WorkloadError(f"unsupported M={m} in {text!r}: FlightLLM groups are M=16")
        if n not in SUPPORTED_N:
            raise WorkloadError(f"unsupported N={n} for M=16 in {text!r}; "
                                f"supported: {', '.join(map(str, SUPPORTED_N))}")
        return "uniform", float(n)
    raise WorkloadError(f"bad sparsity {text!r}; use dense, N:16 or mixed:D")


def seeded_block_n(k: int, n: int, sparsity: str, rng: np.random.Generator) -> np.ndarray:
    """(ceil(k/16), ceil(n/16)) uint8 N of each tile for the sparsity spec."""
    kind, value = parse_sparsity(sparsity)
    tiles = (-(-k // SPARSE_M), -(-n // SPARSE_M))
    if kind == "uniform":
        return np.full(tiles, int(value), dtype=np.uint8)
    dens = np.array(SUPPORTED_N, dtype=np.float64) / SPARSE_M
    hi = int(np.searchsorted(dens, value))           # first allowed density >= target
    if dens[hi] == value:
        return np.full(tiles, SUPPORTED_N[hi], dtype=np.uint8)
    lo = hi - 1
    p_hi = (value - dens[lo]) / (dens[hi] - dens[lo])
    pick = rng.random(tiles) < p_hi
    return np.where(pick, SUPPORTED_N[hi], SUPPORTED_N[lo]).astype(np.uint8)


def llm_workload(model: str, prefill: int, decode: int, sparsity: str = "dense",
                 seed: int = 0) -> Workload:
    """Prefill + decode GEMMs of ``model`` (preset name or config.json path), batch 1."""
    shape = resolve_shape(model)
    for what, v in (("prefill", prefill), ("decode", decode)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= MAX_TOKENS:
            raise WorkloadError(f"{what} length must be an integer in 1..{MAX_TOKENS}, got {v}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise WorkloadError(f"seed must be an integer in 0..2^63-1, got {seed}")
    if not isinstance(sparsity, str) or len(sparsity) > 100:
        raise WorkloadError("sparsity must be dense, N:16 or mixed:D")
    parse_sparsity(sparsity)
    linears = shape.linears() + [("lm_head", shape.hidden, shape.vocab)]
    from accel.memory import check_memory

    tiles = sum(-(-k // SPARSE_M) * -(-n // SPARSE_M) for _name, k, n in linears)
    check_memory(float(tiles) * BYTES_PER_TILE, f"model {shape.name!r} ({tiles:,} weight tiles "
                 f"of {SPARSE_M}x{SPARSE_M})", WorkloadError)
    rng = np.random.default_rng(seed)
    ops: list[Gemm] = []
    for name, k, n in linears:
        fmt = Block((k, n), seeded_block_n(k, n, sparsity, rng))
        rep = 1 if name == "lm_head" else shape.layers
        # prefill needs logits of the last position only, so its LM head has M = 1
        m_prefill = 1 if name == "lm_head" else prefill
        for phase, m in (("prefill", m_prefill), ("decode", 1)):
            ops.append(Gemm(name=f"{name}:{phase}", phase=phase, M=m, K=k, N=n, b=fmt,
                            a_bits=8, b_bits=8, source=name, source_axis=1, repeat=rep))
    prov = {"llm": asdict(shape), "prefill": int(prefill), "decode": int(decode),
            "sparsity": sparsity, "seed": int(seed), "generator": "accel.workloads.llm"}
    return Workload(f"{shape.name}-p{prefill}-d{decode}", ops, prov)


def shape_of(workload: Workload) -> LLMShape:
    """The LLMShape recorded by ``llm_workload`` in a workload's provenance."""
    info = workload.provenance.get("llm")
    if not isinstance(info, dict):
        raise WorkloadError(f"workload {workload.name} is not an LLM workload "
                            "(no provenance['llm']; build it with llm_workload)")
    return _checked_shape(f"workload {workload.name} provenance", **info)
