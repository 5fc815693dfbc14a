"""Mapping of GEMMs onto the SAT engine and the three dataflow optimisations.

Each optimisation is a switch of :func:`accel.arch.sat.model.simulate`; its mechanism:

*Pre-generation* (``pregen``).  BDWP needs two N:M copies of every weight per step: the
forward copy (top-N of M along input channels) and the backward copy (along output
channels).  The RTL weight generator (``accel/hw/weight_gen.py``: one M x ``sorter_lanes``
block of the dense FP16 weights per cycle) produces both in one pass.  Off: the engine
waits for the generation of an op's sparse weights right before the op.  On: the
sorters are an independent unit that works through the generation jobs in the order
the engine consumes them, starting as soon as the step's weights are final, so the
work hides behind the engine's GEMMs and only shows when the sorters fall behind
(``_kernels.step_timeline``).  Its DRAM traffic is counted in ``dram_bytes`` but its
contention with the engine's own traffic is not modelled (a documented simplification).

*Interleave mapping* (``interleave``).  The array is ``pe_rows`` x ``pe_cols``; a GEMM
with fewer output columns than half the array (bwd_data of a first conv, narrow heads)
or fewer rows than half (tiny token counts) would leave PEs idle.  With interleave, the
array's systolic interconnect is split into P power-of-two partitions (each a
``pe_rows`` x ``pe_cols/P`` or ``pe_rows/P`` x ``pe_cols`` sub-array with its own
activation/weight feed; the most partitions whose tile still fits the buffers); the tiles of P different row (column) blocks of the GEMM are
interleaved across the partitions and run at once.  Each partition is timed by the
same tile contract with its own (smaller) size.  Off: one tile at a time, idle PEs.

*Offline scheduling* (``offline_sched``).  Before training, every layer's GEMM is
evaluated by this very model under each candidate mapping -- buffer-level dataflow
(``os``: loop m, n, k, outputs stay in the array/output buffer; ``ws``: loop n, k, m, a
weight block stays in the weight buffer while all activation rows stream past), K-chunk
size (every balanced split ceil(G/2^j) that fits the buffers) and, for dense GEMMs only, operand
transpose (C^T = B^T A^T, so the longer dim goes where the array is longer) and, with
interleave on, every partitioning whose tile fits the buffers -- and the fastest is kept (ties: the first, i.e. default, candidate).  The choice depends only on shapes and formats, so it is made once
per layer, as the paper does.  Off: ``default_dataflow``, the largest balanced K chunk
that fits, no transpose.

Inside a tile the PE array is always output-stationary (the RTL's order, see
``pe_array.py``); "dataflow" here is the order in which tiles visit the buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel.arch.sat import _kernels as K
from accel.arch.sat.config import SatConfig
from accel.arch.sat.pe_array import beats_per_group, datapath_latency
from accel.errors import ConfigError


@dataclass(frozen=True)
class EngineOp:
    """What the engine needs to time one GEMM: dims and the mode its B operand runs in."""

    M: int
    K: int
    N: int
    sparse: bool       # True: N:M mode (one window of m_w per group); False: dense mode
    m_w: int           # window M along K
    n_keep: int        # weights kept per group (m_w in dense mode)
    bpg: int           # beats per group (pe_array.beats_per_group)


def engine_op(M: int, K_: int, N: int, nm: tuple[int, int] | None, cfg: SatConfig) -> EngineOp:
    """Dense mode feeds windows of ``group_m`` N at a time; N:M mode one window per group."""
    if nm is None:
        return EngineOp(M, K_, N, False, cfg.group_m, cfg.group_m,
                        beats_per_group(cfg.group_m, cfg.mults_per_pe))
    n, m = nm
    if cfg.group_m % m == 0:
        # An n:m pattern is also an (n*g):(m*g) pattern, g = group_m/m: stream whole
        # hardware windows so a PE with more multipliers than n is not left idle (2:4 on
        # an 8-wide window with 4 multipliers: one beat per 8 activations, not per 4).
        g = cfg.group_m // m
        n, m = n * g, cfg.group_m
    return EngineOp(M, K_, N, True, m, n, beats_per_group(n, cfg.mults_per_pe))


def _partitions(rows_needed: int, cols_needed: int,
                cfg: SatConfig) -> list[tuple[int, int, int, int]]:
    """(tr, tc, pr, pc) options, most partitions first, the unsplit array last: output
    rows/cols per array pass and the size of one partition."""
    R, C = cfg.pe_rows, cfg.pe_cols
    out = []
    p = 1
    while C % (2 * p) == 0 and C // (2 * p) >= cols_needed:
        p *= 2
        out.append((R * p, C // p, R, C // p))
    if not out:
        q = 1
        while R % (2 * q) == 0 and R // (2 * q) >= rows_needed:
            q *= 2
            out.append((R // q, C * q, R // q, C))
    return out[::-1] + [(R, C, R, C)]


def _buffers(cfg: SatConfig) -> tuple[int, int, int]:
    """Usable bytes: halves of the double-buffered input buffers, the whole output buffer."""
    return cfg.act_buffer_kb * 512, cfg.weight_buffer_kb * 512, cfg.output_buffer_kb * 1024


def max_k_groups(op: EngineOp, tr: int, tc: int, cfg: SatConfig) -> int:
    """Largest K chunk (in groups) whose A and B blocks fit their half buffers."""
    act_half, w_half, out_buf = _buffers(cfg)
    a_group = tr * op.m_w * cfg.act_bytes
    b_group = tc * (op.n_keep * cfg.weight_bytes + (op.n_keep * cfg.index_bits / 8.0 if op.sparse else 0.0))
    if tr * tc * cfg.acc_bytes > out_buf:
        raise ConfigError(f"output_buffer_kb={cfg.output_buffer_kb} too small to hold one "
                          f"{tr}x{tc} tile of FP32 partial sums")
    if a_group > act_half:
        raise ConfigError(f"act_buffer_kb={cfg.act_buffer_kb} too small to hold one tile "
                          f"({a_group} bytes per K group in each half)")
    if b_group > w_half:
        raise ConfigError(f"weight_buffer_kb={cfg.weight_buffer_kb} too small to hold one tile "
                          f"({int(np.ceil(b_group))} bytes per K group in each half)")
    groups = -(-op.K // op.m_w)
    return int(max(1, min(groups, act_half // a_group, w_half // b_group)))


def k_chunks(op: EngineOp, kmax: int) -> list[int]:
    """K-chunk sizes (groups) considered, largest first: ceil(G / 2^j) that fit in kmax.

    Balanced chunks (equal sizes) rather than kmax plus a remainder; and because the set
    only depends on G and is cut at kmax, a larger buffer never loses a candidate -- so
    with offline scheduling larger buffers are never slower.
    """
    groups = -(-op.K // op.m_w)
    out, c = [], 1
    while True:
        kc = -(-groups // c)
        if kc <= kmax and kc not in out:
            out.append(kc)
        if kc == 1:
            return out
        c *= 2


def candidates(op: EngineOp, cfg: SatConfig, interleave: bool,
               offline: bool) -> tuple[np.ndarray, list[bool]]:
    """Parameter rows (see ``_kernels.P_*``) of the mappings considered for ``op``, and
    whether each row is the transposed GEMM."""
    act_half, w_half, out_buf = _buffers(cfg)
    rows = []
    flags = []
    orient = [False, True] if (offline and not op.sparse) else [False]
    for transpose in orient:
        M, N = (op.N, op.M) if transpose else (op.M, op.N)
        options = _partitions(M, N, cfg) if interleave else [_partitions(M, N, cfg)[-1]]
        fits = []
        for tr, tc, pr, pc in options:   # most partitions whose tile fits the buffers first
            try:
                fits.append((tr, tc, pr, pc, max_k_groups(op, tr, tc, cfg)))
            except ConfigError:
                if (tr, tc) == (cfg.pe_rows, cfg.pe_cols):
                    raise
        # offline scheduling weighs every fitting partitioning; otherwise the most split
        for tr, tc, pr, pc, kmax in (fits if offline else fits[:1]):
            kcs = k_chunks(op, kmax)
            kcs = kcs if offline else kcs[:1]
            flows = [0, 1] if offline else [1 if cfg.default_dataflow == "ws" else 0]
            for flow, kc in ((f, k) for f in flows for k in kcs):
                rows.append([M, op.K, N, tr, tc, pr, pc, op.bpg, op.m_w, op.n_keep,
                             int(op.sparse), flow, kc, cfg.act_bytes, cfg.weight_bytes,
                             cfg.index_bits, cfg.out_bytes, cfg.acc_bytes, act_half, w_half,
                             out_buf])
                flags.append(transpose)
    return np.asarray(rows, dtype=np.int64).reshape(-1, K.N_PARAMS), flags


def describe(row: np.ndarray, transposed: bool) -> dict:
    """The chosen mapping, as reported per op."""
    return {"dataflow": "ws" if row[K.P_DATAFLOW] else "os", "k_groups": int(row[K.P_KCG]),
            "partition": [int(row[K.P_PR]), int(row[K.P_PC])], "transposed": transposed}


def plan(ops: list[EngineOp], cfg: SatConfig, interleave: bool, offline: bool):
    """Best mapping of every op: (result rows (n, N_RESULTS), mapping dicts)."""
    cand = [candidates(op, cfg, interleave, offline) for op in ops]
    if not cand:
        return np.zeros((0, K.N_RESULTS)), []
    allrows = np.concatenate([c for c, _ in cand])
    tiles = K.walk_tiles(allrows)
    if not tiles <= K.MAX_WALK_TILES:  # the walk is linear in tiles: refuse, never spin
        from accel.errors import WorkloadError

        raise WorkloadError(f"workload needs {tiles:.3g} tile visits to schedule on this "
                            f"array, more than the limit {K.MAX_WALK_TILES:.3g} (GEMMs too large)")
    res = K.walk_gemms(allrows, cfg.bytes_per_cycle, bool(cfg.pipelined_tiles),
                       datapath_latency(cfg.array_dtype))
    best = np.empty((len(ops), K.N_RESULTS))
    maps = []
    at = 0
    for i, (c, flags) in enumerate(cand):
        r = res[at: at + len(c)]
        j = int(np.argmin(r[:, K.R_CYCLES]))   # first (default-ordered) candidate on ties
        best[i] = r[j]
        maps.append(describe(c[j], transposed=flags[j]))
        at += len(c)
    return best, maps
