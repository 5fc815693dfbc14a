"""`accel sim flightllm`: its options (declarative) and what it runs (no CLI import here)."""

from __future__ import annotations

from accel.arch.registry import CliOption, CliOutput, CliTable

OPTIONS = (
    CliOption("model", str, "llama2-7b", "Model: llama2-7b, opt-6.7b or a Hugging Face config.json."),
    CliOption("device", str, "u280", "Device: u280, vhk158, vhk158-artifact or a FILE.yaml."),
    CliOption("prefill", int, 128, "Prompt length P."),
    CliOption("decode", int, 512, "Generated tokens D."),
    CliOption("sparsity", str, "dense", "Sparsity: dense, N:16 (N in 2, 4, 8, 16) or mixed:D."),
    CliOption("weight_bits", float, None, "Average weight bits (2, 3, 3.5, 4, 8).",
              shown_default="the device preset's weight_bits"),
    CliOption("on_chip_decode", bool, None, "Keep decode activations on chip (off: every "
              "op's output goes through HBM).", shown_default="the device preset's dataflow"),
    CliOption("length_adaptive", bool, True, "Compile one program per length bucket."),
    CliOption("seed", int, 0, "Seed of the per-block sparsity draw."),
    CliOption("set_", list, None, "Override a config field (repeatable).", ("--set",),
              shown_default="none"),
    CliOption("compute", bool, False, "Also execute every decode step's compiled program on "
              "a seeded INT8 model and compare with a NumPy forward pass (small models)."),
)


def run(note, model, device, prefill, decode, sparsity, weight_bits, on_chip_decode,
        length_adaptive, seed, set_, compute=False) -> CliOutput:
    from accel.arch.flightllm.config import PRESETS
    from accel.arch.flightllm.machine import MACHINE
    from accel.configs import load_config, parse_sets
    from accel.errors import AccelError
    from accel.workloads.builtin import resolve
    from accel.workloads.llm import resolve_shape

    for what, v in (("prefill", prefill), ("decode", decode)):
        if v <= 0:
            raise AccelError(f"--{what} must be positive, got {v}")
    sets = parse_sets(set_)
    if weight_bits is not None:
        sets["weight_bits"] = weight_bits
    cfg = load_config(PRESETS, device, sets, default="u280")
    resolve_shape(model)  # an unknown --model is named as a model, not as a workload
    wl = resolve(model, prefill=prefill, decode=decode, sparsity=sparsity, seed=seed)
    check = None
    if compute:
        from accel.arch.flightllm.functional import run_compute

        if not (cfg.on_chip_decode if on_chip_decode is None else on_chip_decode):
            raise AccelError("--compute executes on-chip decode programs; use "
                             "--on-chip-decode")
        check = run_compute(wl, cfg, seed)
    res = MACHINE.simulate(wl, cfg, on_chip_decode=on_chip_decode,
                           length_adaptive=length_adaptive)
    d = res.to_dict()
    table = _table(res)
    if check is not None:
        d["compute"] = check
        table = CliTable(table.title, table.columns, table.rows, (
            f"compute: {check['steps']} decode steps executed instruction by instruction; vs "
            f"NumPy: hidden {check['max_hidden_rel_err']:.1e}, logits "
            f"{check['max_logits_rel_err']:.1e} (tolerance {check['tolerance']:.0e}), tokens "
            f"{'match' if check['tokens_match'] else 'DIFFER'}",))
    return CliOutput(d, (table,))


def _table(res) -> CliTable:
    # significant digits, not fixed decimals: a tiny model's 0.056 J printed as "0.0"
    rows = [
        ("prefill (ms)", f"{res.prefill_ms:.4g}"),
        ("decode ms/token (mean/first/last)", f"{res.decode_ms_per_token:.4g} / "
         f"{res.decode_ms_first:.4g} / {res.decode_ms_last:.4g}"),
        ("decode tokens/s", f"{res.decode_tokens_per_s:.1f}"),
        ("end-to-end tokens/s", f"{res.end_to_end_tokens_per_s:.1f}"),
        ("HBM utilisation (decode)", f"{res.hbm_utilization:.1%}"),
        ("energy (J) / tokens per J", f"{res.energy_j:.4g} / {res.tokens_per_j:.4g}"),
    ]
    if res.instruction_bytes:
        ib = res.instruction_bytes
        rows.append(("instruction bytes bucketed / per length",
                     f"{ib['instruction_bytes_bucketed']:.3g} / "
                     f"{ib['instruction_bytes_per_length']:.3g} "
                     f"({ib['storage_reduction']:.0f}x)"))
    for k, g in res.gpu_baselines.items():
        rows.append((f"{k} tokens/s | tokens/J", f"{g['tokens_per_s']:.1f} | "
                     f"{g['tokens_per_j']:.3f}"))
    return CliTable(f"FlightLLM {res.model} on {res.device} [{res.prefill}, {res.decode}]",
                    ("metric", "value"), tuple(rows))
