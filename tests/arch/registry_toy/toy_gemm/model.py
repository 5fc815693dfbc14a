"""Output-stationary R x C array: each output tile takes K cycles (one MAC per PE per cycle)."""

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

MODEL_VERSION = "toy-gemm-1"


@dataclass
class ToyGemmResult:
    cycles: int
    max_abs_err: float
    outputs: dict = field(default_factory=dict, repr=False)

    UNITS: ClassVar[dict[str, str]] = {"cycles": "cycles", "max_abs_err": "abs"}

    def to_dict(self):
        return {"cycles": self.cycles, "max_abs_err": self.max_abs_err}

    def metrics(self):
        return {"cycles": float(self.cycles), "max_abs_err": self.max_abs_err}


def simulate(workload, config, skip_zero_k: bool = False) -> ToyGemmResult:
    cycles, err, outs = 0, 0.0, {}
    for op in workload.ops:
        b = op.b.to_dense()
        a = np.asarray(op.a, dtype=np.float64)
        c = a @ b
        k = int(np.count_nonzero(np.any(b != 0, axis=1))) if skip_zero_k else op.K
        tiles = -(-op.M // config.rows) * -(-op.N // config.cols)
        cycles += tiles * k
        err = max(err, float(np.max(np.abs(c - a @ np.asarray(b)))))
        outs[op.name] = c
    return ToyGemmResult(cycles, err, outs)
