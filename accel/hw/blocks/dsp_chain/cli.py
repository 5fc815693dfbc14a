"""`accel rtl generate|synth|cosim dsp-chain`: options (declarative) and what they run."""

from __future__ import annotations

import json
from pathlib import Path

from accel.arch.registry import CliOption, CliOutput, CliTable

_CHAIN = (
    CliOption("chain_dsps", int, 16, "DSP48E2s in the chain (FlightLLM chain_dsps)."),
    CliOption("dsp_group", int, 2, "DSPs per group between reduction nodes (FlightLLM "
              "dsp_group)."),
    CliOption("acc_bits", int, 32, "Per-row accumulator width."),
)
_COSIM = (
    *_CHAIN,
    CliOption("ops", str, "tiny,llama,mm", "Op sets: tiny (tiny-llama q/k/v/o/gate/up/down "
              "MV per pattern), llama (LLaMA2-7B q_proj slice, 0.7-dense), mm (dense MM)."),
    CliOption("patterns", str, "2,4,8,16,mixed", "N:16 patterns of the tiny ops (N, or mixed)."),
    CliOption("cols", int, 2, "Output columns of each op computed on the chain."),
    CliOption("model_config", str, "", "Hugging Face config.json of the tiny model.",
              shown_default="the tiny-llama shape (hidden 256, FFN 512, 4 heads)"),
    CliOption("stalls", bool, True, "Also run random valid/ready stalls and a reset."),
    CliOption("waves", bool, False, "Write a VCD of the run (kept in the build folder).",
              ("--waves",)),
    CliOption("seed", int, 1, "Seed of the random valid/ready stalls, the reset point and the synthetic weights."),
)
OPTIONS = {"generate": _CHAIN, "synth": _CHAIN, "cosim": _COSIM}


def params(chain_dsps: int, dsp_group: int, acc_bits: int):
    from accel.hw.blocks.dsp_chain.params import ChainParams

    return ChainParams(chain_dsps, dsp_group, acc_bits)


def generate(out: Path, **opts) -> CliOutput:
    """Write the Verilog of one chain configuration and a JSON sidecar (ports, latency)."""
    from accel.arch.flightllm import dsp_chain as contract
    from accel.hw.blocks.dsp_chain import layouts
    from accel.hw.blocks.dsp_chain.verilog import TOP
    from accel.hw.blocks.dsp_chain.verilog import generate as verilog
    from accel.hw.blocks.paths import check_out_dir, write_outputs

    p = params(**opts)
    out = check_out_dir(out)
    side = {"top": TOP, "params": p.to_dict(), "config_hash": p.config_hash(),
            "beat_bits": layouts.beat(p).size, "result_bits": layouts.result(p).size,
            "latency": contract.chain_fill_cycles(p.chain_dsps, p.dsp_group),
            "latency_formula": "accel.arch.flightllm.dsp_chain.chain_fill_cycles",
            "op_cycles": "accel.arch.flightllm.dsp_chain.op_cycles"}
    paths = write_outputs(out, {f"{p.name}.v": verilog(p),
                                f"{p.name}.json": json.dumps(side, indent=1) + "\n"})
    v, s = str(paths[f"{p.name}.v"]), str(paths[f"{p.name}.json"])
    res = {"block": "dsp-chain", **side, "verilog": v, "sidecar": s}
    return CliOutput(res, (CliTable(p.name, ("file", "path"), (("verilog", v), ("sidecar", s))),))


def synth(force: bool, **opts) -> CliOutput:
    """Cached Yosys counts of one chain, what Yosys inferred for its DSPs, the resource
    model over the cached sweep and the U280 totals it implies."""
    from accel.hw.blocks.dsp_chain import resources
    from accel.hw.blocks.dsp_chain.synth import entries
    from accel.hw.blocks.dsp_chain.synth import synth as run

    p = params(**opts)
    r = run(p, force=force)
    res = {"block": "dsp-chain", "params": p.to_dict(), "config_hash": r["config_hash"],
           "cached": r["cached"], "resources": r["resources"],
           "dsp_inference": r["dsp_inference"],
           "ff_dsp_absorbable": resources.dsp_absorbable_ff(p.chain_dsps, p.dsp_group)}
    tables = [CliTable(f"{p.name} (yosys synth_xilinx -family xcup)", ("resource", "count"),
                       tuple((k, str(v)) for k, v in r["resources"].items()),
                       (f"DSP48E2 inferred {r['dsp_inference']['dsp48e2']}, "
                        f"{r['dsp_inference']['pcin_cascaded']} fed over PCIN; registers "
                        f"{r['dsp_inference']['registers']}",
                        f"{res['ff_dsp_absorbable']} of the FFs are DSP A/B/M/P and skew "
                        f"registers a DSP48E2 holds (Yosys 0.70 packs none for xcup)"))]
    try:
        model = resources.fit(entries())
    except ValueError:
        model = None
    if model is not None:
        res["model"] = model
        res["u280"] = resources.u280_totals(resources.predict(model, 16, 2))
        u = res["u280"]
        tables.append(CliTable(
            f"U280: {u['total_chains']} chains of {u['chain_dsps']} DSPs "
            f"({u['cores']} cores x {u['chains']})", ("resource", "chains", "paper", "share"),
            tuple((k, f"{u['totals'][k]:,}", f"{u['paper'][k]:,}",
                   f"{u['share_of_paper'][k]:.0%}") for k in u["paper"]),
            tuple(f"{k}: leave-one-out error mean {model[k]['loo_mean_rel_err']:.1%}, max "
                  f"{model[k]['loo_max_rel_err']:.1%}" for k in resources.RESOURCES)))
    return CliOutput(res, tuple(tables))


def cosim(ops: str, patterns: str, cols: int, model_config: str, stalls: bool, waves: bool,
          seed: int, **chain) -> CliOutput:
    """Verilator + cocotb run of the chain on MV/MM ops against the model."""
    from accel.hw.blocks.cosim_runner import cosim_table
    from accel.hw.blocks.dsp_chain import cosim as C

    p = params(**chain)
    shape = C.TINY_LLAMA
    if model_config:
        from accel.workloads.llm import shape_from_hf_config

        shape = shape_from_hf_config(model_config)
    op_list = C.build_ops(p, tuple(s for s in ops.split(",") if s),
                          tuple(s for s in patterns.split(",") if s), cols, shape, seed)
    scen = C.SCENARIOS if stalls else ("unstalled",)
    r = C.run(p, op_list, scen, seed=seed, waves=waves)
    return CliOutput(r, (cosim_table(f"{p.name} cosim", r, ("ops", "op_runs", "beats")),))
