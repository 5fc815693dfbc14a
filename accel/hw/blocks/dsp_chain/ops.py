"""Ops on one chain: operands -> packed beats, expected results and the model's cycles.

An op is INT8 activations (R, K) times an INT8 Block weight (K, C) computed on ONE chain:
for each output column, for each pair of rows, the column's passes in the order of
``dsp_chain.pass_schedule`` (the placement ``chain_passes`` counts).  Its expected
results are checked here against both references before anything is simulated: NumPy's
dense product and the model's functional chain (``chain_gemm`` -> ``chain_matmul``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.flightllm import dsp_chain as contract
from accel.errors import AccelError
from accel.hw.blocks.dsp_chain import layouts
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.workloads.formats import Block

MAX_OP_BEATS = 200_000        # one cosim op; the regression's largest is a few thousand


@dataclass
class ChainOp:
    name: str
    payloads: np.ndarray      # (B, bytes) uint8, beats in order
    expected: np.ndarray      # (results, 2) int64: (y0, y1) per (column, row pair)
    model_cycles: int         # contract.op_cycles (model passes + chain fill)
    k: int
    rows: int
    cols: int
    kept_macs: int

    @property
    def beats(self) -> int:
        return len(self.payloads)

    def meta(self) -> dict:
        return {"name": self.name, "beats": self.beats, "results": len(self.expected),
                "model_cycles": self.model_cycles, "K": self.k, "rows": self.rows,
                "cols": self.cols, "kept_macs": self.kept_macs}


def _check_operands(name: str, p: ChainParams, a_q: np.ndarray, blk: Block) -> None:
    if blk.values is None:
        raise AccelError(f"op {name}: the weight has no values")
    if a_q.ndim != 2 or a_q.shape[1] != blk.shape[0] or a_q.shape[0] < 1:
        raise AccelError(f"op {name}: activations {a_q.shape} do not match weight {blk.shape}")
    if blk.block != p.m:
        raise AccelError(f"op {name}: the chain takes M = {p.m} blocks, got {blk.block}")
    if a_q.shape[0] > 1 and (blk.block_n != p.m).any():
        raise AccelError(f"op {name}: MM (several rows) runs dense weights only: the chain's "
                         f"modes are dense MV, sparse MV and dense MM")
    if a_q.min() < -128 or a_q.max() > 127:
        raise AccelError(f"op {name}: activations outside INT8")
    if blk.values.min() < -127 or blk.values.max() > 127:
        raise AccelError(f"op {name}: weights must be symmetric INT8 (-127..127), as the "
                         f"model's quantiser makes them; the packed DSP fields assume it")
    worst = blk.shape[0] * 127 * 128
    if worst >= 1 << (p.acc_bits - 1):
        raise AccelError(f"op {name}: K = {blk.shape[0]} may overflow {p.acc_bits}-bit "
                         f"accumulators")


def chain_op(name: str, p: ChainParams, a_q: np.ndarray, blk: Block) -> ChainOp:
    """Pack one op for the chain and compute its expected results."""
    from accel.arch.flightllm.dsp_chain import chain_gemm

    a_q = np.asarray(a_q, dtype=np.int64)
    _check_operands(name, p, a_q, blk)
    rows, k = a_q.shape
    ncols = blk.shape[1]
    m, d, dg = p.m, p.chain_dsps, p.dsp_group
    counts = blk.kept_per_column_group()                  # (G, C)
    g_count = counts.shape[0]
    off = np.concatenate([[0], np.cumsum(counts.reshape(-1))])   # order (group, column)
    vals = blk.values.astype(np.int64)
    idx = blk.indices.astype(np.int64)
    pairs = -(-rows // 2)
    apad = np.zeros((pairs * 2, g_count * m), np.int64)
    apad[:rows, :k] = a_q
    seg = apad.reshape(pairs * 2, g_count, m)

    w_l, i_l, a0_l, a1_l, last_l = [], [], [], [], []
    for c in range(ncols):
        sched = contract.pass_schedule(counts[:, c], d, dg)
        if not sched:
            raise AccelError(f"op {name}: column {c} keeps no weight")
        for rp in range(pairs):
            for n_pass, placed in enumerate(sched):
                w = np.zeros(d, np.int64)
                ix = np.zeros(d, np.int64)
                a0 = np.zeros((p.groups, m), np.int64)
                a1 = np.zeros(d, np.int64)
                for g, j0, cnt, slot in placed:
                    base = off[g * ncols + c] + j0
                    w[slot:slot + cnt] = vals[base:base + cnt]
                    ix[slot:slot + cnt] = idx[base:base + cnt]
                    for dgrp in range(slot // dg, (slot + int(contract.group_slots(cnt, dg)))
                                      // dg):
                        a0[dgrp] = seg[2 * rp, g]
                    # row 1 (dense MM): the contiguous positions j0.. of the group
                    a1[slot:slot + cnt] = seg[2 * rp + 1, g, j0:j0 + cnt]
                w_l.append(w)
                i_l.append(ix)
                a0_l.append(a0)
                a1_l.append(a1)
                last_l.append(int(n_pass == len(sched) - 1))
    if len(last_l) > MAX_OP_BEATS:
        raise AccelError(f"op {name}: {len(last_l)} beats, more than {MAX_OP_BEATS}")
    payloads = layouts.pack_beats(p, np.array(w_l), np.array(i_l), np.array(a0_l),
                                  np.array(a1_l), np.array(last_l))

    ref = a_q @ blk.to_dense().astype(np.int64)             # NumPy (R, C)
    chain = chain_gemm(a_q.astype(np.int8), blk, d, dg)     # the model's functional chain
    if not np.array_equal(ref, chain.out):
        raise AccelError(f"op {name}: the model's chain_matmul differs from NumPy")
    rp_ref = np.zeros((pairs * 2, ncols), np.int64)
    rp_ref[:rows] = ref
    expected = np.stack([rp_ref[0::2].T.reshape(-1), rp_ref[1::2].T.reshape(-1)], axis=1)
    return ChainOp(name, payloads, expected,
                   contract.op_cycles(counts, rows, d, dg), k, rows, ncols,
                   int(counts.sum()) * rows)
