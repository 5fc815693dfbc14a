"""`accel rtl generate|synth|cosim pe-array`: options (declarative) and what they run."""

from __future__ import annotations

from pathlib import Path

from accel.arch.registry import REQUIRED, CliOption, CliOutput, CliTable
from accel.errors import AccelError

_ARRAY = (
    CliOption("rows", int, 4, "PE-array rows (output rows per tile)."),
    CliOption("cols", int, 4, "PE-array columns (output columns per tile)."),
    CliOption("n", int, 2, "Kept weights per group (multipliers per PE)."),
    CliOption("m", int, 4, "Group size M (activation window)."),
)
_WIDTHS = (
    CliOption("act_bits", int, 8, "Activation width."),
    CliOption("weight_bits", int, 8, "Weight width."),
    CliOption("acc_bits", int, 32, "Accumulator width."),
    CliOption("pipelined", bool, False, "Shadow accumulators: tiles back to back after one "
              "start (timed by pe_array.tiles_cycles) instead of one tile per start.",
              ("--pipelined/--one-tile",)),
    CliOption("dtype", str, "int8", "Int8 (integer engine) or fp16 (SAT's training datapath: "
              "FP16 operands, exact accumulation, FP32 results; sets the bit widths)."),
)
_COSIM = (
    CliOption("workload", str, REQUIRED, "FILE.npz or minilm-l6 (pruned by --prune).",
              ("--workload", "-w")),
    CliOption("layer", str, REQUIRED, "Op name, e.g. encoder.layer.0.intermediate.dense "
              "(with --training: the layer, the op is LAYER:PHASE)."),
    *_ARRAY[:2],
    CliOption("n", int, None, "Kept weights per group.", shown_default="N of --prune, else 2"),
    CliOption("m", int, None, "Group size M.", shown_default="M of --prune, else 4"),
    *_WIDTHS,
    CliOption("mode", str, "sparse", "Sparse (N:M layer) or dense (dense layer fed as dense "
              "groups); INT8 only."),
    CliOption("prune", str, None, "Workload pruning, e.g. 2:8 or bdwp:2:8.",
              shown_default="N:M of --n/--m, or dense"),
    CliOption("training", bool, False, "Training workload: fwd/bwd_data/bwd_weight GEMMs per "
              "layer.", ("--training",)),
    CliOption("phase", str, "fwd", "Fwd, bwd_data or bwd_weight (bwd_* need --training)."),
    CliOption("seq_len", int, 8, "Tokens (minilm-l6)."),
    CliOption("max_tiles", int, 4, "Tiles to simulate (cap)."),
    CliOption("stalls", bool, True, "Also run random valid/ready stalls and a reset."),
    CliOption("waves", bool, False, "Write a VCD of the run (kept in the build folder).",
              ("--waves",)),
    CliOption("seed", int, 1, "Seed of the random valid/ready stalls and the reset point."),
)
OPTIONS = {"generate": _ARRAY + _WIDTHS, "synth": _ARRAY + _WIDTHS, "cosim": _COSIM}


def params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=False, dtype="int8"):
    """Validated ``ArrayParams`` from the command line's values."""
    from accel.hw.blocks.pe_array.params import DTYPES, ArrayParams

    if dtype not in DTYPES:
        raise AccelError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if dtype == "fp16":
        if (act_bits, weight_bits, acc_bits) != (8, 8, 32):
            raise AccelError("--dtype fp16 fixes the widths (FP16 operands, FP32 "
                             "accumulators); drop --act-bits/--weight-bits/--acc-bits")
        return ArrayParams.fp16(rows, cols, n, m, pipelined=pipelined)
    return ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=pipelined)


def generate(out: Path, **opts) -> CliOutput:
    """Write the Verilog of one array configuration and its JSON sidecar."""
    from accel.hw.blocks.pe_array import verilog

    p = params(**opts)
    paths = verilog.write(p, out)
    res = {"block": "pe-array", "params": p.to_dict(), "config_hash": p.config_hash(),
           "verilog": str(paths["verilog"]), "sidecar": str(paths["sidecar"]),
           "latency": verilog.sidecar(p)["latency"]["formula"]}
    return CliOutput(res, (CliTable(p.name, ("file", "path"),
                                    (("verilog", res["verilog"]), ("sidecar", res["sidecar"]))),))


def synth(force: bool, **opts) -> CliOutput:
    """Yosys synth_xilinx (xcup) resource counts, cached by configuration hash, and the
    resource model's estimate of the same configuration."""
    from accel.hw.blocks.pe_array import resources
    from accel.hw.blocks.pe_array.synth import synth as run_synth

    p = params(**opts)
    res = run_synth(p, force=force)
    try:
        res["model_estimate"] = resources.estimate(
            p.rows, p.cols, p.n, p.m, p.act_bits, p.weight_bits, p.acc_bits,
            pipelined=p.pipelined, dtype=p.dtype)
        res["model_holdout_error"] = resources.holdout_error(p.dtype)["summary"]
    except RuntimeError as exc:       # fewer than 4 cached configurations
        res["model_estimate"] = None
        res["model_note"] = str(exc)
    r = res["resources"]
    rows = tuple((k, f"{r[k]:,}") for k in ("LUT", "FF", "CARRY", "DSP48E2", "BRAM"))
    return CliOutput({"block": "pe-array", **res},
                     (CliTable(f"{p.name}{' (cached)' if res['cached'] else ''}",
                               ("resource", "count"), rows),))


def cosim(workload, layer, rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined,
          dtype, mode, prune, training, phase, seq_len, max_tiles, stalls, waves,
          seed) -> CliOutput:
    """Run a layer's tiles through the Verilated array; compare with the model's cycles."""
    from accel.hw.blocks.cosim_runner import cosim_table
    from accel.hw.blocks.options import nm_of
    from accel.hw.blocks.pe_array import cosim as co
    from accel.workloads.builtin import resolve

    n, m = nm_of(prune, n, m)
    if mode not in ("sparse", "dense"):
        raise AccelError(f"--mode must be sparse or dense, got {mode!r}")
    if phase not in ("fwd", "bwd_data", "bwd_weight"):
        raise AccelError(f"--phase must be fwd, bwd_data or bwd_weight, got {phase!r}")
    if phase != "fwd" and not training:
        raise AccelError(f"--phase {phase} needs --training (an inference workload has only "
                         "the fwd GEMM)")
    if max_tiles < 1:
        raise AccelError(f"--max-tiles must be >= 1, got {max_tiles}")
    p = params(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined, dtype)
    if training and not p.fp:
        raise AccelError("training workloads are FP16 (SAT trains in FP16); pass --dtype fp16")
    if mode == "sparse" and n >= m and not p.fp:
        raise AccelError(f"sparse mode needs N < M, got {n}:{m}")
    if prune is None:
        prune = f"{n}:{m}" if mode == "sparse" and n < m else "dense"
    is_file = workload.lower().endswith(".npz")
    wl = resolve(workload) if is_file else resolve(workload, prune=prune, training=training,
                                                   seq_len=seq_len)
    op_name = f"{layer}:{phase}" if training else layer
    ops = [op for op in wl.ops if op.name == op_name]
    if not ops:
        names = [op.name for op in wl.ops]
        raise AccelError(f"no op {op_name!r} in {workload}; e.g. {', '.join(names[:3])}")
    if p.fp:
        tiles = co.op_tiles_fp16(ops[0], p, max_tiles)
    else:
        tiles = co.op_tiles(ops[0], p, max_tiles, dense=(mode == "dense") or None)
    scen = co.SCENARIOS if stalls else ("unstalled",)
    rep = co.run_tiles(p, tiles, scenarios=scen, seed=seed, waves=waves)
    d = co.report_dict(rep)
    d.update({"block": "pe-array", "workload": workload, "layer": layer, "op": op_name,
              "prune": prune, "mode": "dense" if tiles[0].dense else "sparse"})
    return CliOutput(d, (cosim_table(f"{op_name} on {p.name}", d, ("tiles", "tile_runs")),))
