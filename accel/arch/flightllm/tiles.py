"""Weight streams of a transformer, cut into LD/compute tiles, and their HBM bytes.

Bytes per 16-column stripe: kept weights at ``weight_bits``, plus, for an op in sparse
(FSB) mode, a ``index_bits`` index per kept weight and an FSB byte per block; chain slots
per stripe from the DSP-chain occupancy (``dsp_chain.slots_per_stripe``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.flightllm.config import FlightLLMConfig
from accel.arch.flightllm.dsp_chain import slots_per_stripe
from accel.errors import ConfigError
from accel.workloads.llm import SPARSE_M, LLMShape


@dataclass
class OpTiles:
    """A linear op's weight stream, per tile: HBM bytes, chain slots and kept MACs per row."""
    name: str
    K: int
    N: int
    nbytes: np.ndarray
    slots: np.ndarray
    macs: np.ndarray
    stripe_tile: np.ndarray | None = None   # tile of each 16-column stripe

    def tile_columns(self, k: int) -> tuple[int, int]:
        """Output columns [start, end) tile ``k`` computes."""
        s = np.nonzero(self.stripe_tile == k)[0]
        return int(s[0]) * SPARSE_M, min(self.N, (int(s[-1]) + 1) * SPARSE_M)

    @property
    def total_bytes(self) -> int:
        return int(self.nbytes.sum())

    @property
    def offsets(self) -> np.ndarray:
        """Byte offset of each tile in the op's weight stream (its HBM address)."""
        return np.cumsum(self.nbytes) - self.nbytes


def weight_tiles(name: str, k: int, block_n: np.ndarray, cfg: FlightLLMConfig,
                 density=1.0, sparse=None) -> OpTiles:
    """Cut a Block weight (K x N, per-tile N in ``block_n``) into LD/compute tiles.

    ``sparse`` (per 16-column stripe; default: the config's ``fsb_all_linears``, or the
    op has any N < 16 block) decides whether the stripe's kept weights carry ``index_bits`` and its blocks an FSB byte:
    the authors' generator loads meta and FSB only for an op in FSB mode, where dense
    16:16 blocks carry indices too; a dense op carries neither.  ``density`` (per stripe
    or scalar) scales kept weights, bytes and slots (unstructured pruning, no index).
    """
    kept_n = block_n.astype(np.int64).sum(axis=0) * SPARSE_M           # per 16-col stripe
    if sparse is None:
        sparse = np.full(block_n.shape[1], bool((block_n < SPARSE_M).any())
                         or cfg.fsb_all_linears)
    dens = np.broadcast_to(np.asarray(density, np.float64), kept_n.shape)
    kept = np.ceil(kept_n * dens).astype(np.int64)
    idx_bytes = np.where(sparse, np.ceil(kept * cfg.index_bits / 8.0).astype(np.int64)
                         + block_n.shape[0] * cfg.block_meta_bytes, 0)
    sbytes = np.ceil(kept * cfg.weight_bits / 8.0).astype(np.int64) + idx_bytes
    slots = np.ceil(slots_per_stripe(block_n, cfg.dsp_group, cfg.chain_dsps)
                    * dens).astype(np.int64)
    tile_bytes = cfg.weight_tile_kb * 1024
    widest = int(sbytes.max()) if sbytes.size else 0
    if widest > tile_bytes:
        # A tile holds whole stripes: a stripe wider than a tile would leave the tiles it
        # spills into empty (0-byte LD/MV instructions, and no columns to compute)
        index = f" + index_bits={cfg.index_bits}" if bool(np.any(sparse)) else ""
        raise ConfigError(f"weight_tile_kb={cfg.weight_tile_kb} is smaller than one "
                          f"{SPARSE_M}-column stripe of {name} ({widest:,} B: K={k} rows at "
                          f"weight_bits={cfg.weight_bits:g}{index}); a weight tile must hold "
                          f"at least one stripe: raise weight_tile_kb to "
                          f"{-(-widest // 1024)} or more")
    cum = np.cumsum(sbytes)
    tid = (cum - sbytes) // tile_bytes            # stripe starts inside tile tid
    nt = int(tid[-1]) + 1
    return OpTiles(name, k, block_n.shape[1] * SPARSE_M,
                   np.bincount(tid, sbytes, nt).astype(np.int64),
                   np.bincount(tid, slots, nt).astype(np.int64),
                   np.bincount(tid, kept, nt).astype(np.int64), tid)


def fused_tiles(shape: LLMShape, block_ns: dict[str, np.ndarray],
                cfg: FlightLLMConfig) -> dict[str, OpTiles]:
    """Tiles of every weight stream: single ops and the fused qkv / gate_up streams."""
    dens = {n: (cfg.qk_weight_density if n in ("q_proj", "k_proj") else 1.0)
            for n in block_ns}
    tiles = {n: weight_tiles(n, k, block_ns[n], cfg, dens[n]) for n, k, _ in shape.linears()}
    tiles["lm_head"] = weight_tiles("lm_head", shape.hidden, block_ns["lm_head"], cfg)

    def fused(name, parts):
        bn = [block_ns[p] for p in parts]
        return weight_tiles(name, shape.hidden, np.concatenate(bn, axis=1), cfg,
                            np.concatenate([np.full(b.shape[1], dens[p])
                                            for p, b in zip(parts, bn, strict=True)]),
                            np.concatenate([np.full(b.shape[1], bool((b < SPARSE_M).any())
                                                    or cfg.fsb_all_linears) for b in bn]))

    tiles["qkv"] = fused("qkv", ("q_proj", "k_proj", "v_proj"))
    if shape.ffn_kind == "swiglu":
        tiles["ffn_in"] = fused("ffn_in", ("gate_proj", "up_proj"))
    else:
        tiles["ffn_in"] = tiles["fc1"]
    tiles["ffn_out"] = tiles["down_proj" if shape.ffn_kind == "swiglu" else "fc2"]
    return tiles
