"""PIUMA's registration (accel.arch.registry): a declaration, no heavy imports."""

from accel.arch.registry import Machine

MACHINE = Machine(
    name="piuma",
    summary="Simulate SpGEMM C = A.B on a PIUMA-style many-threaded machine.",
    config="accel.arch.piuma.config",
    model="accel.arch.piuma.model",
    result="accel.arch.piuma.model:Result",
    workload_kinds=("spgemm",),
    workload_knobs=("prune", "training", "seq_len", "batch", "seed"),
    cli="accel.arch.piuma.cli_options",
    view="accel.arch.piuma.view:VIEWS",
    derived_metrics=("accel.arch.piuma.machine:traffic_metrics",),
    demo_spec="piuma-rmat-demo",
    readme_claims=("accel.arch.piuma.claims:study_claims",),
    warm="accel.arch.piuma.warm:warm",
)


def traffic_metrics(config, workload, metrics) -> dict[str, float]:
    """Total DRAM traffic, the objective the PIUMA sweeps minimise."""
    if "dram_bytes_read" in metrics and "dram_bytes_written" in metrics:
        return {"dram_bytes": metrics["dram_bytes_read"] + metrics["dram_bytes_written"]}
    return {}
