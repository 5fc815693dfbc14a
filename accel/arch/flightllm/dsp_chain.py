"""The configurable sparse DSP chain (FlightLLM §4, REFERENCE §2).

A chain of ``chain_dsps`` cascaded DSP48s, cut into groups of ``dsp_group`` with a
reduction node after each group.  Dense mode: the cascade runs whole and one dot
product of ``chain_dsps`` terms comes out per cycle.  N:M mode: a sparse MUX in front of
each DSP picks its activation out of the M = 16 of the group by the weight's 4-bit
index; each group of N kept weights occupies ceil(N / dsp_group) DSP groups and its
reduction node breaks the cascade to emit that group's partial sum.  A *naive* chain
has no MUX and no breakable cascade: it must stream all M positions, zeros included.

Useful-MAC utilisation = kept (nonzero-weight) MACs / (DSP slots x cycles).  Chain
occupancy is defined once, ``_kernels.chain_passes``: the functional chain
(``chain_matmul``) counts its passes with it, and the model's MV/MM cycle counts
(``slots_per_stripe``) are those passes times the chain length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.flightllm._kernels import chain_matmul, chain_passes, stripe_passes
from accel.errors import WorkloadError
from accel.workloads.formats import Block
from accel.workloads.llm import SPARSE_M, SUPPORTED_N


def group_slots(n: np.ndarray | int, dsp_group: int) -> np.ndarray:
    """DSP slots a group of ``n`` kept weights occupies (cascade breaks at group ends)."""
    n = np.asarray(n, dtype=np.int64)
    return -(-n // dsp_group) * dsp_group


def slots_per_stripe(block_n: np.ndarray, dsp_group: int, chain_dsps: int = 16,
                     sparse: bool = True) -> np.ndarray:
    """(columns/16,) DSP slots one activation row occupies through each 16-column stripe:
    chain passes per column (fragmentation included) x chain length x 16 columns.
    ``sparse=False``: a naive chain streaming every position (dense passes)."""
    bn = np.ascontiguousarray(block_n if sparse else np.full(block_n.shape, SPARSE_M),
                              dtype=np.int64)
    return stripe_passes(bn, chain_dsps, dsp_group) * chain_dsps * SPARSE_M


@dataclass
class ChainResult:
    out: np.ndarray          # int64 (M, N) exact INT8 x INT8 products, accumulated
    passes: int              # chain passes per activation row (= cycles per row per chain)
    useful_macs: int         # kept-weight MACs per row
    utilisation: float       # useful_macs / (passes * chain_dsps)


def chain_gemm(a_q: np.ndarray, b_q: Block, chain_dsps: int = 16, dsp_group: int = 2,
               naive: bool = False) -> ChainResult:
    """Run the chain on INT8 activations (M, K) and an INT8 Block weight (K, N).

    ``naive``: the non-skipping chain streams every position of each group (zeros
    included); its output is identical, its passes are those of a dense weight.
    """
    if b_q.values is None:
        raise WorkloadError("chain_gemm needs weight values (metadata-only Block given)")
    a_q = np.ascontiguousarray(a_q, dtype=np.int8)
    if a_q.ndim != 2 or a_q.shape[1] != b_q.shape[0]:
        raise WorkloadError(f"activation shape {a_q.shape} does not match weight {b_q.shape}")
    if chain_dsps % dsp_group:
        raise WorkloadError(f"chain_dsps {chain_dsps} is not a multiple of dsp_group {dsp_group}")
    counts = np.ascontiguousarray(b_q.kept_per_column_group())
    vals = np.ascontiguousarray(b_q.values, dtype=np.int8)
    idx = np.ascontiguousarray(b_q.indices, dtype=np.uint8)
    out, passes = chain_matmul(a_q, vals, idx, counts, b_q.block, chain_dsps, dsp_group)
    useful = int(counts.sum())
    if naive:
        _, passes = chain_matmul(a_q[:0], vals, idx, np.full_like(counts, b_q.block),
                                 b_q.block, chain_dsps, dsp_group)
    return ChainResult(out, int(passes), useful, useful / max(1, passes * chain_dsps))


def _uniform_block(k: int, ncols: int, n: int, seed: int) -> Block:
    from accel.workloads.formats import block_compress

    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, size=(k, ncols)).astype(np.int8)
    w[w == 0] = 1          # every kept weight nonzero, so useful == kept
    bn = np.full((-(-k // SPARSE_M), -(-ncols // SPARSE_M)), n, np.uint8)
    return block_compress(w, bn)


def utilisation_table(chain_dsps: int = 16, dsp_group: int = 2, k: int = 512,
                      ncols: int = 64, seed: int = 0) -> list[dict]:
    """Useful-MAC utilisation of the sparse chain vs a naive chain for N in {2,4,8,16}."""
    rows = []
    for n in SUPPORTED_N:
        b = _uniform_block(k, ncols, n, seed)
        a = np.zeros((1, k), np.int8)
        s = chain_gemm(a, b, chain_dsps, dsp_group)
        nv = chain_gemm(a, b, chain_dsps, dsp_group, naive=True)
        rows.append({"pattern": "dense" if n == SPARSE_M else f"{n}:{SPARSE_M}",
                     "n": n, "sparse_chain_utilisation": s.utilisation,
                     "naive_chain_utilisation": nv.utilisation,
                     "sparse_passes": s.passes, "naive_passes": nv.passes,
                     "speedup_vs_naive": nv.passes / s.passes})
    return rows


def attention_utilisation(seq: int, block: int = 64, local_blocks: int = 4,
                          global_blocks: int = 1) -> dict:
    """Block-sparse causal attention tiles: useful MACs over issued MACs.

    The chain computes kept (query block, key block) tiles densely; entries above the
    causal diagonal inside a kept diagonal tile are wasted.  The naive design computes
    the full causal square in dense tiles (all blocks up to the diagonal).
    """
    kept = attention_kept_blocks(seq, block, local_blocks, global_blocks)
    nq = kept.shape[0]
    useful = issued = naive_issued = naive_useful = 0
    for qb in range(nq):
        q_rows = min(block, seq - qb * block)
        for kb in range(qb + 1):
            k_cols = min(block, seq - kb * block)
            tile_useful = q_rows * (q_rows + 1) // 2 if kb == qb else q_rows * k_cols
            naive_issued += q_rows * k_cols
            naive_useful += tile_useful
            if kept[qb, kb]:
                issued += q_rows * k_cols
                useful += tile_useful
    return {"seq": seq, "kept_blocks": int(kept.sum()),
            "causal_blocks": nq * (nq + 1) // 2,
            "sparse_chain_utilisation": useful / issued,
            "naive_chain_utilisation": naive_useful / naive_issued,
            "issued_mac_ratio_vs_naive": issued / naive_issued}


def attention_kept_blocks(seq: int, block: int, local_blocks: int,
                          global_blocks: int) -> np.ndarray:
    """(nq, nq) bool: key blocks each query block keeps (causal local window + global)."""
    nq = -(-seq // block)
    q = np.arange(nq)[:, None]
    k = np.arange(nq)[None, :]
    return (k <= q) & ((q - k < local_blocks) | (k < global_blocks))


# --- the RTL timing contract --------------------------------------------------------
# ``accel/hw/blocks/dsp_chain`` implements these cycle for cycle (Verilator cosim).  The
# chain takes one *beat* per cycle: one chain pass for one or two activation rows.
# Two INT8 rows share each DSP48E2 multiply (the weight on B, ``a0 * 2**PACK_SHIFT + a1``
# on the 27-bit A port), REFERENCE §2 "each DSP48 packs two INT8 MACs sharing one
# weight"; the low field holds the second row's sum.
PACK_SHIFT = 18
ROWS_PER_BEAT = 2
# Symmetric INT8 weights (|w| <= 127, the model's quantiser) times any INT8 activation:
# |a w| <= 16256, and 8 * 16256 < 2**17, so a packed sum of up to 8 products leaves the
# 18-bit low field exact; a longer chain unpacks every 8 DSPs (the overflow-adjust stage,
# REFERENCE §2: "skipped for chains <= 8 DSPs").
PACKED_MAX_DSPS = 8
# Registers every beat passes besides the DSP P registers and the reduction tree: the
# beat register, the sparse-MUX / pack register (DSP A/B), the multiplier register (M),
# the unpack register and the accumulator/result register.
FIXED_STAGES = 5


def tree_levels(chain_dsps: int, dsp_group: int) -> int:
    """Levels of the reduction tree summing the chain's ``chain_dsps / dsp_group`` group
    outputs (the reduction nodes at the group ends are its leaves)."""
    return max(0, int(np.ceil(np.log2(chain_dsps // dsp_group))))


def overflow_adjust(chain_dsps: int) -> bool:
    """True when the chain needs the overflow-adjust (early unpack) stage."""
    return chain_dsps > PACKED_MAX_DSPS


def chain_fill_cycles(chain_dsps: int, dsp_group: int) -> int:
    """Registers between a beat's transfer into the chain and its result's transfer out
    (the chain's share of the model's per-instruction setup): fixed stages + the group
    cascade (one P register per DSP of a group) + the reduction tree."""
    return FIXED_STAGES + dsp_group + tree_levels(chain_dsps, dsp_group)


def pass_schedule(ns, chain_dsps: int, dsp_group: int) -> list[list[tuple[int, int, int, int]]]:
    """Where each group of one output column sits in the chain, pass by pass.

    Returns one list per pass of ``(group, first kept weight, count, first DSP slot)``.
    The placement rule is ``_kernels.chain_passes``'s: a group takes
    ceil(n / dsp_group) DSP groups, never straddles two passes unless it is longer than
    the chain (then it wraps, whole passes first; an empty chain is not closed before
    it), so ``len(pass_schedule(...)) == chain_passes(...)`` always.
    """
    passes: list[list[tuple[int, int, int, int]]] = []
    cur: list[tuple[int, int, int, int]] = []
    used = 0
    for g, n in enumerate(np.asarray(ns, dtype=np.int64)):
        n = int(n)
        if n == 0:
            continue
        slots = int(group_slots(n, dsp_group))
        if used and used + slots > chain_dsps:
            passes.append(cur)
            cur, used = [], 0
        j = 0
        while slots > chain_dsps:           # a group longer than the chain: whole passes
            passes.append([(g, j, chain_dsps, 0)])
            j += chain_dsps
            slots -= chain_dsps
        cur.append((g, j, n - j, used))
        used += slots
    if cur:
        passes.append(cur)
    return passes


def op_beats(counts: np.ndarray, rows: int, chain_dsps: int, dsp_group: int) -> int:
    """Beats one chain takes for an op of (G, C) kept ``counts`` over ``rows`` activation
    rows: the model's passes per column (``chain_passes``) x ceil(rows / ROWS_PER_BEAT)
    (MV: one row, so one beat per pass; MM: two rows share each beat)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    passes = sum(int(chain_passes(counts[:, c], chain_dsps, dsp_group))
                 for c in range(counts.shape[1]))
    return passes * -(-rows // ROWS_PER_BEAT)


def op_cycles(counts: np.ndarray, rows: int, chain_dsps: int, dsp_group: int) -> int:
    """Cycles of one op on one chain, first beat in to last result out, unstalled."""
    return op_beats(counts, rows, chain_dsps, dsp_group) + chain_fill_cycles(chain_dsps,
                                                                             dsp_group)
