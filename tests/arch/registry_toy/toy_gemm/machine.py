from accel.arch.registry import Machine

MACHINE = Machine(
    name="toy-gemm",
    summary="A toy output-stationary GEMM array (tests only).",
    config="toy_gemm.config",
    model="toy_gemm.model",
    result="toy_gemm.model:ToyGemmResult",
    workload_kinds=("training", "gemm"),
    workload_knobs=("seed",),
    cli="toy_gemm.cli_options",
    view="toy_gemm.view:VIEWS",
    derived_metrics=("toy_gemm.machine:pe_count",),
)


def pe_count(config, workload, metrics):
    return {"pes": float(config.rows * config.cols)}
