"""FlightLLM public API: ``simulate(workload, config, ...) -> FlightLLMResult``.

The workload is an LLM workload (``accel.workloads.llm.llm_workload``): its Block
weights' ``block_n`` fix every weight stream's bytes and chain slots, its provenance
the shape and the [prefill, decode] lengths.  The compiler turns each phase into
instruction streams, ``_kernels.execute`` runs them; decode steps whose (bucketed)
context is identical run the identical program, so each distinct program is executed
once and counted as often as it occurs.  Ops that carry INT8 values (``b_q`` Block and
``a_q``) are also computed on the sparse DSP chain (``outputs``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from accel.arch.flightllm import compiler as C
from accel.arch.flightllm._kernels import execute, hbm_transfer
from accel.arch.flightllm.config import FlightLLMConfig
from accel.arch.flightllm.decode import decode_program
from accel.arch.flightllm.dsp_chain import chain_gemm
from accel.arch.flightllm.gpu import baselines
from accel.arch.flightllm.isa import HbmSettings
from accel.arch.flightllm.storage import instruction_storage
from accel.errors import AccelError, DoesNotFit, WorkloadError
from accel.workloads.formats import Block
from accel.workloads.llm import LLMShape, shape_of
from accel.workloads.ops import Gemm, Workload

MODEL_VERSION = "flightllm-0.8"   # history: CHANGELOG.md beside this file


@dataclass
class Run:
    cycles: float
    hbm_bytes: float
    busy: np.ndarray
    instructions: int
    macs: int


def hbm_settings(cfg: FlightLLMConfig) -> HbmSettings:
    """The executor's HBM settings in cycles (``isa.HbmSettings``)."""
    hz = cfg.clock_mhz * 1e6
    # each SLR's ports serve its share of a transfer; ``slr_parallel_efficiency`` (a
    # what-if knob, 1.0 in every preset) scales HBM rates as it scales compute
    eff = cfg.slr_parallel_efficiency
    ch = cfg.hbm_channel_gbps * 1e9 * cfg.hbm_efficiency * eff / hz   # bytes/cycle/channel
    cross = cfg.hbm_channel_gbps * 1e9 * cfg.hbm_cross_channel_efficiency * eff / hz
    return HbmSettings(ch, cfg.hbm_channels, cfg.hbm_interleave_bytes, cfg.hbm_access_bytes,
                       cfg.hbm_row_miss_ns * 1e-9 * hz, cfg.hbm_latency_ns * 1e-9 * hz,
                       C.CROSS_CHANNEL_KINDS, cross, C.ONE_CHANNEL_KINDS)


def transfer_efficiency(nbytes: int, cfg: FlightLLMConfig, latency: bool = True) -> float:
    """Achieved / peak bandwidth of one isolated ``nbytes`` HBM transfer (idle channels).

    ``latency=False`` gives the channel-occupancy view (what back-to-back independent
    transfers of this size could sustain); ``True`` the dependent view (a consumer waiting
    for the data), which is what serialised off-chip activations see.
    """
    if nbytes <= 0:
        raise AccelError(f"transfer size must be positive, got {nbytes}")
    s = hbm_settings(cfg)
    n = s.n_channels
    _, done = hbm_transfer(int(nbytes), 0.0, 0, np.zeros(n), n, s.interleave, s.access,
                           s.row_cycles, s.ch_bytes_per_cycle)
    t = done + (s.latency_cycles if latency else 0.0)
    hz = cfg.clock_mhz * 1e6
    return nbytes / (t / hz) / (cfg.hbm_peak_gbps * 1e9)


def run_program(prog: np.ndarray, cfg: FlightLLMConfig) -> Run:
    start, finish, busy, nbytes, status = execute(prog, C.credits(cfg), hbm_settings(cfg))
    if status >= 0:   # a compiler bug, not a user error
        raise RuntimeError(f"instruction {status} ({C.UNIT_NAMES[prog['unit'][status]]}) never issues")
    return Run(float(finish.max()) if len(finish) else 0.0, float(nbytes), busy,
               len(prog), int(prog["macs"].sum()))


@dataclass
class FlightLLMResult:
    model: str
    device: str
    prefill: int
    decode: int
    prefill_ms: float
    decode_ms_per_token: float
    decode_ms_first: float
    decode_ms_last: float
    decode_tokens_per_s: float
    end_to_end_tokens_per_s: float
    hbm_utilization: float
    hbm_utilization_prefill: float
    unit_busy: dict
    energy_j: float
    tokens_per_j: float
    instruction_bytes: dict
    gpu_baselines: dict
    ratios: dict
    weight_bytes: int
    kv_capacity_tokens: int
    padded_prefill: int
    decode_instructions_per_token: float
    options: dict
    sim_wall_s: float
    outputs: dict = field(default_factory=dict, repr=False)

    # units of metrics() (accel.arch.registry.MachineResult)
    UNITS: ClassVar[dict[str, str]] = {
        "prefill_ms": "ms", "decode_ms_*": "ms/token", "*tokens_per_s": "tokens/s",
        "hbm_utilization*": "fraction", "energy_j": "J", "tokens_per_j": "tokens/J",
        "*bytes*": "B", "sim_wall_s": "s", "busy_*": "fraction of decode cycles",
        "throughput_vs_*": "x", "energy_eff_vs_*": "x", "cost_eff_vs_*": "x"}
    # what a metric means when a sweep uses it as an objective for something it stands in for
    # (the report prints these beside the objective; accel.report.machine_views.metric_notes)
    METRIC_NOTES: ClassVar[dict[str, str]] = {
        "weight_bytes": "weight_bytes counts the weights kept after quantisation and N:M pruning: "
                        "the model does not predict accuracy, so more weight bytes (more bits, fewer "
                        "pruned weights) stand in for fidelity to the dense model."}

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "outputs"}
        d["model_version"] = MODEL_VERSION
        d["decode_ms_per_token"] = {"mean": self.decode_ms_per_token,
                                    "first": self.decode_ms_first, "last": self.decode_ms_last}
        for k in ("decode_ms_first", "decode_ms_last"):
            d.pop(k)
        return d

    def metrics(self) -> dict[str, float]:
        m = {k: float(getattr(self, k)) for k in (
            "prefill_ms", "decode_ms_per_token", "decode_ms_first", "decode_ms_last",
            "decode_tokens_per_s", "end_to_end_tokens_per_s", "hbm_utilization",
            "hbm_utilization_prefill", "energy_j", "tokens_per_j", "weight_bytes",
            "sim_wall_s")}
        m.update({f"busy_{u}": float(v) for u, v in self.unit_busy.items()})
        m.update({k: float(v) for k, v in self.ratios.items()})
        if self.instruction_bytes:
            m["instruction_bytes_bucketed"] = float(
                self.instruction_bytes["instruction_bytes_bucketed"])
        return m


def weight_block_ns(workload: Workload, shape: LLMShape) -> dict[str, np.ndarray]:
    out = {}
    for op in workload.ops:
        if isinstance(op, Gemm) and op.phase == "decode" and isinstance(op.b, Block):
            out[op.source or op.name.split(":")[0]] = op.b.block_n
    need = [n for n, _, _ in shape.linears()] + ["lm_head"]
    missing = [n for n in need if n not in out]
    if missing:
        raise WorkloadError(f"workload {workload.name} lacks Block decode weights for "
                            f"{', '.join(missing)}")
    return out


def kv_capacity(shape: LLMShape, cfg: FlightLLMConfig, weight_bytes: int) -> int:
    """Tokens of INT8 KV cache that fit in HBM next to weights and embeddings."""
    free = cfg.hbm_capacity_gb * 2**30 - hbm_need(shape, cfg, weight_bytes, 0)
    per_tok = _kv_bytes_per_token(shape, cfg)
    return int(free // per_tok) if free > 0 else 0


def _kv_bytes_per_token(shape: LLMShape, cfg: FlightLLMConfig) -> float:
    return 2 * shape.layers * shape.kv_dim * cfg.kv_bits / 8      # K and V of every layer


def hbm_need(shape: LLMShape, cfg: FlightLLMConfig, weight_bytes: int, tokens: int) -> float:
    """HBM bytes a run of ``tokens`` needs: weights, the FP16 embedding table and the KV
    cache."""
    embed = shape.vocab * shape.hidden * 2
    return weight_bytes + embed + tokens * _kv_bytes_per_token(shape, cfg)


def _hbm_misfit(message: str, need: float, config: FlightLLMConfig) -> DoesNotFit:
    return DoesNotFit(message, "HBM", need, config.hbm_capacity_gb * 2**30)


def _lengths(workload: Workload) -> tuple[int, int]:
    try:
        return int(workload.provenance["prefill"]), int(workload.provenance["decode"])
    except (KeyError, TypeError, ValueError):
        raise WorkloadError(f"workload {workload.name} has no prefill/decode lengths") from None


def simulate(workload: Workload, config: FlightLLMConfig, *, on_chip_decode: bool | None = None,
             length_adaptive: bool = True, storage: bool = True,
             compute_outputs: bool = True) -> FlightLLMResult:
    """``on_chip_decode``: None = the preset's dataflow (``config.on_chip_decode``)."""
    t0 = time.perf_counter()
    config.validate()
    if on_chip_decode is None:
        on_chip_decode = config.on_chip_decode
    shape = shape_of(workload)
    P, D = _lengths(workload)
    if P <= 0 or D <= 0:
        raise AccelError(f"prefill and decode must be positive, got [{P}, {D}]")
    tiles = C.fused_tiles(shape, weight_block_ns(workload, shape), config)
    names = [n for n, _, _ in shape.linears()]
    wbytes = shape.layers * sum(tiles[n].total_bytes for n in names) + \
        tiles["lm_head"].total_bytes
    cap = kv_capacity(shape, config, wbytes)
    if cap <= 0:
        raise _hbm_misfit(f"{shape.name} weights ({wbytes / 2**30:.2f} GiB at "
                          f"{config.weight_bits:g} bits) do not fit {config.name}'s "
                          f"{config.hbm_capacity_gb:g} GiB HBM",
                          hbm_need(shape, config, wbytes, 0), config)
    if P + D > cap:
        raise _hbm_misfit(f"prefill + decode = {P + D} tokens exceeds {config.name}'s KV "
                          f"capacity of {cap} tokens for {shape.name}",
                          hbm_need(shape, config, wbytes, P + D), config)
    if P + D > shape.max_positions:
        raise AccelError(f"prefill + decode = {P + D} exceeds {shape.name}'s "
                         f"{shape.max_positions} positions")
    hz = config.clock_mhz * 1e6
    peak = config.hbm_peak_gbps * 1e9
    # --- prefill -----------------------------------------------------------------------
    Lp = C.bucket(P, config.prefill_bucket) if length_adaptive else P
    pre = run_program(C.prefill_program(shape, tiles, config, Lp), config)
    prefill_s = pre.cycles / hz
    # --- decode: step t has ctx = P + t + 1 tokens (its own included) ------------------
    ctx = P + 1 + np.arange(D)
    if length_adaptive:
        ctx = np.minimum(-(-ctx // config.decode_bucket) * config.decode_bucket,
                         max(cap, P + D))
    uniq, counts = np.unique(ctx, return_counts=True)
    step_s = {}
    dec_bytes = dec_cycles = dec_instr = 0.0
    busy = np.zeros(len(C.UNIT_NAMES))
    for c, n in zip(uniq, counts, strict=True):
        r = run_program(decode_program(shape, tiles, config, int(c), on_chip_decode), config)
        step_s[int(c)] = r.cycles / hz
        dec_cycles += n * r.cycles
        dec_bytes += n * r.hbm_bytes
        dec_instr += n * r.instructions
        busy += n * r.busy
    decode_s = dec_cycles / hz
    energy = config.board_power_w * (prefill_s + decode_s)
    gpus = baselines(shape, P, D)
    dec_tps = D / decode_s
    e2e = D / (prefill_s + decode_s)
    tpj = D / energy
    cost = e2e / (config.price_usd / 1000)
    ratios = {}
    for k, g in gpus.items():
        ratios[f"throughput_vs_{k}"] = dec_tps / g["decode_tokens_per_s"]
        ratios[f"energy_eff_vs_{k}"] = tpj / g["tokens_per_j"]
        ratios[f"cost_eff_vs_{k}"] = cost / g["tokens_per_s_per_kusd"]
    store = instruction_storage(shape, tiles, config, on_chip_decode) if storage else {}
    outputs = _chain_outputs(workload, config) if compute_outputs else {}
    return FlightLLMResult(
        model=shape.name, device=config.name, prefill=P, decode=D,
        prefill_ms=prefill_s * 1e3, decode_ms_per_token=decode_s / D * 1e3,
        decode_ms_first=step_s[int(ctx[0])] * 1e3, decode_ms_last=step_s[int(ctx[-1])] * 1e3,
        decode_tokens_per_s=dec_tps, end_to_end_tokens_per_s=e2e,
        hbm_utilization=dec_bytes / (decode_s * peak),
        hbm_utilization_prefill=pre.hbm_bytes / (prefill_s * peak),
        unit_busy={u: float(busy[i] / dec_cycles) for i, u in enumerate(C.UNIT_NAMES)},
        energy_j=energy, tokens_per_j=tpj, instruction_bytes=store,
        gpu_baselines={k: {"tokens_per_s": g["decode_tokens_per_s"],
                           "end_to_end_tokens_per_s": g["end_to_end_tokens_per_s"],
                           "tokens_per_j": g["tokens_per_j"]} for k, g in gpus.items()},
        ratios=ratios, weight_bytes=int(wbytes), kv_capacity_tokens=cap, padded_prefill=Lp,
        decode_instructions_per_token=dec_instr / D,
        options={"on_chip_decode": on_chip_decode, "length_adaptive": length_adaptive,
                 "weight_bits": config.weight_bits,
                 "sparsity": workload.provenance.get("sparsity", "")},
        sim_wall_s=time.perf_counter() - t0, outputs=outputs)


def _chain_outputs(workload: Workload, cfg: FlightLLMConfig) -> dict[str, np.ndarray]:
    """INT32 chain results of ops that carry INT8 operands (real-weight workloads)."""
    out = {}
    for op in workload.ops:
        if isinstance(op, Gemm) and isinstance(op.b_q, Block) and op.b_q.values is not None \
                and op.a_q is not None:
            out[op.name] = chain_gemm(op.a_q, op.b_q, cfg.chain_dsps, cfg.dsp_group).out
    return out
