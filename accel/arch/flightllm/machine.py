"""FlightLLM's registration (accel.arch.registry): a declaration, no heavy imports."""

from accel.arch.registry import Machine

MACHINE = Machine(
    name="flightllm",
    summary="LLM inference (prefill + decode) on the FlightLLM model (U280 / VHK158).",
    config="accel.arch.flightllm.config",
    model="accel.arch.flightllm.model",
    result="accel.arch.flightllm.model:FlightLLMResult",
    workload_kinds=("llm",),
    workload_knobs=("prefill", "decode", "sparsity", "seed"),
    cli="accel.arch.flightllm.cli_options",
    view="accel.arch.flightllm.view:VIEWS",
    # roofline coordinates; the DSP chains x chains x cores and the buffers in URAM
    # (accel.hw, resolved by the sweep layer)
    derived_metrics=("accel.arch.flightllm.machine:roofline_metrics",
                     "accel.hw.design_resources:flightllm_metrics"),
    demo_spec="flightllm-llama2-demo",
    commands="accel.arch.flightllm.commands:COMMANDS",
    readme_claims=("accel.arch.flightllm.claims:study_claims",),
    warm="accel.arch.flightllm.warm:warm",
)


def roofline_metrics(config, workload, metrics) -> dict[str, float]:
    """The roofline coordinates of decode and prefill (arithmetic on model outputs).

    ops = 2 x executed MACs of the phase's linear layers (zero weights skipped, i.e. x
    weight density; attention score/context GEMMs are not counted); HBM bytes =
    hbm_utilization x peak bandwidth x phase time; peaks from the config: HBM channels x
    channel GB/s, cores x MACs/cycle x 2 x clock (MV for decode, MM for prefill).
    ``roof_*``: what the model can reach at most, the peaks x ``slr_parallel_efficiency``
    (a what-if knob, 1.0 in every preset since model 0.5) and x the streaming efficiency
    for HBM; decode points sit under the MV roof when MV bounds the step, below it by the
    MV padding and the SLRs' whole-instruction split."""
    need = ("decode_ms_per_token", "prefill_ms", "hbm_utilization", "hbm_utilization_prefill")
    if not all(k in metrics for k in need):
        return {}
    peak_bw = config.hbm_channels * config.hbm_channel_gbps * 1e9
    clock = config.clock_mhz * 1e6
    out = {"peak_hbm_gbps": peak_bw / 1e9,
           "peak_mv_gops": config.cores * config.mv_macs_per_core * 2 * clock / 1e9,
           "peak_mm_gops": config.cores * config.mm_macs_per_core * 2 * clock / 1e9}
    eff = getattr(config, "slr_parallel_efficiency", 1.0)
    out.update({"roof_hbm_gbps": out["peak_hbm_gbps"] * config.hbm_efficiency * eff,
                "roof_mv_gops": out["peak_mv_gops"] * eff,
                "roof_mm_gops": out["peak_mm_gops"] * eff})
    for phase, t_ms, util in (("decode", metrics["decode_ms_per_token"], metrics["hbm_utilization"]),
                              ("prefill", metrics["prefill_ms"], metrics["hbm_utilization_prefill"])):
        ops = 2.0 * sum(op.M * op.K * op.N * op.repeat * op.density
                        for op in workload.ops if op.phase == phase)
        t = t_ms / 1e3
        nbytes = util * peak_bw * t
        out[f"{phase}_gops"] = ops / t / 1e9 if t > 0 else 0.0
        out[f"{phase}_intensity"] = ops / nbytes if nbytes > 0 else float("nan")
    return out
