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
DTYPE = typer.Option("int8", "--dtype", help="int8 (integer engine) or fp16 (SAT's training "
                     "datapath: FP16 operands, FP32 accumulators; sets the bit widths)")
PIPE = typer.Option(False, "--pipelined/--one-tile",
                    help="shadow accumulators: tiles back to back after one start "
                         "(timed by pe_array.tiles_cycles) instead of one tile per start")


def _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=False,
            dtype="int8"):
    from accel.hw.params import DTYPES, ArrayParams

    if dtype not in DTYPES:
        raise AccelError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if dtype == "fp16":
        if (act_bits, weight_bits, acc_bits) != (8, 8, 32):
            raise AccelError("--dtype fp16 fixes the widths (FP16 operands, FP32 "
                             "accumulators); drop --act-bits/--weight-bits/--acc-bits")
        return ArrayParams.fp16(rows, cols, n, m, pipelined=pipelined)
    return ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=pipelined)


def generate(rows: int = ROWS, cols: int = COLS, n: int = N_OPT, m: int = M_OPT,
             act_bits: int = ACT, weight_bits: int = WGT, acc_bits: int = ACC,
             out: Path = typer.Option(..., "--out", help="output folder"),
             pipelined: bool = PIPE, dtype: str = DTYPE, as_json: bool = JSON) -> None:
    """Write the Verilog of one array configuration and its JSON sidecar."""
    from accel.hw import verilog

    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined, dtype)
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
          pipelined: bool = PIPE, dtype: str = DTYPE, as_json: bool = JSON) -> None:
    """Yosys synth_xilinx (xcup) resource counts, cached by configuration hash."""
    from accel.hw import resources
    from accel.hw.synth import synth as run_synth

    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined, dtype)
    if not force:
        err_console.print(f"[dim]synthesising {p.name} (cached results are reused)[/dim]")
    res = run_synth(p, force=force)
    try:
        est = resources.estimate(rows, cols, n, m, act_bits, weight_bits, acc_bits,
                                 pipelined=pipelined, dtype=p.dtype)
        err = resources.holdout_error(p.dtype)["summary"]
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
                                       help="FILE.npz or minilm-l6 (pruned by --prune)"),
          layer: str = typer.Option(..., "--layer", help="op name, e.g. "
                                    "encoder.layer.0.intermediate.dense (with --training: "
                                    "the layer, the op is LAYER:PHASE)"),
          unit: str = typer.Option("pe-array", "--unit", help="pe-array, or weight-gen (the "
                                   "sparse weight generator on the layer's dense weights)"),
          rows: int = ROWS, cols: int = COLS,
          n: int = typer.Option(None, "--n", help="kept weights per group",
                                show_default="N of --prune, else 2"),
          m: int = typer.Option(None, "--m", help="group size M",
                                show_default="M of --prune, else 4"),
          act_bits: int = ACT, weight_bits: int = WGT, acc_bits: int = ACC,
          mode: str = typer.Option("sparse", "--mode", help="sparse (N:M layer) or dense "
                                   "(dense layer fed as dense groups); INT8 only"),
          prune: str = typer.Option(None, "--prune", help="workload pruning, e.g. 2:8 or "
                                    "bdwp:2:8", show_default="N:M of --n/--m, or dense"),
          training: bool = typer.Option(False, "--training", help="training workload: "
                                        "fwd/bwd_data/bwd_weight GEMMs per layer"),
          phase: str = typer.Option("fwd", "--phase", help="fwd, bwd_data or bwd_weight "
                                    "(with --training)"),
          lanes: int = typer.Option(16, "--lanes", help="weight-gen: columns per beat "
                                    "(a multiple of M)"),
          seq_len: int = typer.Option(8, "--seq-len", help="tokens (minilm-l6)"),
          max_tiles: int = typer.Option(4, "--max-tiles", help="tiles to simulate (cap)"),
          stalls: bool = typer.Option(True, "--stalls/--no-stalls",
                                      help="also run random valid/ready stalls and a reset"),
          waves: bool = typer.Option(False, "--waves", help="write a VCD of the run"),
          seed: int = typer.Option(1, "--seed"),
          pipelined: bool = PIPE, dtype: str = DTYPE, as_json: bool = JSON) -> None:
    """Run a layer through the RTL in Verilator; compare with the model's cycles."""
    from accel.hw import cosim as co
    from accel.workloads.prune import parse_prune

    if unit not in ("pe-array", "weight-gen"):
        raise AccelError(f"--unit must be pe-array or weight-gen, got {unit!r}")
    spec_p = parse_prune(prune) if prune is not None else None
    if spec_p is not None and spec_p.is_nm:
        n = spec_p.n if n is None else n
        m = spec_p.m if m is None else m
    n, m = (2 if n is None else n), (4 if m is None else m)
    if mode not in ("sparse", "dense"):
        raise AccelError(f"--mode must be sparse or dense, got {mode!r}")
    if phase not in ("fwd", "bwd_data", "bwd_weight"):
        raise AccelError(f"--phase must be fwd, bwd_data or bwd_weight, got {phase!r}")
    if max_tiles < 1:
        raise AccelError(f"--max-tiles must be >= 1, got {max_tiles}")
    if unit == "weight-gen":
        return _cosim_weight_gen(workload, layer, n, m, lanes, seq_len, stalls, seed,
                                 waves, as_json)
    p = _params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined, dtype)
    if training and not p.fp:
        raise AccelError("training workloads are FP16 (SAT trains in FP16); pass --dtype fp16")
    if mode == "sparse" and n >= m and not p.fp:
        raise AccelError(f"sparse mode needs N < M, got {n}:{m}")
    from accel.workloads.builtin import resolve

    if prune is None:
        prune = f"{n}:{m}" if mode == "sparse" and n < m else "dense"
    spec = workload
    is_file = spec.lower().endswith(".npz")
    wl = resolve(spec) if is_file else resolve(spec, prune=prune, training=training,
                                               seq_len=seq_len)
    op_name = f"{layer}:{phase}" if training else layer
    ops = [op for op in wl.ops if op.name == op_name]
    if not ops:
        names = [op.name for op in wl.ops]
        raise AccelError(f"no op {op_name!r} in {spec}; e.g. {', '.join(names[:3])}")
    if p.fp:
        tiles = co.op_tiles_fp16(ops[0], p, max_tiles)
    else:
        tiles = co.op_tiles(ops[0], p, max_tiles, dense=(mode == "dense") or None)
    scen = co.SCENARIOS if stalls else ("unstalled",)
    err_console.print(f"[dim]co-simulating {len(tiles)} tile(s) of {op_name} on {p.name}[/dim]")
    rep = co.run_tiles(p, tiles, scenarios=scen, seed=seed, waves=waves)
    d = rep.to_dict()
    d.update({"workload": spec, "layer": layer, "op": op_name, "prune": prune,
              "mode": "dense" if tiles[0].dense else "sparse"})
    if as_json:
        emit_json(d)
    else:
        out_console.print(f"{op_name}: {len(rep.outcomes)} tile runs, rtl_cycles {rep.rtl_cycles}, "
                          f"model_cycles {rep.model_cycles}, cycle_mismatches "
                          f"{rep.cycle_mismatches}, outputs_checked {rep.outputs_checked}, "
                          f"output_mismatches {rep.output_mismatches}")
    if rep.tests_failed or rep.cycle_mismatches or rep.output_mismatches:
        raise typer.Exit(1)


def _cosim_weight_gen(workload, layer, n, m, lanes, seq_len, stalls, seed, waves, as_json):
    from accel.hw import gen_cosim

    rep = gen_cosim.run_layer(workload, layer, n, m, lanes, seq_len=seq_len, stalls=stalls,
                              seed=seed, waves=waves)
    if as_json:
        emit_json(rep)
    else:
        out_console.print(f"{layer} weight-gen: rtl_cycles {rep['rtl_cycles']}, model_cycles "
                          f"{rep['model_cycles']}, cycle_mismatches {rep['cycle_mismatches']}, "
                          f"outputs_checked {rep['outputs_checked']}, output_mismatches "
                          f"{rep['output_mismatches']}")
    if rep["cocotb_failed"] or rep["cycle_mismatches"] or rep["output_mismatches"]:
        raise typer.Exit(1)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add this module's commands to the root app or the `accel sim` group."""
    rtl_app.command("generate")(generate)
    rtl_app.command("synth")(synth)
    rtl_app.command("cosim")(cosim)
    app.add_typer(rtl_app, name="rtl")
