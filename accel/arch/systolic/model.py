"""Systolic array in the SCALE-Sim mould: public API.

``simulate(workload, config, compute=False)`` times every GEMM of a workload on an R x C
array of single-MAC PEs in the configured dataflow (ws, os, is), walking its folds in
Numba (``_kernels.walk_folds``) exactly as SCALE-Sim 3.0.0 lays them out, so its compute
cycles equal SCALE-Sim's in CALC mode (tests/arch/systolic pin every reference row).

N:M (SCALE-Sim's convention): a weight with groups of m along K keeping n streams only its
kept rows, ``Ke = (K // m) * n + min(n, K % m)`` of the K, and its metadata costs no
cycles.  With ``sparsity_support`` off (SCALE-Sim's ``SparsitySupport: false``) every op
runs dense.  Other formats (unstructured, FlightLLM blocks, N:M along N) run dense: a
systolic array of this kind cannot skip them.  ``dense_cycles`` is the same workload with
every op dense, so ``speedup_vs_dense`` compares like with like.  ``utilization`` is MACs
performed over PE-cycles of the folds (SCALE-Sim's reported cycles are the last output
row's index, one less than the folds' length, which would let a 1-fold GEMM exceed 100 %).

``compute=True`` also performs each GEMM fold by fold on the workload's real operands
(``_kernels.walk_folds_compute``) and returns the outputs; ops without operand values are
an error then.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from accel.arch.systolic import _kernels as K
from accel.arch.systolic.config import DATAFLOWS, SystolicConfig
from accel.configs import config_dict
from accel.errors import WorkloadError
from accel.workloads.formats import NM
from accel.workloads.ops import Gemm, Workload

MODEL_VERSION = "systolic-1"
MAX_FOLDS = 4_000_000           # per op: bounds the walk and its fold-start array (32 MB)
# All ops together: the folds simulate() walks (each op's dense walk plus its sparse one),
# summed and checked before the first walk.  A walk costs ~10 ns a fold, so this is
# seconds of work; a 10^4-layer topology of 4096^3 GEMMs on 32x32 (6.6e8) is refused.
MAX_TOTAL_FOLDS = 1 << 28
MAX_COMPUTE_MACS = 4_000_000_000  # per op with compute=True: about a minute of fold-by-fold MACs
UNITS = {
    "cycles": "cycles", "dense_cycles": "cycles", "speedup_vs_dense": "x", "seconds": "s",
    "macs": "MAC", "dense_macs": "MAC", "utilization": "fraction of PE-cycles",
    "mapping_efficiency": "fraction of PEs", "folds": "folds", "pes": "PEs", "sim_wall_s": "s",
}


def kept_rows(k: int, n: int, m: int) -> int:
    """Rows of a K-long N:M operand the array streams: every full group keeps n, the
    partial last group min(n, its length) (SCALE-Sim's first-n-of-m mask)."""
    return (k // m) * n + min(n, k % m)


@dataclass
class SystolicResult:
    workload: str
    cycles: int
    dense_cycles: int
    speedup_vs_dense: float
    seconds: float
    macs: int
    dense_macs: int
    utilization: float
    mapping_efficiency: float
    folds: int
    pes: int
    per_op: list
    options: dict
    config: dict
    sim_wall_s: float
    outputs: dict = field(default_factory=dict, repr=False)   # op name -> C (compute=True)

    UNITS: ClassVar[Mapping[str, str]] = UNITS   # metric -> unit (the registry's result protocol)

    def to_dict(self) -> dict:
        return {
            "model_version": MODEL_VERSION, "workload": self.workload, "cycles": self.cycles,
            "dense_cycles": self.dense_cycles, "speedup_vs_dense": self.speedup_vs_dense,
            "seconds": self.seconds, "macs": self.macs, "dense_macs": self.dense_macs,
            "utilization": self.utilization, "mapping_efficiency": self.mapping_efficiency,
            "folds": self.folds, "pes": self.pes, "per_op": self.per_op, "options": self.options,
            "config": self.config, "sim_wall_s": self.sim_wall_s,
        }

    def metrics(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in UNITS}


def _sparse_pattern(op: Gemm, cfg: SystolicConfig) -> tuple[int, int] | None:
    b = op.b
    if cfg.sparsity_support and isinstance(b, NM) and b.axis == 0 and b.n < b.m:
        return b.n, b.m
    return None


def _check(workload: Workload, cfg: SystolicConfig) -> list[Gemm]:
    ops = list(workload.ops)
    if not ops:
        raise WorkloadError(f"workload {workload.name!r} has no ops")
    total = 0
    for op in ops:
        if not isinstance(op, Gemm):
            raise WorkloadError(f"op {op.name}: the systolic array runs GEMMs; "
                                f"{op.kind} (SpGEMM of two sparse operands) is not supported")
        pat = _sparse_pattern(op, cfg)
        for ke in (op.K, kept_rows(op.K, *pat)) if pat else (op.K,):   # the walks simulate() does
            rows, cols, _ = (ke, op.N, op.M) if cfg.dataflow == "ws" else \
                (op.M, op.N, ke) if cfg.dataflow == "os" else (ke, op.M, op.N)
            folds = -(-rows // cfg.array_rows) * -(-cols // cfg.array_cols)
            if folds > MAX_FOLDS:
                raise WorkloadError(f"op {op.name}: {folds} folds on a {cfg.array_rows}x"
                                    f"{cfg.array_cols} array exceeds the limit {MAX_FOLDS}")
            total += folds
    if total > MAX_TOTAL_FOLDS:
        raise WorkloadError(f"workload {workload.name!r}: {total:,} folds over {len(ops)} ops on a "
                            f"{cfg.array_rows}x{cfg.array_cols} array exceed MAX_TOTAL_FOLDS = "
                            f"{MAX_TOTAL_FOLDS:,}")
    return ops


def streamed_operand(op: Gemm, pattern: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """(values, K positions) of the B rows the array streams, each (Ke, N)."""
    b = op.b
    if pattern is None:
        dense = np.ascontiguousarray(b.to_dense(), dtype=np.float64)
        pos = np.broadcast_to(np.arange(op.K, dtype=np.int64)[:, None], dense.shape)
        return dense, np.ascontiguousarray(pos)
    n, m = pattern
    ke = kept_rows(op.K, n, m)
    rows = np.arange(b.values.shape[0])
    pos_all = (rows // n * m)[:, None] + b.indices.astype(np.int64)
    vals_all = np.asarray(b.values, dtype=np.float64)
    # Rows past Ke are the padded tail of the last group: they may only hold zeros or
    # positions past K, else the array would drop a real weight.
    tail_bad = (vals_all[ke:] != 0) & (pos_all[ke:] < op.K)
    if tail_bad.any():
        raise WorkloadError(f"op {op.name}: N:M operand keeps a nonzero weight past the "
                            f"{ke} rows SCALE-Sim's convention streams (K={op.K}, {n}:{m})")
    return np.ascontiguousarray(vals_all[:ke]), np.ascontiguousarray(pos_all[:ke])


def simulate(workload: Workload, config: SystolicConfig, compute: bool = False) -> SystolicResult:
    """Time (and with ``compute`` perform) every GEMM of ``workload`` on the array."""
    t0 = time.perf_counter()
    config.validate()
    ops = _check(workload, config)
    df = DATAFLOWS.index(config.dataflow)
    r, c = config.array_rows, config.array_cols
    per_op, outputs = [], {}
    cycles = dense_cycles = macs = dense_macs = folds = mapped = busy = 0
    for op in ops:
        pat = _sparse_pattern(op, config)
        ke = kept_rows(op.K, *pat) if pat else op.K
        _, dense = K.walk_folds(df, op.M, op.K, op.N, r, c)
        entry = {"name": op.name, "phase": op.phase, "M": op.M, "N": op.N, "K": op.K,
                 "K_streamed": ke, "sparsity": f"{pat[0]}:{pat[1]}" if pat else "dense",
                 "repeat": op.repeat}
        if compute:
            if op.a is None or op.b.values is None:
                raise WorkloadError(f"op {op.name}: no operand values to compute with "
                                    f"(metadata-only workload)")
            if op.M * ke * op.N > MAX_COMPUTE_MACS:
                raise WorkloadError(f"op {op.name}: {op.M * ke * op.N:,} MACs exceed the "
                                    f"compute limit {MAX_COMPUTE_MACS:,} (time it without compute)")
            vals, pos = streamed_operand(op, pat)
            out, summ = K.walk_folds_compute(df, np.ascontiguousarray(op.a, dtype=np.float64),
                                             vals, pos, r, c)
            outputs[op.name] = out
        else:
            _, summ = (K.walk_folds(df, op.M, ke, op.N, r, c) if pat else (None, dense))
        op_cycles = int(summ[K.S_CYCLES])
        op_folds = int(summ[K.S_FOLDS])
        entry.update({
            "cycles": op_cycles, "dense_cycles": int(dense[K.S_CYCLES]), "folds": op_folds,
            "macs": int(summ[K.S_MACS]),
            "mapping_efficiency": float(summ[K.S_MAPPED]) / (op_folds * r * c),
            "utilization": float(summ[K.S_MACS]) / (summ[K.S_FOLD_CYCLES] * r * c),
        })
        per_op.append(entry)
        cycles += op_cycles * op.repeat
        dense_cycles += int(dense[K.S_CYCLES]) * op.repeat
        macs += int(summ[K.S_MACS]) * op.repeat
        dense_macs += int(dense[K.S_MACS]) * op.repeat
        folds += op_folds * op.repeat
        mapped += int(summ[K.S_MAPPED]) * op.repeat
        busy += int(summ[K.S_FOLD_CYCLES]) * op.repeat
    return SystolicResult(
        workload=workload.name, cycles=cycles, dense_cycles=dense_cycles,
        speedup_vs_dense=dense_cycles / cycles if cycles else 1.0,
        seconds=cycles / (config.clock_mhz * 1e6), macs=macs, dense_macs=dense_macs,
        utilization=macs / (busy * r * c),
        mapping_efficiency=mapped / (folds * r * c), folds=folds, pes=r * c, per_op=per_op,
        options={"compute": bool(compute)}, config=config_dict(config),
        sim_wall_s=time.perf_counter() - t0, outputs=outputs)
