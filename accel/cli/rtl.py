"""`accel rtl generate|synth|cosim`: the Amaranth sparse PE array (accel.hw)."""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, err_console, out_console
from accel.errors import AccelError

rtl_app = typer.Typer(help="Sparse PE-array RTL: Verilog, FPGA resources, co-simulation.",
                      no_args_is_help=True)

ROWS = typer.Option(4, "--rows", help="PE-array rows (output rows per tile)")
COLS = typer.Option(4, "--cols", help="PE-array columns (output columns per tile)")
N_OPT = typer.Option(2, "--n", help="kept weights per group (multipliers per PE)")
M_OPT = typer.Option(4, "--m", help="group size M (activation window)")
ACT = typer.Option(8, "--act-bits", help="activation width")
WGT = typer.Option(8, "--weight-bits", help="weight width")
ACC = typer.Option(32, "--acc-bits", help="accumulator width")
JSON = typer.Option(False, "--json", help="print one JSON object")
PIPE = typer.Option(False, "--pipelined/--one-tile",
                    help="shadow accumulators: tiles back to back after one start "
                         "(timed by pe_array.tiles_cycles) instead of one tile per start")


def _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=False):
    from accel.hw.params import ArrayParams

    return ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=pipelined)


def generate(rows: int = ROWS, cols: int = COLS, n: int = N_OPT, m: int = M_OPT,
             act_bits: int = ACT, weight_bits: int = WGT, acc_bits: int = ACC,
             out: Path = typer.Option(..., "--out", help="output folder"),
             pipelined: bool = PIPE, as_json: bool = JSON) -> None:
    """Write the Verilog of one array configuration and its JSON sidecar."""
    from accel.hw import verilog

    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined)
    paths = verilog.write(p, out)
    res = {"params": p.to_dict(), "config_hash": p.config_hash(),
           "verilog": str(paths["verilog"]), "sidecar": str(paths["sidecar"]),
           "latency": verilog.sidecar(p)["latency"]["formula"]}
    if as_json:
        emit_json(res)
    else:
        out_console.print(f"wrote {res['verilog']} and {res['sidecar']}")


def synth(rows: int = ROWS, cols: int = COLS, n: int = N_OPT, m: int = M_OPT,
          act_bits: int = ACT, weight_bits: int = WGT, acc_bits: int = ACC,
          force: bool = typer.Option(False, "--force", help="re-run Yosys even if cached"),
          pipelined: bool = PIPE, as_json: bool = JSON) -> None:
    """Yosys synth_xilinx (xcup) resource counts, cached by configuration hash."""
    from accel.hw import resources
    from accel.hw.synth import synth as run_synth

    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined)
    if not force:
        err_console.print(f"[dim]synthesising {p.name} (cached results are reused)[/dim]")
    res = run_synth(p, force=force)
    try:
        est = resources.estimate(rows, cols, n, m, act_bits, weight_bits, acc_bits,
                                 pipelined=pipelined)
        err = resources.holdout_error()["summary"]
        res["model_estimate"], res["model_holdout_error"] = est, err
    except RuntimeError as exc:       # fewer than 4 cached configurations
        res["model_estimate"] = None
        res["model_note"] = str(exc)
    if as_json:
        emit_json(res)
        return
    r = res["resources"]
    out_console.print(f"{p.name}: LUT {r['LUT']}  FF {r['FF']}  CARRY {r['CARRY']}  "
                      f"DSP48E2 {r['DSP48E2']}  BRAM {r['BRAM']}"
                      f"{'  (cached)' if res['cached'] else ''}")


def cosim(workload: str = typer.Option(..., "--workload", "-w",
                                       help="FILE.npz or minilm-l6 (pruned to --n:--m)"),
          layer: str = typer.Option(..., "--layer", help="op name, e.g. "
                                    "encoder.layer.0.intermediate.dense"),
          rows: int = ROWS, cols: int = COLS, n: int = N_OPT, m: int = M_OPT,
          act_bits: int = ACT, weight_bits: int = WGT, acc_bits: int = ACC,
          mode: str = typer.Option("sparse", "--mode", help="sparse (N:M layer) or dense "
                                   "(dense layer fed as dense groups)"),
          seq_len: int = typer.Option(8, "--seq-len", help="tokens (minilm-l6)"),
          max_tiles: int = typer.Option(4, "--max-tiles", help="tiles to simulate (cap)"),
          stalls: bool = typer.Option(True, "--stalls/--no-stalls",
                                      help="also run random valid/ready stalls and a reset"),
          waves: bool = typer.Option(False, "--waves", help="write a VCD of the run"),
          seed: int = typer.Option(1, "--seed"),
          pipelined: bool = PIPE, as_json: bool = JSON) -> None:
    """Run a layer's tiles through the RTL in Verilator; compare with the model's cycles."""
    from accel.hw import cosim as co

    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined)
    if mode not in ("sparse", "dense"):
        raise AccelError(f"--mode must be sparse or dense, got {mode!r}")
    if mode == "sparse" and n >= m:
        raise AccelError(f"sparse mode needs N < M, got {n}:{m}")
    if max_tiles < 1:
        raise AccelError(f"--max-tiles must be >= 1, got {max_tiles}")
    from accel.workloads.builtin import resolve

    prune = f"{n}:{m}" if mode == "sparse" else "dense"
    spec = workload
    is_file = spec.lower().endswith(".npz")
    wl = resolve(spec) if is_file else resolve(spec, prune=prune, seq_len=seq_len)
    ops = [op for op in wl.ops if op.name == layer]
    if not ops:
        names = [op.name for op in wl.ops]
        raise AccelError(f"no layer {layer!r} in {spec}; e.g. {', '.join(names[:3])}")
    tiles = co.op_tiles(ops[0], p, max_tiles, dense=(mode == "dense") or None)
    scen = co.SCENARIOS if stalls else ("unstalled",)
    err_console.print(f"[dim]co-simulating {len(tiles)} tile(s) of {layer} on {p.name}[/dim]")
    rep = co.run_tiles(p, tiles, scenarios=scen, seed=seed, waves=waves)
    d = rep.to_dict()
    d.update({"workload": spec, "layer": layer, "mode": mode})
    if as_json:
        emit_json(d)
    else:
        out_console.print(f"{layer}: {len(rep.outcomes)} tile runs, rtl_cycles {rep.rtl_cycles}, "
                          f"model_cycles {rep.model_cycles}, cycle_mismatches "
                          f"{rep.cycle_mismatches}, outputs_checked {rep.outputs_checked}, "
                          f"output_mismatches {rep.output_mismatches}")
    if rep.tests_failed or rep.cycle_mismatches or rep.output_mismatches:
        raise typer.Exit(1)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add this module's commands to the root app or the `accel sim` group."""
    rtl_app.command("generate")(generate)
    rtl_app.command("synth")(synth)
    rtl_app.command("cosim")(cosim)
    app.add_typer(rtl_app, name="rtl")
