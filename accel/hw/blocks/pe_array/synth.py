"""Yosys resource counts of the PE array, cached by configuration hash
(``accel.hw.synth``: committed seeds in ``rtl/``, new results in the user cache)."""

from __future__ import annotations

from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.synth import cached_synth

CACHE = "synth_cache.json"                      # INT8 one-tile arrays: the base model's data
# pipelined builds (shadow accumulators) are cached apart, next to their one-tile twins in
# CACHE, so the base resource model keeps fitting exactly the one-tile designs
PIPELINED_CACHE = "synth_cache_pipelined.json"
# FP16 arrays (one-tile and pipelined) and the sparse weight generator: their own file,
# so the INT8 resource model keeps fitting exactly the INT8 designs
FP16_CACHE = "synth_cache_fp16.json"


def cache_name_for(p: ArrayParams) -> str:
    if p.fp:
        return FP16_CACHE
    return PIPELINED_CACHE if p.pipelined else CACHE


def synth(p: ArrayParams, force: bool = False) -> dict:
    """Cached resource counts of one configuration (``cached`` says whether Yosys ran)."""
    from accel.hw.blocks.pe_array.verilog import TOP, generate

    return cached_synth(p, lambda: generate(p), TOP, cache_name_for(p), p.config_hash(), force)
