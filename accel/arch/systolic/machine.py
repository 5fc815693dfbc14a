"""The systolic array's registration (accel.arch.registry): a declaration, no heavy imports."""

from accel.arch.registry import Machine

MACHINE = Machine(
    name="systolic",
    summary="Time (and compute) GEMMs on a SCALE-Sim-style systolic array (ws/os/is, dense or N:M); "
            "reads SCALE-Sim's scale.cfg and topology CSVs.",
    config="accel.arch.systolic.config",
    model="accel.arch.systolic.model",
    result="accel.arch.systolic.model:SystolicResult",
    workload_kinds=("gemm", "llm", "training"),      # every op a GEMM; SpGEMM is refused
    workload_knobs=("prune", "training", "seq_len", "batch", "seed"),
    cli="accel.arch.systolic.cli_options",
    view="accel.arch.systolic.view:VIEWS",
    demo_spec="systolic-minilm-demo",
    workload_source="accel.arch.systolic.scalesim_io:workload_source",   # *.csv: SCALE-Sim topology
)
