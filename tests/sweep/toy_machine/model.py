import os
import signal
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from accel.workloads.formats import density

MODEL_VERSION = "toy-1"


@dataclass
class ToyResult:
    cycles: int
    seconds: float
    pes: int
    max_abs_err: float

    UNITS: ClassVar[dict[str, str]] = {"cycles": "cycles", "seconds": "s", "pes": "PEs",
                                       "max_abs_err": "abs"}

    def to_dict(self):
        return dict(self.__dict__)

    def metrics(self):
        return {"cycles": float(self.cycles), "seconds": self.seconds, "pes": float(self.pes),
                "max_abs_err": self.max_abs_err}


def simulate(workload, config, slow: float = 0.0, fail_rows: int = -1, hang_rows: int = -1,
             die_rows: int = -1, gate: str = ""):
    if gate:   # wait at the test's barrier (toy_machine.gate)
        from toy_machine.gate import wait

        wait(gate, f"rows={config.rows} cols={config.cols}")
    if config.rows == fail_rows:
        raise RuntimeError(f"toy failure at rows={config.rows}")
    if config.rows == hang_rows:     # a point that never ends
        time.sleep(3600)
    if config.rows == die_rows:      # a point that takes its process down (segfault, OOM)
        os.kill(os.getpid(), signal.SIGKILL)
    if slow:
        time.sleep(slow)
    cycles, err = 0, 0.0
    for op in workload.ops:
        tiles = -(-op.M // config.rows) * -(-op.N // config.cols)
        cycles += tiles * int(np.ceil(op.K * density(op.b))) + config.rows + config.cols
        c = op.a @ op.b.to_dense()
        err = max(err, float(np.max(np.abs(c - op.a.astype(np.float64) @ op.b.to_dense()))))
    return ToyResult(cycles, cycles / (config.clock_mhz * 1e6), config.rows * config.cols, err)
