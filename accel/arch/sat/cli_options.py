"""`accel sim sat`: its options (declarative) and what it runs (no CLI import here)."""

from __future__ import annotations

from accel.arch.registry import REQUIRED, CliOption, CliOutput, CliTable

OPTIONS = (
    CliOption("workload", str, REQUIRED, "Workload: FILE.npz, minilm-l6, resnet18, resnet50 or "
              "vit-b16 (built with training phases).",
              ("--workload", "-w")),
    CliOption("arch", str, None, "Preset name or arch YAML file.", shown_default="sat-vcu1525"),
    CliOption("sets", list, None, "Override a config field (repeatable).", ("--set",),
              shown_default="none"),
    CliOption("prune", str, "bdwp:2:8", "Pruning of built-in names: dense, N:M or bdwp:N:M.",
              ("--prune", "--nm")),
    CliOption("batch", int, None, "Batch of built-in names.", shown_default="per model"),
    CliOption("seq_len", int, 128, "Tokens per sequence (minilm-l6)."),
    CliOption("seed", int, 0, "Seed of the workload's random choices (masks, synthetic gradients)."),
    CliOption("pregen", bool, True, "Pre-generate the N:M sparse weights."),
    CliOption("interleave", bool, True, "Interleave the mapping of phases."),
    CliOption("offline_sched", bool, True, "Schedule each layer offline."),
)


def run(note, workload, arch, sets, prune, batch, seq_len, seed, pregen, interleave,
        offline_sched) -> CliOutput:
    from accel.arch.sat.config import DEFAULT_PRESET, PRESETS
    from accel.arch.sat.machine import MACHINE
    from accel.configs import load_config
    from accel.workloads.builtin import resolve

    cfg = load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)
    note(f"building workload {workload}")
    w = resolve(workload, prune=prune, training=True, batch=batch, seq_len=seq_len, seed=seed)
    res = MACHINE.simulate(w, cfg, pregen=pregen, interleave=interleave,
                           offline_sched=offline_sched)
    d = res.to_dict()
    return CliOutput(d, (_table(d),))


def _table(d: dict) -> CliTable:
    rows = []
    for ph, v in d["per_phase"].items():
        sp = v["dense_cycles"] / v["cycles"] if v["cycles"] else float("nan")
        rows.append((ph, f"{v['cycles']:,}", f"{v['dense_cycles']:,}", f"{sp:.2f}x"))
    rows.append(("total", f"{d['cycles']:,}", f"{d['dense_cycles']:,}",
                 f"{d['speedup_vs_dense']:.2f}x"))
    note = (f"speedup {d['speedup_vs_dense']:.3f}x (Amdahl ceiling {d['speedup_ceiling']:.3f}x), "
            f"{d['seconds'] * 1e3:.3f} ms simulated, utilization {d['utilization']:.1%}, "
            f"DRAM {d['dram_bytes'] / 1e6:.1f} MB")
    return CliTable(f"SAT: {d['workload']}", ("phase", "cycles", "dense cycles", "speedup"),
                    tuple(rows), (note,))
