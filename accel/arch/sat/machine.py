"""SAT's registration (accel.arch.registry): a declaration, no heavy imports."""

from accel.arch.registry import Machine

MACHINE = Machine(
    name="sat",
    summary="Simulate one training step (fwd, bwd_data, bwd_weight, update) on SAT.",
    config="accel.arch.sat.config",
    model="accel.arch.sat.model",
    result="accel.arch.sat.model:SatResult",
    workload_kinds=("training", "gemm"),
    workload_knobs=("prune", "training", "seq_len", "batch", "seed"),
    cli="accel.arch.sat.cli_options",
    view="accel.arch.sat.view:VIEWS",
    # the RTL resource model of the project's PE array, then the on-chip buffers in
    # URAM/BRAM (accel.hw sits above arch; the sweep layer resolves these references)
    derived_metrics=("accel.hw.resource_metrics:pe_array_metrics",
                     "accel.hw.design_resources:sat_buffer_metrics"),
    demo_spec="sat-minilm-demo",
    commands="accel.arch.sat.commands:COMMANDS",
    readme_claims=("accel.arch.sat.claims:study_claims",
                   "accel.hw.resource_metrics:pe_array_cost_claims"),
    # `accel design build`: the FP16 PE array and the BDWP weight generator (accel.hw)
    design="accel.hw.designs.sat",
)
