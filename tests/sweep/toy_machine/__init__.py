"""A tiny machine for the sweep framework's tests (not shipped with accel).

``toy`` times a GEMM on an R x C output-stationary array whose multipliers skip the
zeros of an N:M weight: cycles = sum over tiles of K * density (rounded up per tile),
and computes C = A @ B with NumPy so its result is checkable like a real model's.
It is registered like any plug-in: a ``Machine`` and one ``register`` call.
"""

from accel.arch.registry import Machine
from accel.arch.registry import register as _register

MACHINE = Machine(
    name="toy",
    summary="A toy N:M output-stationary GEMM array (sweep tests only).",
    config="toy_machine.config",
    model="toy_machine.model",
    result="toy_machine.model:ToyResult",
    workload_kinds=("training", "gemm"),
    workload_knobs=("nm", "seed"),
    workload_source="toy_machine.workloads:toy_workloads",
)


def register() -> Machine:
    """Register ``toy`` and ``piuma-gated`` (the real PIUMA model behind the test gate)."""
    from toy_machine.gated import machine

    _register(machine())
    return _register(MACHINE)
