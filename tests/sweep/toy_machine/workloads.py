"""``toy:MxKxN``: a random GEMM whose weight is dense or N:M (knob ``nm``)."""

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import Dense, nm_compress
from accel.workloads.ops import Gemm, Workload


def toy_workloads(spec, nm="dense", seed=0):
    if not spec.startswith("toy:"):
        raise WorkloadError(f"workload not found: {spec}")
    m, k, n = (int(x) for x in spec[4:].split("x"))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    if str(nm) == "dense":
        b = Dense((k, n), w)
    else:
        nn, mm = (int(x) for x in str(nm).split(":"))
        b = nm_compress(w, nn, mm, axis=0)
    return Workload(spec, [Gemm("g0", "fwd", m, k, n, b, a=a)])
