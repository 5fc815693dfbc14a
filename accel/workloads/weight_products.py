"""SpGEMM workloads made of real checkpoint weights: ``W . W^T`` of one pruned layer.

The built-in name ``minilm-weight[:MODULE[:DENSITY]]`` (accel.workloads.builtin) stands
for this: a real, irregular sparse matrix for the SpGEMM machines, next to the
synthetic R-MAT graphs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured
from accel.workloads.ops import SpGemm, Workload

DEFAULT_MODULE = "encoder.layer.0.intermediate.dense"  # as `accel sim piuma` has always used
DEFAULT_DENSITY = 0.1  # as `accel sim piuma` has always used


def pruned_weight_workload(module: str = DEFAULT_MODULE,
                           density: float = DEFAULT_DENSITY, model: str = "minilm-l6") -> Workload:
    """W . W^T of one real checkpoint weight, magnitude-pruned (unstructured) to ``density``."""
    from accel.workloads.checkpoint import load_linear_weights
    from accel.workloads.prune import unstructured

    weights = load_linear_weights(model)
    if module not in weights:
        raise WorkloadError(f"no linear layer {module!r} in {model} (e.g. "
                            f"{', '.join(list(weights)[:3])}, ...)")
    w = np.asarray(weights[module], dtype=np.float64)
    mask = unstructured(w, density)
    a = Unstructured.from_scipy(sp.csr_matrix(np.where(mask, w, 0.0)))
    b = Unstructured.from_scipy(sp.csr_matrix(np.where(mask, w, 0.0).T))
    op = SpGemm("W*W^T", a, b)
    return Workload(f"{model}:{module}@{density:g}", [op],
                    {"source": model, "module": module, "prune": f"unstructured:{density:g}"})
