"""`accel sim piuma`: its options (declarative) and what it runs (no CLI import here)."""

from __future__ import annotations

from accel.arch.registry import REQUIRED, CliOption, CliOutput, CliTable
from accel.errors import WorkloadError

WORKLOAD_HELP = ("Workload: FILE.mtx / FILE.npz (A.A for a single square matrix), FILE.txt[.gz] "
                 "(a SNAP/KONECT edge list: A.A of its adjacency matrix), rmat:S[:EF], or "
                 "minilm-weight[:MODULE[:DENSITY]] (pruned MiniLM weight times its transpose).")

OPTIONS = (
    CliOption("workload", str, REQUIRED, WORKLOAD_HELP, ("--workload", "-w")),
    CliOption("algo", str, "smash-v1",
              "SpGEMM algorithm: smash-v1, smash-v2, smash-v3, inner, outer, "
              "gustavson-dense or all."),
    CliOption("fidelity", str, "auto",
              "Timing of smash-v1's hash probes: exact (each probe books its scratchpad bank), "
              "fast (a probe walk timed whole, bank conflicts left out: ~2x faster on large "
              "graphs, cycles within 0.02 % on R-MAT 10-16), or auto (fast from 2^26 partial "
              "products, rmat:15 and up; the JSON's \"fidelity\" says which ran)."),
    CliOption("arch", str, None, "Preset name or arch YAML file.", shown_default="piuma"),
    CliOption("sets", list, None, "Override a config field (repeatable).", ("--set",),
              shown_default="none"),
)


def spgemm_workload(spec: str):
    """The workload ``spec`` names, checked to hold a SpGEMM the machine can run."""
    from accel.workloads.builtin import resolve
    from accel.workloads.ops import SpGemm

    w = resolve(spec)
    ops = [op for op in w.ops if isinstance(op, SpGemm)]
    if not ops:
        raise WorkloadError(f"workload {spec!r} has no SpGEMM op (the PIUMA model runs A.B)")
    op = ops[0]
    if op.a is op.b and op.a.shape[0] != op.a.shape[1]:
        raise WorkloadError(f"workload {spec!r}: A.A needs a square matrix, got "
                            f"{op.a.shape[0]}x{op.a.shape[1]}")
    return w


def run(note, workload, algo, fidelity, arch, sets) -> CliOutput:
    from accel.arch.piuma.config import DEFAULT_PRESET, PRESETS
    from accel.arch.piuma.machine import MACHINE
    from accel.arch.piuma.model import ALGORITHMS, check_fidelity, simulate_all
    from accel.configs import load_config

    names = tuple(ALGORITHMS) if algo == "all" else (algo,)
    for n in names:
        if n not in ALGORITHMS:
            raise WorkloadError(f"unknown algorithm {n!r}; known: {', '.join(ALGORITHMS)}, all")
    check_fidelity(fidelity)
    cfg = load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)
    w = spgemm_workload(workload)
    MACHINE.check_workload(w)
    # a bar of partial products per algorithm (rmat:16 runs a minute, rmat:20 an hour),
    # only when it is drawn: reporting stops the scheduler every STEPS_PER_CALL steps, and
    # the arena the host holds across a call costs ~15 % more peak memory (rmat:15: 612 MB
    # against 531 MB); --json, a log or a plain ``note`` function run it in one call
    live = getattr(note, "live", False)
    results = simulate_all(w, cfg, names, progress=note.progress if live else None,
                           fidelity=fidelity)
    if algo == "all":
        d = {"workload": w.name, "model_version": results[names[0]].to_dict()["model_version"],
             "algorithms": {n: r.to_dict() for n, r in results.items()}}
    else:
        d = results[algo].to_dict()
    return CliOutput(d, (_table(results),))


def _table(results: dict) -> CliTable:
    cols = ("algorithm", "cycles", "GFLOPS", "DRAM rd MB", "DRAM wr MB", "pp MB", "imbalance",
            "util", "correct")
    rows = tuple((name, f"{r.cycles:,}", f"{r.gflops:.2f}", f"{r.dram_bytes_read / 1e6:.1f}",
                  f"{r.dram_bytes_written / 1e6:.1f}", f"{r.partial_product_bytes / 1e6:.1f}",
                  f"{r.load_imbalance:.2f}", f"{r.pipeline_utilisation:.2f}", str(r.correct))
                 for name, r in results.items())
    fast = any(r.fidelity == "fast" for r in results.values())
    return CliTable("PIUMA SpGEMM (fast fidelity: probe walks timed whole)" if fast
                    else "PIUMA SpGEMM", cols, rows)
