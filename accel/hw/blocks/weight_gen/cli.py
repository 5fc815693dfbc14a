"""`accel rtl generate|synth|cosim weight-gen`: options (declarative) and what they run."""

from __future__ import annotations

import json
from pathlib import Path

from accel.arch.registry import REQUIRED, CliOption, CliOutput, CliTable

_GEN = (
    CliOption("n", int, 2, "Kept weights per group."),
    CliOption("m", int, 4, "Group size M."),
    CliOption("lanes", int, 16, "Input channels per block (a multiple of M; the committed "
              "synthesis seed is 2:4 with 4 lanes)."),
)
_COSIM = (
    CliOption("workload", str, REQUIRED, "FILE.npz or minilm-l6 (the layer's dense weight).",
              ("--workload", "-w")),
    CliOption("layer", str, REQUIRED, "Layer, e.g. encoder.layer.0.intermediate.dense."),
    CliOption("n", int, None, "Kept weights per group.", shown_default="N of --prune, else 2"),
    CliOption("m", int, None, "Group size M.", shown_default="M of --prune, else 4"),
    CliOption("prune", str, None, "The N:M to generate, e.g. bdwp:2:8 (sets --n/--m).",
              shown_default="--n/--m"),
    _GEN[2],
    CliOption("seq_len", int, 8, "Tokens (minilm-l6)."),
    CliOption("stalls", bool, True, "Also run random valid/ready stalls and a reset."),
    CliOption("waves", bool, False, "Write a VCD of the run (kept in the build folder).",
              ("--waves",)),
    CliOption("seed", int, 1, "Seed of the random valid/ready stalls and the reset point."),
)
# `rtl synth` defaults to the configuration the committed Yosys seed holds (2:4, 4 lanes):
# 16 lanes take Yosys over ten minutes here, so that size is asked for, not defaulted to.
_SYNTH = (*_GEN[:2], CliOption("lanes", int, 4, "Input channels per block (a multiple of M; "
                               "4 is the committed synthesis seed, 16 takes Yosys minutes)."))
OPTIONS = {"generate": _GEN, "synth": _SYNTH, "cosim": _COSIM}


def generate(out: Path, n, m, lanes) -> CliOutput:
    """Write the generator's Verilog and a JSON sidecar (parameters, timing)."""
    from accel.hw.blocks.paths import check_out_dir, write_outputs
    from accel.hw.blocks.weight_gen.cosim import TOP
    from accel.hw.blocks.weight_gen.cosim import generate as verilog
    from accel.hw.blocks.weight_gen.gen import GenParams

    g = GenParams(n, m, lanes)
    out = check_out_dir(out)
    text = verilog(g)
    side = {"top": TOP, "params": g.to_dict(), "config_hash": g.config_hash(),
            "latency": {"formula": "GEN_START_CYCLES + beats + GEN_LATENCY",
                        "function": "accel.arch.sat.weight_gen.gen_cycles(beats)",
                        "beats": "gen_beats(out, in, M, lanes) = ceil(out/M) * ceil(in/lanes)"}}
    paths = write_outputs(out, {f"{g.name}.v": text,
                                f"{g.name}.json": json.dumps(side, indent=1) + "\n"})
    res = {"block": "weight-gen", "params": g.to_dict(), "config_hash": g.config_hash(),
           "verilog": str(paths[f"{g.name}.v"]), "sidecar": str(paths[f"{g.name}.json"]),
           "latency": side["latency"]["formula"]}
    return CliOutput(res, (CliTable(g.name, ("file", "path"),
                                    (("verilog", res["verilog"]), ("sidecar", res["sidecar"]))),))


def synth(force: bool, n, m, lanes) -> CliOutput:
    """Yosys synth_xilinx (xcup) resource counts of the generator, cached by configuration."""
    from accel.hw.blocks.weight_gen.cosim import synth as run_synth
    from accel.hw.blocks.weight_gen.gen import GenParams

    g = GenParams(n, m, lanes)
    res = run_synth(g, force=force)
    r = res["resources"]
    rows = tuple((k, f"{r[k]:,}") for k in ("LUT", "FF", "CARRY", "DSP48E2", "BRAM"))
    return CliOutput({"block": "weight-gen", **res},
                     (CliTable(f"{g.name}{' (cached)' if res['cached'] else ''}",
                               ("resource", "count"), rows),))


def cosim(workload, layer, n, m, prune, lanes, seq_len, stalls, waves, seed) -> CliOutput:
    """A real layer's dense weight through the Verilated generator; both masks compared
    with prune.py's and the cycles with ``gen_cycles``."""
    from accel.hw.blocks.cosim_runner import cosim_table
    from accel.hw.blocks.options import nm_of
    from accel.hw.blocks.weight_gen.cosim import run_layer

    n, m = nm_of(prune, n, m)
    d = run_layer(workload, layer, n, m, lanes, seq_len=seq_len, stalls=stalls, seed=seed,
                  waves=waves)
    return CliOutput(d, (cosim_table(f"{layer} on the weight generator", d,
                                     ("runs", "model_cycles_per_run")),))
