"""`accel sim flightllm`: LLM inference on the FlightLLM model (U280 / VHK158)."""

from __future__ import annotations

import typer

from accel.cli.common import emit_json, err_console, out_console


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add `accel sim flightllm` to the `accel sim` group."""

    @sim_app.command("flightllm")
    def sim_flightllm(
        model: str = typer.Option("llama2-7b", help="llama2-7b | opt-6.7b | HF config.json"),
        device: str = typer.Option("u280", help="u280 | vhk158 | FILE.yaml"),
        prefill: int = typer.Option(128, help="prompt length P"),
        decode: int = typer.Option(512, help="generated tokens D"),
        sparsity: str = typer.Option("dense", help="dense | N:16 (N in 2,4,8,16) | mixed:D"),
        weight_bits: float = typer.Option(None, help="average weight bits (2, 3, 3.5, 4, 8)",
                                         show_default="the device preset's weight_bits"),
        on_chip_decode: bool = typer.Option(True, help="keep decode activations on chip"),
        length_adaptive: bool = typer.Option(True, help="compile per length bucket"),
        seed: int = typer.Option(0, help="seed of the per-block sparsity draw"),
        set_: list[str] = typer.Option(None, "--set", help="config override key=value (repeatable)",
                                        show_default="none"),
        json_out: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """LLM inference on FlightLLM (U280 / VHK158): prefill, decode, HBM, energy, GPUs."""
        from accel.arch.flightllm import PRESETS, simulate
        from accel.configs import load_config, parse_sets
        from accel.errors import AccelError
        from accel.workloads.llm import llm_workload

        for what, v in (("prefill", prefill), ("decode", decode)):
            if v <= 0:
                raise AccelError(f"--{what} must be positive, got {v}")
        sets = parse_sets(set_)
        if weight_bits is not None:
            sets["weight_bits"] = weight_bits
        cfg = load_config(PRESETS, device, sets, default="u280")
        wl = llm_workload(model, prefill, decode, sparsity=sparsity, seed=seed)
        res = simulate(wl, cfg, on_chip_decode=on_chip_decode, length_adaptive=length_adaptive)
        if json_out:
            emit_json(res.to_dict())
            return
        _print(res, out_console, err_console)


def _print(res, console, _err) -> None:
    from rich.table import Table

    t = Table(title=f"FlightLLM {res.model} on {res.device} "
                    f"[{res.prefill}, {res.decode}]")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("prefill (ms)", f"{res.prefill_ms:.1f}"),
        ("decode ms/token (mean/first/last)", f"{res.decode_ms_per_token:.2f} / "
         f"{res.decode_ms_first:.2f} / {res.decode_ms_last:.2f}"),
        ("decode tokens/s", f"{res.decode_tokens_per_s:.1f}"),
        ("end-to-end tokens/s", f"{res.end_to_end_tokens_per_s:.1f}"),
        ("HBM utilisation (decode)", f"{res.hbm_utilization:.1%}"),
        ("energy (J) / tokens per J", f"{res.energy_j:.1f} / {res.tokens_per_j:.3f}"),
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
    for r in rows:
        t.add_row(*r)
    console.print(t)
