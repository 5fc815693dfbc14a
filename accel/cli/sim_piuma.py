"""`accel sim piuma`: SpGEMM on the SMASH-on-PIUMA model (accel.arch.piuma)."""

from __future__ import annotations

import typer

from accel.cli.common import emit_json, out_console
from accel.errors import WorkloadError

WORKLOAD_HELP = ("FILE.mtx / FILE.npz (A.A for a single square matrix), rmat:S[:EF], or "
                 "minilm-weight[:MODULE[:DENSITY]] (pruned MiniLM weight times its transpose)")


def load_spgemm_workload(spec: str):
    """A SpGEMM workload from a file, ``rmat:S[:EF]`` or a pruned MiniLM weight."""
    from accel.workloads.ops import SpGemm

    if spec.startswith("minilm-weight"):
        from accel.arch.piuma.model import pruned_weight_workload

        parts = spec.split(":")[1:]
        module = parts[0] if parts and parts[0] else "encoder.layer.0.intermediate.dense"
        try:
            density = float(parts[1]) if len(parts) > 1 else 0.1
        except ValueError:
            raise WorkloadError(f"workload {spec!r}: density {parts[1]!r} is not a number") from None
        return pruned_weight_workload(module, density)
    from accel.workloads.builtin import resolve

    w = resolve(spec)
    ops = [op for op in w.ops if isinstance(op, SpGemm)]
    if not ops:
        raise WorkloadError(f"workload {spec!r} has no SpGEMM op (the PIUMA model runs A.B)")
    op = ops[0]
    if op.a is op.b and op.a.shape[0] != op.a.shape[1]:
        raise WorkloadError(f"workload {spec!r}: A.A needs a square matrix, got "
                            f"{op.a.shape[0]}x{op.a.shape[1]}")
    return w


def _table(results: dict) -> None:
    from rich.table import Table

    t = Table(title="PIUMA SpGEMM")
    cols = ("algorithm", "cycles", "GFLOPS", "DRAM rd MB", "DRAM wr MB", "pp MB", "imbalance",
            "util", "correct")
    for c in cols:
        t.add_column(c, justify="right")
    for name, r in results.items():
        t.add_row(name, f"{r.cycles:,}", f"{r.gflops:.2f}", f"{r.dram_bytes_read / 1e6:.1f}",
                  f"{r.dram_bytes_written / 1e6:.1f}", f"{r.partial_product_bytes / 1e6:.1f}",
                  f"{r.load_imbalance:.2f}", f"{r.pipeline_utilisation:.2f}", str(r.correct))
    out_console.print(t)


def sim_piuma(
    workload: str = typer.Option(..., "--workload", "-w", help=WORKLOAD_HELP),
    algo: str = typer.Option("smash-v1", "--algo",
                             help="smash-v1|smash-v2|smash-v3|inner|outer|gustavson-dense|all"),
    arch: str = typer.Option(None, "--arch", help="preset name or arch YAML", show_default="piuma"),
    sets: list[str] = typer.Option(None, "--set", help="override a config field: key=value (repeatable)", show_default="none"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Simulate SpGEMM C = A.B on a PIUMA-style many-threaded machine."""
    from accel.arch.piuma.config import DEFAULT_PRESET, PRESETS
    from accel.arch.piuma.model import ALGORITHMS, simulate_all
    from accel.configs import load_config

    names = tuple(ALGORITHMS) if algo == "all" else (algo,)
    for n in names:
        if n not in ALGORITHMS:
            raise WorkloadError(f"unknown algorithm {n!r}; known: {', '.join(ALGORITHMS)}, all")
    cfg = load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)
    w = load_spgemm_workload(workload)
    results = simulate_all(w, cfg, names)
    if as_json:
        if algo == "all":
            emit_json({"workload": w.name, "model_version": results[names[0]].to_dict()["model_version"],
                       "algorithms": {n: r.to_dict() for n, r in results.items()}})
        else:
            emit_json(results[algo].to_dict())
        return
    _table(results)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add `accel sim piuma`."""
    sim_app.command("piuma")(sim_piuma)
