"""Training workloads: each linear (or im2col-lowered conv) layer becomes three GEMMs.

For a layer ``y = x @ W.T`` with W (out, in) and T tokens (batch x seq, or batch x
output pixels for a conv):

  ``{layer}:fwd``        Y  = X  @ W.T    M=T,   K=in,  N=out   B = W.T, N:M along input channels
  ``{layer}:bwd_data``   dX = dY @ W      M=T,   K=out, N=in    B = W,   N:M along output channels
  ``{layer}:bwd_weight`` dW = dY.T @ X    M=out, K=T,   N=in    B = X,   dense

Methods (REFERENCE section 1):
  ``bdwp``  - bidirectional: fwd mask = top-N of M along input channels, bwd mask =
              top-N of M along output channels, both from the dense weights;
  ``srste`` - one-directional (SR-STE): only the forward mask; bwd_data multiplies by
              the same masked W, which is *not* N:M along its reduction axis, so it runs
              as an unstructured (dense-engine) GEMM;
  ``dense`` - no pruning.
The weight-update GEMM has no weight operand and is dense in every method.

The output gradient ``dY`` is synthetic (seeded standard normal scaled by
``grad_scale``): a training step's real gradient needs a loss and labels that a
timing workload does not have; the cycle count does not depend on dY's values.
"""

from __future__ import annotations

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import NM, Dense, Unstructured, nm_compress
from accel.workloads.ops import Gemm

TRAINING_METHODS = ("bdwp", "srste", "dense")
GRAD_SCALE = 1e-3  # typical magnitude of back-propagated activation gradients (order only)


def training_ops(name: str, w: np.ndarray, x: np.ndarray, n: int, m: int,
                 method: str = "bdwp", seed: int = 0, bits: int = 16) -> list[Gemm]:
    """The fwd, bwd_data and bwd_weight GEMMs of one layer (see module docstring)."""
    if method not in TRAINING_METHODS:
        raise WorkloadError(f"unknown training method {method!r}; known: {', '.join(TRAINING_METHODS)}")
    w = np.asarray(w, dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    out_ch, in_ch = w.shape
    tokens = x.shape[0]
    if x.shape[1] != in_ch:
        raise WorkloadError(f"layer {name}: activations have {x.shape[1]} channels, weight expects {in_ch}")
    rng = np.random.default_rng(seed)
    dy = (rng.standard_normal((tokens, out_ch)) * GRAD_SCALE).astype(np.float32)

    sparse = method != "dense" and n < m
    b_fwd = nm_compress(w.T, n, m, axis=0) if sparse else Dense((in_ch, out_ch), w.T.copy())
    if not sparse:
        b_bwd = Dense((out_ch, in_ch), w.copy())
    elif method == "bdwp":
        b_bwd = nm_compress(w, n, m, axis=0)
    else:  # srste: same forward mask, transposed -> unstructured along out channels
        import scipy.sparse as sp

        masked = b_fwd.to_dense().T.copy()  # (out, in)
        b_bwd = Unstructured.from_scipy(sp.csr_matrix(masked))
    return [
        Gemm(f"{name}:fwd", "fwd", tokens, in_ch, out_ch, b_fwd, a=x, a_bits=bits, b_bits=bits,
             source=name, source_axis=1 if isinstance(b_fwd, NM) else None),
        Gemm(f"{name}:bwd_data", "bwd_data", tokens, out_ch, in_ch, b_bwd, a=dy, a_bits=bits,
             b_bits=bits, source=name, source_axis=0 if isinstance(b_bwd, NM) else None),
        Gemm(f"{name}:bwd_weight", "bwd_weight", out_ch, tokens, in_ch,
             Dense((tokens, in_ch), x), a=np.ascontiguousarray(dy.T), a_bits=bits, b_bits=bits,
             source=name),
    ]
