"""`accel workload extract|synth|show`: build, generate and inspect workloads.

Every flag is validated before any work starts, and files are written atomically
(``accel.workloads.io.save``), so a bad command exits 2 with one line and leaves no
output file behind.
"""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, out_console, progress
from accel.errors import WorkloadError

workload_app = typer.Typer(help="Build, generate and inspect workloads.", no_args_is_help=True)
synth_app = typer.Typer(help="Generate synthetic workloads (graphs, LLM shape presets).",
                        no_args_is_help=True)
workload_app.add_typer(synth_app, name="synth")

PRUNE_HELP = "dense, N:M, bdwp:N:M, unstructured:D, wanda:D, wanda:N:M or block:N:M"


def _check_out(out: Path) -> Path:
    """Fail before the (possibly long) build, not after it."""
    from accel.files import check_output_file

    if out.suffix != ".npz":
        raise WorkloadError(f"--out must end in .npz, got {out}")
    return check_output_file(out, "--out", WorkloadError)  # folder exists; only files replaced


def _saved(w, out: Path, as_json: bool, compress: bool = True) -> None:
    from accel.workloads import io

    io.save(w, out, compress=compress)
    if as_json:
        emit_json({"out": str(out), **w.summary()})
    else:
        ops = len(w.ops)
        out_console.print(f"wrote {out}: workload {w.name}, {ops} op{'s' * (ops != 1)}")


@workload_app.command("extract")
def extract(
    out: Path = typer.Option(..., "--out", help="Output workload file (.npz)."),
    model: str = typer.Option("minilm-l6", "--model", help="Built-in model name."),
    checkpoint: str | None = typer.Option(None, "--checkpoint",
                                          help="Hugging Face safetensors folder (instead of --model).",
                                          show_default="none, use --model"),
    prune: str = typer.Option("dense", "--prune", help=f"Pruning: {PRUNE_HELP}."),
    seq_len: int = typer.Option(128, "--seq-len", help="Tokens per sequence (2..512)."),
    batch: int = typer.Option(1, "--batch", help="Sequences; M = batch x seq-len."),
    training: bool = typer.Option(False, "--training", help="Training: fwd, bwd_data and bwd_weight GEMMs per layer."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic output gradients (training)."),
    compress: bool = typer.Option(False, "--compress",
                                  help="Compress the file with zlib (~25% smaller, ~70x slower to write)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Every linear layer of a real checkpoint as a GEMM, with real activations, pruned."""
    from accel.workloads.checkpoint import load_linear_weights
    from accel.workloads.extract import check_checkpoint, extract_workload, validate_request

    spec = validate_request(prune, seq_len, batch, training)
    _check_out(out)
    check_checkpoint(spec, model, checkpoint, training)
    layers = len(load_linear_weights(model, checkpoint))
    with progress("extracting layers", layers, enabled=not as_json) as advance:
        w = extract_workload(model, checkpoint, prune, seq_len, batch, training, seed, advance)
    _saved(w, out, as_json, compress)


@synth_app.command("rmat")
def synth_rmat(
    out: Path = typer.Option(..., "--out", help="Output workload file (.npz)."),
    scale: int = typer.Option(..., "--scale", help="Log2 of the vertex count."),
    edge_factor: int = typer.Option(16, "--edge-factor", help="Edges per vertex before merging duplicates."),
    seed: int = typer.Option(1, "--seed", help="Seed of the edge draw."),
    a: float = typer.Option(0.57, "--a", help="R-MAT quadrant probability a (Graph500)."),
    b: float = typer.Option(0.19, "--b", help="R-MAT quadrant probability b (Graph500)."),
    c: float = typer.Option(0.19, "--c", help="R-MAT quadrant probability c (Graph500)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """An R-MAT graph as the SpGEMM A*A."""
    from accel.workloads.graphs import rmat, spgemm_workload

    _check_out(out)
    g = rmat(scale, edge_factor, seed, a, b, c)
    prov = {"generator": "rmat", "scale": scale, "edge_factor": edge_factor, "seed": seed,
            "abc": [a, b, c], "method": "A*A"}
    _saved(spgemm_workload(g, name=f"rmat-{scale}-{edge_factor}", provenance=prov), out, as_json)


@synth_app.command("mtx")
def synth_mtx(
    path: Path = typer.Argument(..., help="Matrix Market file (.mtx)."),
    out: Path = typer.Option(..., "--out", help="Output workload file (.npz)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """A Matrix Market matrix (e.g. SuiteSparse) as the SpGEMM A*A."""
    from accel.workloads.builtin import resolve

    _check_out(out)
    if path.suffix != ".mtx":
        raise WorkloadError(f"Matrix Market files end in .mtx, got {path}")
    _saved(resolve(str(path)), out, as_json)


@synth_app.command("edges")
def synth_edges(
    path: Path = typer.Argument(..., help="Edge list: SNAP/KONECT .txt, .tsv, .edges or .el, optionally .gz."),
    out: Path = typer.Option(..., "--out", help="Output workload file (.npz)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """An edge list (e.g. a SNAP download) as the SpGEMM A*A of its adjacency matrix; the
    .npz loads in a fraction of the text's parse time, for sweeps that reuse it."""
    from accel.workloads.builtin import resolve
    from accel.workloads.edgelist import SUFFIXES, is_edge_list

    _check_out(out)
    if not is_edge_list(str(path)):
        raise WorkloadError(f"edge lists end in {', '.join(SUFFIXES)} (optionally .gz), got {path}")
    _saved(resolve(str(path)), out, as_json)


@synth_app.command("llm")
def synth_llm(
    out: Path = typer.Option(..., "--out", help="Output workload file (.npz)."),
    model: str = typer.Option("llama2-7b", "--model", help="Model: llama2-7b or opt-6.7b."),
    prefill: int = typer.Option(128, "--prefill", help="Prompt length."),
    decode: int = typer.Option(512, "--decode", help="Generated tokens."),
    sparsity: str = typer.Option("dense", "--sparsity", help="Sparsity: dense, N:16 or mixed:D."),
    seed: int = typer.Option(0, "--seed", help="Seed of the block-sparsity masks."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """LLM prefill/decode shape preset (no weights), seeded block-sparsity masks."""
    from accel.workloads.llm import llm_workload

    _check_out(out)
    _saved(llm_workload(model, prefill, decode, sparsity=sparsity, seed=seed), out, as_json)


@workload_app.command("show")
def show(
    spec: str = typer.Argument(..., help="Workload file or built-in name (minilm-l6, rmat:12, ...)."),
    prune: str = typer.Option("dense", "--prune", help=f"For built-in names: {PRUNE_HELP}."),
    seq_len: int = typer.Option(128, "--seq-len", help="For built-in names."),
    batch: int = typer.Option(1, "--batch", help="For built-in names."),
    training: bool = typer.Option(False, "--training", help="For built-in names."),
    seed: int = typer.Option(0, "--seed", help="For built-in names."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List a workload's ops: name, phase, M, K, N, format, measured weight density."""
    from accel.workloads.builtin import resolve

    w = resolve(spec, prune=prune, training=training, seq_len=seq_len, batch=batch, seed=seed)
    summary = w.summary()
    if as_json:
        emit_json(summary)
        return
    from rich.table import Table

    table = Table(title=f"workload {w.name} ({len(w.ops)} ops)")
    # the op name is what users search for: wrap it rather than truncate it
    table.add_column("name", overflow="fold")
    for col in ("phase", "M", "K", "N", "format", "density"):
        table.add_column(col, no_wrap=True,
                         justify="right" if col in ("M", "K", "N", "density") else "left")
    for op in summary["ops"]:
        rep = f" x{op['repeat']}" if op.get("repeat", 1) != 1 else ""
        table.add_row(op["name"] + rep, op["phase"], str(op["M"]), str(op["K"]), str(op["N"]),
                      op["format"], f"{op['density']:.4f}")
    out_console.print(table)
    prov = ", ".join(f"{k}={v}" for k, v in summary["provenance"].items() if v is not None)
    if prov:
        out_console.print(f"provenance: {prov}", soft_wrap=True)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add `accel workload ...` to the root app."""
    app.add_typer(workload_app, name="workload")
