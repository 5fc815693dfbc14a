"""`accel sim systolic`: its options (declarative) and what it runs (no CLI import here).

Either SCALE-Sim's own inputs (``--scalesim-cfg scale.cfg --topology layers.csv``) or
accel's (``--workload`` name/file, ``--arch`` preset/YAML); ``--set`` overrides either.
"""

from __future__ import annotations

from accel.arch.registry import CliOption, CliOutput, CliTable
from accel.errors import ConfigError, WorkloadError

OPTIONS = (
    CliOption("workload", str, None, "Workload: FILE.npz, a SCALE-Sim topology FILE.csv or a "
              "built-in name (minilm-l6, resnet18, llama2-7b, ...); or give --topology.",
              ("--workload", "-w"), shown_default="none, give --topology"),
    CliOption("topology", str, None, "SCALE-Sim topology CSV (GEMM: Layer, M, N, K, Sparsity, "
              "or convolution form).", shown_default="none"),
    CliOption("scalesim_cfg", str, None, "SCALE-Sim scale.cfg (array size, dataflow, "
              "SparsitySupport); instead of --arch.", shown_default="none"),
    CliOption("arch", str, None, "Preset name or arch YAML file.", shown_default="scalesim-32x32-ws"),
    CliOption("sets", list, None, "Override a config field (repeatable).", ("--set",),
              shown_default="none"),
    CliOption("prune", str, "dense", "Pruning of built-in names: dense or N:M."),
    CliOption("seq_len", int, 128, "Tokens per sequence (minilm-l6)."),
    CliOption("seed", int, 0, "Seed of the workload's random choices."),
    CliOption("compute", bool, False, "Also perform every GEMM on the workload's operands "
              "(fold by fold) and compare with NumPy."),
)


def _config(scalesim_cfg, arch, sets):
    from accel.arch.systolic.config import DEFAULT_PRESET, PRESETS
    from accel.arch.systolic.scalesim_io import read_scale_cfg
    from accel.configs import apply_overrides, load_config, parse_sets

    if scalesim_cfg and arch:
        raise ConfigError("give --scalesim-cfg or --arch, not both")
    if scalesim_cfg:
        return apply_overrides(read_scale_cfg(scalesim_cfg), parse_sets(sets))
    return load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)


def _workload(note, workload, topology, prune, seq_len, seed):
    if bool(workload) == bool(topology):
        raise WorkloadError("give --workload or --topology (exactly one)")
    if topology:
        from accel.arch.systolic.scalesim_io import read_topology, refuse_ignored_knobs

        refuse_ignored_knobs(topology, prune=prune, seq_len=seq_len, seed=seed)
        return read_topology(topology)
    from accel.arch.systolic.machine import MACHINE

    note(f"building workload {workload}")     # built-in names may take a while (MiniLM)
    return MACHINE.resolve_workload(workload, prune=prune, seq_len=seq_len, seed=seed)


def run(note, workload, topology, scalesim_cfg, arch, sets, prune, seq_len, seed,
        compute) -> CliOutput:
    from accel.arch.systolic.machine import MACHINE

    cfg = _config(scalesim_cfg, arch, sets)
    w = _workload(note, workload, topology, prune, seq_len, seed)
    res = MACHINE.simulate(w, cfg, compute=compute)
    d = res.to_dict()
    d["inputs"] = {"scalesim_cfg": scalesim_cfg, "topology": topology, "workload": workload}
    if compute:
        import numpy as np

        errs = {}
        for op in w.ops:
            want = np.asarray(op.a, np.float64) @ np.asarray(op.b.to_dense(), np.float64)
            errs[op.name] = float(np.max(np.abs(res.outputs[op.name] - want))) if want.size else 0.0
        d["check"] = {"against": "numpy A @ B", "ops": len(errs),
                      "max_abs_error": max(errs.values())}
    return CliOutput(d, (_table(d),))


def _table(d: dict) -> CliTable:
    rows = tuple((op["name"], str(op["M"]), str(op["N"]), str(op["K"]), str(op["K_streamed"]),
                  op["sparsity"], f"{op['folds']:,}", f"{op['cycles']:,}",
                  f"{op['dense_cycles']:,}", f"{op['mapping_efficiency']:.1%}")
                 for op in d["per_op"])
    cfg = d["config"]
    notes = [f"{cfg['array_rows']}x{cfg['array_cols']} {cfg['dataflow']}: {d['cycles']:,} cycles "
             f"({d['dense_cycles']:,} dense, {d['speedup_vs_dense']:.2f}x), utilization "
             f"{d['utilization']:.1%}, mapping efficiency {d['mapping_efficiency']:.1%}"]
    if "check" in d:
        notes.append(f"computed {d['check']['ops']} GEMMs fold by fold: max |error| vs NumPy "
                     f"{d['check']['max_abs_error']:.3g}")
    return CliTable(f"systolic: {d['workload']}",
                    ("layer", "M", "N", "K", "K streamed", "sparsity", "folds", "cycles",
                     "dense cycles", "map. eff."), rows, tuple(notes))
