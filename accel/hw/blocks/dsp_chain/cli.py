"""`accel rtl generate|synth|cosim dsp-chain`: options (declarative) and what they run."""

from __future__ import annotations

import json
from pathlib import Path

from accel.arch.registry import CliOption, CliOutput, CliTable
from accel.errors import AccelError

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
    CliOption("seed", int, 1, "Seed of the random valid/ready stalls, the reset point and the synthetic weights."),
)
OPTIONS = {"generate": _CHAIN, "synth": _CHAIN, "cosim": _COSIM}


def params(chain_dsps: int, dsp_group: int, acc_bits: int):
    from accel.hw.blocks.dsp_chain.params import ChainParams

    return ChainParams(chain_dsps, dsp_group, acc_bits)


def generate(out: Path, **opts) -> CliOutput:
    """Write the Verilog of one chain configuration and a JSON sidecar (ports, latency)."""
    from accel.arch.flightllm import dsp_chain as contract
    from accel.atomic_write import atomic_write
    from accel.hw.blocks.dsp_chain import layouts
    from accel.hw.blocks.dsp_chain.verilog import TOP
    from accel.hw.blocks.dsp_chain.verilog import generate as verilog

    p = params(**opts)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        v = atomic_write(out / f"{p.name}.v", verilog(p))
        side = {"top": TOP, "params": p.to_dict(), "config_hash": p.config_hash(),
                "beat_bits": layouts.beat(p).size, "result_bits": layouts.result(p).size,
                "latency": contract.chain_fill_cycles(p.chain_dsps, p.dsp_group),
                "latency_formula": "accel.arch.flightllm.dsp_chain.chain_fill_cycles",
                "op_cycles": "accel.arch.flightllm.dsp_chain.op_cycles"}
        s = atomic_write(out / f"{p.name}.json", json.dumps(side, indent=1) + "\n")
    except OSError as exc:
        raise AccelError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
    res = {"block": "dsp-chain", **side, "verilog": str(v), "sidecar": str(s)}
    return CliOutput(res, (CliTable(p.name, ("file", "path"),
                                    (("verilog", str(v)), ("sidecar", str(s)))),))


def synth(force: bool, **opts) -> CliOutput:
    """Cached Yosys counts of one chain, what Yosys inferred for its DSPs, the resource
    model over the cached sweep and the U280 totals it implies."""
    from accel.hw.blocks.dsp_chain import resources
    from accel.hw.blocks.dsp_chain.synth import load_cache
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
    entries = list(load_cache().values())
    try:
        model = resources.fit(entries)
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


def cosim(ops: str, patterns: str, cols: int, model_config: str, stalls: bool, seed: int,
          **chain) -> CliOutput:
    """Verilator + cocotb run of the chain on MV/MM ops against the model."""
    from accel.hw.blocks.dsp_chain import cosim as C

    p = params(**chain)
    shape = C.TINY_LLAMA
    if model_config:
        from accel.workloads.llm import shape_from_hf_config

        shape = shape_from_hf_config(model_config)
    op_list = C.build_ops(p, tuple(s for s in ops.split(",") if s),
                          tuple(s for s in patterns.split(",") if s), cols, shape, seed)
    scen = C.SCENARIOS if stalls else ("unstalled",)
    r = C.run(p, op_list, scen, seed=seed)
    keys = ("ok", "ops", "op_runs", "value_mismatches", "cycle_mismatches", "outputs_checked",
            "rtl_cycles", "model_cycles", "simulated_cycles", "build_seconds", "sim_seconds")
    return CliOutput(r, (CliTable(f"{p.name} cosim", ("field", "value"),
                                  tuple((k, str(r[k])) for k in keys)),))
