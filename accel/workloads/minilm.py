"""A NumPy forward pass of the MiniLM / BERT encoder, to capture real activations.

The all-MiniLM-L6-v2 encoder is a BERT: embeddings (word + absolute position + token
type 0, then LayerNorm), then per layer

    q, k, v = x Wq^T + bq, ...           (attention.self.query/key/value)
    ctx     = softmax(q k^T / sqrt(d_head) + mask) v   per head
    h       = LayerNorm(x + ctx Wo^T + bo)            (attention.output.dense)
    f       = GELU_erf(h W1^T + b1)                   (intermediate.dense)
    x'      = LayerNorm(h + f W2^T + b2)              (output.dense)

The input of every linear layer is recorded under the layer's module name, flattened
to (batch * seq_len, in_features): that is the A operand of the layer's GEMM.

Token sequences for ``--seq-len L --batch B``: the built-in passage ``PASSAGE`` is
tokenised once (no special tokens) into a stream; sequence b is ``[CLS]``, the L-2
stream tokens starting at b*(L-2) (wrapping around to the start of the stream when it
runs out), ``[SEP]``.  Every sequence is exactly L tokens with no padding, so every
activation row is a real token.  L ranges over 2..512 (BERT's position table).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

from accel.errors import WorkloadError
from accel.workloads.checkpoint import load_tensors

# A passage written for this project (plain prose, varied vocabulary), so activations come
# from ordinary English rather than from random token ids.
PASSAGE = (
    "The harbour was quiet before dawn, and the fishing boats rocked gently against the "
    "wooden pier. An old woman walked along the shore collecting shells in a cloth bag, "
    "while gulls circled above the lighthouse. In the town, bakers were already pulling "
    "bread from their ovens, and the smell drifted down the narrow streets toward the sea. "
    "Modern processors spend most of their energy moving data rather than computing on it, "
    "which is why accelerator designers care so much about memory bandwidth and on-chip "
    "buffers. Sparse neural networks skip the multiplications whose weights are zero, but "
    "the hardware only benefits when the pattern of zeros is regular enough to schedule. "
    "A train left the station at seven, carrying students, farmers and a violinist who "
    "practised quietly in the last carriage. The mountains to the north were covered in "
    "snow, and the river below them ran fast and cold after a week of heavy rain. "
    "Graph algorithms behave differently: a few vertices have thousands of neighbours while "
    "most have only a handful, so the work per row of the adjacency matrix varies wildly. "
    "Children in the village school learned to count with pebbles and to read from a "
    "battered atlas whose maps still showed countries that no longer exist. At noon the "
    "market filled with traders selling oranges, copper pots, woollen blankets and spices "
    "from distant ports. Engineers compare their simulator against measurements from real "
    "boards, and they trust a model only when it computes the same answer it claims to time. "
    "By evening the wind turned, clouds gathered over the bay, and the first drops of rain "
    "fell on the empty tables outside the cafe."
)

MAX_POSITIONS = 512  # BERT's absolute position table (config max_position_embeddings)


@dataclass(frozen=True)
class EncoderConfig:
    layers: int
    hidden: int
    heads: int
    eps: float

    @classmethod
    def from_folder(cls, folder: Path) -> EncoderConfig:
        path = folder / "config.json"
        if not path.is_file():
            raise WorkloadError(f"checkpoint {folder} has no config.json (needed for the forward pass)")
        cfg = json.loads(path.read_text())
        if cfg.get("model_type") not in ("bert", None) or cfg.get("hidden_act", "gelu") != "gelu":
            raise WorkloadError(f"forward pass supports BERT/MiniLM encoders with GELU, got "
                                f"model_type={cfg.get('model_type')!r}")
        return cls(int(cfg["num_hidden_layers"]), int(cfg["hidden_size"]),
                   int(cfg["num_attention_heads"]), float(cfg.get("layer_norm_eps", 1e-12)))


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))  # exact (erf) GELU, as BERT's "gelu"


class Encoder:
    """Weights of a BERT-style encoder plus its forward pass (float32 throughout)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cfg = EncoderConfig.from_folder(folder)
        t = load_tensors(folder)
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in t else ""
        self.p = {k[len(prefix):]: v.astype(np.float32) for k, v in t.items()
                  if k.startswith(prefix) and v.dtype.kind == "f"}
        if "embeddings.word_embeddings.weight" not in self.p:
            raise WorkloadError(f"checkpoint {folder} is not a BERT-style encoder (no "
                                f"embeddings.word_embeddings.weight)")

    def _linear(self, name: str, x: np.ndarray, capture: dict | None) -> np.ndarray:
        if capture is not None:
            capture[name] = x.reshape(-1, x.shape[-1]).astype(np.float32)
        return x @ self.p[f"{name}.weight"].T + self.p[f"{name}.bias"]

    def forward(self, ids: np.ndarray, mask: np.ndarray | None = None,
                capture: dict | None = None) -> np.ndarray:
        """Last hidden state (B, L, H) of token ids (B, L); ``mask`` 1 = real token."""
        p, c = self.p, self.cfg
        bsz, length = ids.shape
        if length > p["embeddings.position_embeddings.weight"].shape[0]:
            raise WorkloadError(f"sequence length {length} exceeds the position table")
        x = (p["embeddings.word_embeddings.weight"][ids]
             + p["embeddings.position_embeddings.weight"][:length][None]
             + p["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], c.eps)
        dh = c.hidden // c.heads
        bias = np.zeros((bsz, 1, 1, length), np.float32)
        if mask is not None:
            bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(c.layers):
            pre = f"encoder.layer.{i}."

            def heads(t):
                return t.reshape(bsz, length, c.heads, dh).transpose(0, 2, 1, 3)

            q = heads(self._linear(pre + "attention.self.query", x, capture))
            k = heads(self._linear(pre + "attention.self.key", x, None))
            v = heads(self._linear(pre + "attention.self.value", x, None))
            if capture is not None:  # K and V read the same input as Q
                capture[pre + "attention.self.key"] = capture[pre + "attention.self.query"]
                capture[pre + "attention.self.value"] = capture[pre + "attention.self.query"]
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(dh)) + bias
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            ctx = (s / s.sum(axis=-1, keepdims=True)) @ v
            ctx = ctx.transpose(0, 2, 1, 3).reshape(bsz, length, c.hidden)
            h = _layer_norm(x + self._linear(pre + "attention.output.dense", ctx, capture),
                            p[pre + "attention.output.LayerNorm.weight"],
                            p[pre + "attention.output.LayerNorm.bias"], c.eps)
            f = _gelu(self._linear(pre + "intermediate.dense", h, capture)).astype(np.float32)
            x = _layer_norm(h + self._linear(pre + "output.dense", f, capture),
                            p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"],
                            c.eps)
        return x.astype(np.float32)


@functools.lru_cache(maxsize=2)
def load_encoder(folder: str) -> Encoder:
    return Encoder(Path(folder))


@functools.lru_cache(maxsize=2)
def load_tokenizer(folder: str):
    from tokenizers import Tokenizer

    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise WorkloadError(f"checkpoint {folder} has no tokenizer.json")
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def token_batch(tokenizer, seq_len: int, batch: int) -> np.ndarray:
    """(batch, seq_len) token ids cut from ``PASSAGE`` as the module docstring describes."""
    if not isinstance(seq_len, int | np.integer) or not 2 <= seq_len <= MAX_POSITIONS:
        raise WorkloadError(f"--seq-len must be in 2..{MAX_POSITIONS}, got {seq_len}")
    if not isinstance(batch, int | np.integer) or batch < 1:
        raise WorkloadError(f"--batch must be a positive integer, got {batch}")
    stream = np.asarray(tokenizer.encode(PASSAGE, add_special_tokens=False).ids, dtype=np.int64)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if cls_id is None or sep_id is None:
        raise WorkloadError("tokenizer has no [CLS]/[SEP] tokens (not a BERT tokenizer)")
    body = seq_len - 2
    pos = (np.arange(batch)[:, None] * body + np.arange(body)[None, :]) % stream.size
    ids = np.empty((batch, seq_len), dtype=np.int64)
    ids[:, 0], ids[:, -1] = cls_id, sep_id
    ids[:, 1:-1] = stream[pos]
    return ids


def capture_activations(folder: Path, seq_len: int = 128, batch: int = 1) -> dict[str, np.ndarray]:
    """Module name -> input activations (batch * seq_len, in) of every encoder linear."""
    ids = token_batch(load_tokenizer(str(folder)), seq_len, batch)
    capture: dict[str, np.ndarray] = {}
    load_encoder(str(folder)).forward(ids, capture=capture)
    return capture


def sentence_embeddings(folder: Path, sentences: list[str]) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings (the sentence-transformers recipe)."""
    tok, enc = load_tokenizer(str(folder)), load_encoder(str(folder))
    out = []
    for s in sentences:  # one at a time: no padding needed
        ids = np.asarray([tok.encode(s).ids], dtype=np.int64)
        h = enc.forward(ids)[0].mean(axis=0)
        out.append(h / np.linalg.norm(h))
    return np.stack(out)
