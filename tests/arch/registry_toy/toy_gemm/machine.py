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
    workload_source="toy_gemm.machine:toy_workloads",
)


def toy_workloads(spec, seed=0):
    """``toy:MxKxN``: a random dense GEMM only this machine knows (else None: the resolver)."""
    if not spec.startswith("toy:"):
        return None
    import numpy as np

    from accel.workloads.formats import Dense
    from accel.workloads.ops import Gemm, Workload

    m, k, n = (int(x) for x in spec[4:].split("x"))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    return Workload(spec, [Gemm("g0", "fwd", m, k, n, Dense((k, n), rng.standard_normal((k, n))
                                                           .astype(np.float32)), a=a)])


def pe_count(config, workload, metrics):
    return {"pes": float(config.rows * config.cols)}
