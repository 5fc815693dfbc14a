"""`accel sim sat`: one BDWP training step on the SAT model (accel.arch.sat)."""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, err_console, out_console

VISION = ("resnet18", "resnet50", "vit-b16")
NAMES_HELP = ("FILE.npz, minilm-l6, resnet18, resnet50 or vit-b16 (built with --training "
              "phases)")


def load_training_workload(spec: str, prune: str = "bdwp:2:8", batch: int | None = None,
                           seq_len: int = 128, seed: int = 0):
    """A training workload from a file or a built-in name (``--prune`` for built-ins)."""
    from accel.workloads.cnn import cnn_workload

    if spec in VISION:
        return cnn_workload(spec, prune=prune, batch=batch, seed=seed)
    from accel.workloads.builtin import resolve

    if spec.endswith(".npz") or Path(spec).is_file():
        return resolve(spec)
    return resolve(spec, prune=prune, training=True, seq_len=seq_len,
                   batch=1 if batch is None else batch, seed=seed)


def _print_table(d: dict) -> None:
    from rich.table import Table

    t = Table(title=f"SAT: {d['workload']}")
    for col in ("phase", "cycles", "dense cycles", "speedup"):
        t.add_column(col, justify="right")
    for ph, v in d["per_phase"].items():
        sp = v["dense_cycles"] / v["cycles"] if v["cycles"] else float("nan")
        t.add_row(ph, f"{v['cycles']:,}", f"{v['dense_cycles']:,}", f"{sp:.2f}x")
    t.add_row("total", f"{d['cycles']:,}", f"{d['dense_cycles']:,}",
              f"{d['speedup_vs_dense']:.2f}x")
    out_console.print(t)
    out_console.print(f"speedup {d['speedup_vs_dense']:.3f}x (Amdahl ceiling "
                      f"{d['speedup_ceiling']:.3f}x), {d['seconds'] * 1e3:.3f} ms simulated, "
                      f"utilization {d['utilization']:.1%}, DRAM {d['dram_bytes'] / 1e6:.1f} MB")


def sim_sat(
    workload: str = typer.Option(..., "--workload", "-w", help=NAMES_HELP),
    arch: str = typer.Option(None, "--arch", help="preset name or arch YAML", show_default="sat-vcu1525"),
    sets: list[str] = typer.Option(None, "--set", help="override a config field: key=value (repeatable)", show_default="none"),
    prune: str = typer.Option("bdwp:2:8", "--prune", "--nm",
                              help="pattern for built-in names: dense|N:M|bdwp:N:M"),
    batch: int = typer.Option(None, "--batch", help="batch for built-in names", show_default="per model"),
    seq_len: int = typer.Option(128, "--seq-len", help="tokens per sequence (minilm-l6)"),
    seed: int = typer.Option(0, "--seed"),
    pregen: bool = typer.Option(True, "--pregen/--no-pregen", help="pre-generation of N:M weights"),
    interleave: bool = typer.Option(True, "--interleave/--no-interleave", help="interleave mapping"),
    offline_sched: bool = typer.Option(True, "--offline-sched/--no-offline-sched",
                                       help="offline per-layer scheduling"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Simulate one training step (fwd, bwd_data, bwd_weight, update) on SAT."""
    from accel.arch.sat.config import DEFAULT_PRESET, PRESETS
    from accel.arch.sat.model import simulate
    from accel.configs import load_config

    cfg = load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)
    if not as_json:
        err_console.print(f"[bold]building workload[/] {workload}")
    w = load_training_workload(workload, prune=prune, batch=batch, seq_len=seq_len, seed=seed)
    res = simulate(w, cfg, pregen=pregen, interleave=interleave, offline_sched=offline_sched)
    d = res.to_dict()
    if as_json:
        emit_json(d)
    else:
        _print_table(d)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    sim_app.command("sat")(sim_sat)
