"""What kind of work a workload is, so a machine can say which kinds it runs."""

from __future__ import annotations

from accel.workloads.ops import TRAINING_PHASES, SpGemm, Workload

WORKLOAD_KINDS = ("training", "llm", "gemm", "spgemm")


def workload_kind(w: Workload) -> str:
    """``spgemm`` (only SpGEMM ops), ``llm`` (prefill/decode GEMMs), ``training``
    (fwd/bwd_data/bwd_weight GEMMs) or ``gemm`` (other GEMMs)."""
    if w.ops and all(isinstance(op, SpGemm) for op in w.ops):
        return "spgemm"
    phases = {op.phase for op in w.ops}
    if phases & {"prefill", "decode"}:
        return "llm"
    if phases & set(TRAINING_PHASES):
        return "training"
    return "gemm"
