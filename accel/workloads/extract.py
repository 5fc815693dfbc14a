"""Workload builders from a real checkpoint: every block linear becomes a GEMM.

Inference (``training=False``): one ``Gemm`` per linear, named by its module name,
phase ``infer``, ``C = A @ B`` with A = the layer's captured input activations
(batch * seq_len, in) and B = W^T (in, out) pruned as ``--prune`` says, groups along
axis 0 (input channels).  INT8 copies (``a_q`` per-row scales, ``b_q`` per-column
scales, see :mod:`accel.workloads.quantize`) ride along for the RTL path.

Training (``training=True``): each linear's ``fwd``, ``bwd_data`` and ``bwd_weight``
GEMMs from :func:`accel.workloads.training.training_ops` -- ``bdwp:N:M`` gives BDWP's
two masks, ``N:M`` SR-STE's forward-only mask, ``dense`` no pruning.

Checkpoints without a forward pass here (LLaMA/OPT folders) still give inference GEMMs
with their real weights, but no activation operand (``a`` is None); methods that need
activations (Wanda, training) are refused for them with a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

import accel
from accel.errors import WorkloadError
from accel.workloads import prune as P
from accel.workloads.checkpoint import (
    BUILTIN_MODELS,
    checkpoint_family,
    load_linear_weights,
    model_folder,
)
from accel.workloads.formats import Dense, Format, Unstructured, block_compress, nm_compress
from accel.workloads.ops import Gemm, Workload
from accel.workloads.quantize import quantize_symmetric, quantize_weight
from accel.workloads.training import training_ops

TRAINING_PRUNE = ("dense", "nm", "bdwp")  # methods a training workload can use
# Bytes an extraction holds per token and per feature of every linear (in + out): the
# float32 input activations kept in the workload, their INT8 copies and the forward
# pass's temporaries.  Measured on MiniLM-L6 (peak RSS, --batch 1 vs 16 at --seq-len 128):
# ~11 MB a sequence = ~2.2 B per token-feature; 4 keeps a 2x margin.  Training also holds
# output gradients and the bwd operands: twice that (an estimate, not a measurement).
BYTES_PER_TOKEN_FEATURE = 4
TRAINING_FACTOR = 2


def _weight_format(spec: P.PruneSpec, w: np.ndarray, x: np.ndarray | None) -> Format:
    """B = W^T (in, out) of an inference GEMM in the format ``spec`` asks for."""
    wt = np.ascontiguousarray(w.T)
    if spec.method == "dense":
        return Dense(wt.shape, wt)
    # N:M selection happens inside nm_compress (the one top-N rule, = prune.nm_mask)
    if spec.method in ("nm", "bdwp"):  # inference uses BDWP's forward mask only
        return nm_compress(wt, spec.n, spec.m, axis=0)
    if spec.method == "wanda" and spec.n is not None:
        return nm_compress(wt, spec.n, spec.m, axis=0, score=P.wanda_score(w, x).T)
    if spec.method in ("unstructured", "wanda"):
        import scipy.sparse as sp

        mask = (P.unstructured(w, spec.density) if spec.method == "unstructured"
                else P.wanda(w, x, density=spec.density))
        # keep explicit zeros out of CSR: a kept weight that is exactly 0 is not stored
        return Unstructured.from_scipy(sp.csr_matrix(np.where(mask.T, wt, 0.0).astype(np.float32)))
    if spec.method == "block":
        return block_compress(wt, P.block_nm(wt, spec.n))
    raise WorkloadError(f"unknown pruning method {spec.method!r}")  # pragma: no cover


def validate_request(prune: str, seq_len: int, batch: int, training: bool) -> P.PruneSpec:
    """Check every flag before any work is done (so bad input fails fast, writes nothing)."""
    from accel.workloads.minilm import MAX_POSITIONS

    spec = P.parse_prune(prune)
    if not isinstance(seq_len, int | np.integer) or not 2 <= seq_len <= MAX_POSITIONS:
        raise WorkloadError(f"--seq-len must be in 2..{MAX_POSITIONS}, got {seq_len}")
    if not isinstance(batch, int | np.integer) or batch < 1:
        raise WorkloadError(f"--batch must be a positive integer, got {batch}")
    if training and spec.method not in TRAINING_PRUNE:
        raise WorkloadError(f"--training supports --prune dense, N:M or bdwp:N:M, got {prune!r}")
    return spec


def check_checkpoint(spec: P.PruneSpec, model: str, checkpoint, training: bool) -> str:
    """The checkpoint's family, after checking it can give what ``spec`` needs."""
    weights = load_linear_weights(model, None if checkpoint is None else str(checkpoint))
    family = checkpoint_family(f"{k}.weight" for k in weights)
    if family != "bert" and (training or spec.method == "wanda"):
        raise WorkloadError(f"{family} checkpoints have no forward pass in accel, so "
                            f"--prune {spec.text} {'--training ' if training else ''}needs "
                            f"activations it cannot have; use N:M, unstructured or block")
    return family


def check_extraction_memory(weights: dict[str, np.ndarray], seq_len: int, batch: int,
                            training: bool) -> None:
    """Refuse ``batch`` x ``seq_len`` tokens whose activations would not fit this machine
    (accel.memory), before any is allocated; the error names the largest batch that fits."""
    from accel.memory import check_memory, memory_budget

    per_token = (sum(int(w.shape[0]) + int(w.shape[1]) for w in weights.values())
                 * BYTES_PER_TOKEN_FEATURE * (TRAINING_FACTOR if training else 1))
    fits = memory_budget() // max(1, per_token * seq_len)
    check_memory(float(per_token) * seq_len * batch,
                 f"--batch {batch} x --seq-len {seq_len} ({seq_len * batch:,} tokens)",
                 WorkloadError, hint=f"at most --batch {fits} at this --seq-len")


def extract_workload(model: str = "minilm-l6", checkpoint: str | os.PathLike | None = None,
                     prune: str = "dense", seq_len: int = 128, batch: int = 1,
                     training: bool = False, seed: int = 0,
                     advance: Callable[[int], None] | None = None) -> Workload:
    """Build the workload of every block linear of a checkpoint (module docstring)."""
    spec = validate_request(prune, seq_len, batch, training)
    family = check_checkpoint(spec, model, checkpoint, training)
    folder = model_folder(model, checkpoint)
    weights = load_linear_weights(model, None if checkpoint is None else str(checkpoint))
    check_extraction_memory(weights, seq_len, batch, training)
    if family == "bert":
        from accel.workloads.minilm import capture_activations

        acts = capture_activations(folder, seq_len, batch)
    else:
        acts = {}
    tokens = seq_len * batch
    ops: list[Gemm] = []
    for name, w in weights.items():
        x = acts.get(name)
        if training:
            method = "bdwp" if spec.method == "bdwp" else ("srste" if spec.is_nm else "dense")
            ops.extend(training_ops(name, w, x, spec.n or 1, spec.m or 1, method=method, seed=seed))
        else:
            b = _weight_format(spec, w, x)
            b_q, b_scale = quantize_weight(b)
            a_q, a_scale = quantize_symmetric(x, axis=0) if x is not None else (None, None)
            ops.append(Gemm(name, "infer", tokens, w.shape[1], w.shape[0], b, a=x,
                            a_q=a_q, a_scale=a_scale, b_q=b_q, b_scale=b_scale,
                            source=f"{name}.weight",
                            source_axis=1 if b.kind in ("nm", "block") else None))
        if advance is not None:
            advance(1)
    provenance = {
        "model": model if checkpoint is None else None,
        "checkpoint": str(folder),
        "checkpoint_family": family,
        "package": _package_version(model) if checkpoint is None else None,
        "method": spec.text,
        "training": bool(training),
        "seq_len": int(seq_len),
        "batch": int(batch),
        "seed": int(seed),
        "activations": ("minilm forward pass over accel.workloads.minilm.PASSAGE"
                        if acts else "none (no forward pass for this checkpoint family)"),
        "accel_version": accel.__version__,
    }
    label = model if checkpoint is None else os.path.basename(os.path.normpath(str(checkpoint)))
    suffix = ("-training" if training else "")
    return Workload(f"{label}-{spec.text.replace(':', '_')}{suffix}", ops, provenance)


def _package_version(model: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{BUILTIN_MODELS[model].replace('_', '-')}=={version(BUILTIN_MODELS[model].replace('_', '-'))}"
    except PackageNotFoundError:  # pragma: no cover - model_folder already checked
        return None
