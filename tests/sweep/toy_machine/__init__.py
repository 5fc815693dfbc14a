"""A tiny machine for the sweep framework's tests (not shipped with accel).

``toy`` times a GEMM on an R x C output-stationary array whose multipliers skip the
zeros of an N:M weight: cycles = sum over tiles of K * density (rounded up per tile),
and computes C = A @ B with NumPy so its result is checkable like a real model's.
"""

from dataclasses import dataclass

import numpy as np

from accel.sweep.machines import MachineAdapter, register_adapter
from accel.workloads.formats import Dense, nm_compress
from accel.workloads.ops import Gemm, Workload


@dataclass(frozen=True)
class ToyAdapter(MachineAdapter):
    def resolve_workload(self, spec, knobs):
        from accel.errors import WorkloadError

        if not spec.startswith("toy:"):
            raise WorkloadError(f"workload not found: {spec}")
        m, k, n = (int(x) for x in spec[4:].split("x"))
        rng = np.random.default_rng(knobs.get("seed", 0))
        a = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((k, n)).astype(np.float32)
        nm = str(knobs.get("nm", "dense"))
        if nm == "dense":
            b = Dense((k, n), w)
        else:
            nn, mm = (int(x) for x in nm.split(":"))
            b = nm_compress(w, nn, mm, axis=0)
        return Workload(spec, [Gemm("g0", "fwd", m, k, n, b, a=a)])


def register() -> ToyAdapter:
    adapter = ToyAdapter("toy", workload_knobs=("nm", "seed"), package="toy_machine")
    register_adapter(adapter)
    return adapter
