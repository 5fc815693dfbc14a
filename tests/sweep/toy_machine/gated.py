"""The real PIUMA model behind the test gate (``gate.wait``): machine ``piuma-gated``.

Its metrics are PIUMA's own (the same kernels run); the simulate option ``gate`` (a
folder) makes every point wait at the barrier first, so the fault tests on a real
model know exactly which points have finished before they strike."""

from __future__ import annotations

import dataclasses
import inspect

from accel.arch.piuma import model as _piuma
from accel.arch.registry import get

from . import gate as _gate

MODEL_VERSION = _piuma.MODEL_VERSION


def simulate(workload, config, *args, gate: str = "", **options):
    if gate:
        _gate.wait(gate, f"{options}")
    return _piuma.simulate(workload, config, *args, **options)


_sig = inspect.signature(_piuma.simulate)
simulate.__signature__ = _sig.replace(parameters=[
    *_sig.parameters.values(), inspect.Parameter("gate", inspect.Parameter.KEYWORD_ONLY, default="")])


def machine():
    return dataclasses.replace(get("piuma"), name="piuma-gated", model="toy_machine.gated",
                               summary="PIUMA behind a test barrier (tests only).", demo_spec=None,
                               cli="", view="", commands="", readme_claims=())
