"""Roofline baselines of NVIDIA V100S and A100 for batch-1 LLM inference.

Per phase: time = max(bytes / (bandwidth x bw_eff), flops / (peak x compute_eff)) plus
a kernel-launch overhead per kernel (batch-1 decode issues a few hundred small kernels
per token, and on a GPU that overhead is not hidden).  Bytes = weights at the variant's
precision + KV cache (same precision as activations) read per decode step.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.workloads.llm import LLMShape


@dataclass(frozen=True)
class GPU:
    name: str
    hbm_gbps: float        # peak memory bandwidth
    fp16_tflops: float     # dense tensor-core peak
    int8_tops: float       # dense tensor-core peak
    power_w: float         # board power while decoding
    price_usd: float
    bw_eff: float = 0.80   # achievable DRAM bandwidth fraction for streaming GEMV [assumption]
    compute_eff: float = 0.60  # achievable tensor-core fraction for prefill GEMM [assumption]
    launch_us: float = 5.0     # per-kernel launch + sync overhead at batch 1 [assumption]
    kernels_per_layer: int = 14  # norm, qkv, rope, attn (3), o, add, norm, gate/up, act, down, add, misc [assumption]


GPUS: dict[str, GPU] = {
    # V100S PCIe 32 GB: 1134 GB/s, 130 TFLOPS FP16 tensor [datasheet]; no INT8 tensor cores
    # (DP4A ~ 62 TOPS [datasheet]); ~220 W measured by the paper [paper]; price [assumption]
    "v100s": GPU("v100s", 1134.0, 130.0, 62.0, 220.0, 11000.0),
    # A100 40 GB SXM: 1555 GB/s, 312 TFLOPS FP16, 624 TOPS INT8 [datasheet];
    # 400 W TDP, decode near TDP is an assumption; price [assumption]
    "a100": GPU("a100", 1555.0, 312.0, 624.0, 400.0, 15000.0),
}
VARIANTS = {"fp16": (16, 16), "w8a8": (8, 8)}   # (weight bits, activation/KV bits)


def gpu_estimate(gpu: GPU, shape: LLMShape, prefill: int, decode: int,
                 variant: str = "fp16") -> dict:
    """Batch-1 roofline: prefill time, mean decode time per token, tokens/s, tokens/J."""
    wbits, abits = VARIANTS[variant]
    params = shape.linear_params()
    wbytes = params * wbits / 8
    peak = (gpu.fp16_tflops if variant == "fp16" else gpu.int8_tops) * 1e12
    bw = gpu.hbm_gbps * 1e9 * gpu.bw_eff
    launch = gpu.launch_us * 1e-6 * gpu.kernels_per_layer * shape.layers
    kv_per_tok = 2 * shape.layers * shape.kv_dim * abits / 8
    # prefill: weights once, 2*params*P flops plus attention 4*P^2*hidden/2 (causal)
    pre_flops = 2 * params * prefill + 2 * shape.layers * prefill * prefill * shape.hidden
    prefill_s = max(wbytes / bw, pre_flops / (peak * gpu.compute_eff)) + launch
    # decode: mean context over the generated tokens
    mean_ctx = prefill + (decode + 1) / 2
    dec_bytes = wbytes + kv_per_tok * mean_ctx
    dec_flops = 2 * params + 4 * shape.layers * mean_ctx * shape.hidden
    decode_s = max(dec_bytes / bw, dec_flops / (peak * gpu.compute_eff)) + launch
    total_s = prefill_s + decode * decode_s
    return {"gpu": gpu.name, "variant": variant, "prefill_ms": prefill_s * 1e3,
            "decode_ms_per_token": decode_s * 1e3, "decode_tokens_per_s": 1.0 / decode_s,
            "end_to_end_tokens_per_s": decode / total_s,
            "energy_j": total_s * gpu.power_w, "tokens_per_j": decode / (total_s * gpu.power_w),
            "tokens_per_s_per_kusd": decode / total_s / (gpu.price_usd / 1000),
            "power_w": gpu.power_w}


def baselines(shape: LLMShape, prefill: int, decode: int) -> dict:
    return {f"{g}_{v}": gpu_estimate(GPUS[g], shape, prefill, decode, v)
            for g in GPUS for v in VARIANTS}
