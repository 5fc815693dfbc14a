"""Numba kernels of the SAT model: arrays and scalars in, arrays out.

* :func:`walk_gemms` walks the tile schedule of many (op, mapping) candidates at once;
  every PE-array tile is timed by ``pe_array.tile_cycles_nb`` (the RTL contract).
* :func:`step_timeline` places the engine ops, their sparse-weight generation and the
  weight updates of one training step on the engine/sorter timeline.
* :func:`nm_gemm`, :func:`dense_gemm`, :func:`csr_gemm` are the functional path: each
  GEMM computed from the operands the engine streams (compressed values + indices).

Public wrappers live in ``model.py``/``schedule.py``; plain-Python references of each
kernel live in ``tests/arch/sat``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.sat.pe_array import (
    MAC_LATENCY,
    pipelined_tail_nb,
    pipelined_tile_steps_nb,
    tile_cycles_nb,
)

# Column layout of the parameter rows given to walk_gemms (one row = one candidate).
P_M, P_K, P_N = 0, 1, 2            # GEMM dims (after an optional transpose)
P_TR, P_TC = 3, 4                  # rows/cols of output covered by one array pass
P_PR, P_PC = 5, 6                  # rows/cols of one array partition (tile_cycles args)
P_BPG, P_MW, P_NKEEP, P_SPARSE = 7, 8, 9, 10   # beats per group, window M, kept N, N:M mode
P_DATAFLOW, P_KCG = 11, 12         # 0 = output-stationary, 1 = weight-stationary; groups per K chunk
P_ABYTES, P_BBYTES, P_IDXBITS, P_OUTBYTES, P_ACCBYTES = 13, 14, 15, 16, 17
P_ACTHALF, P_WHALF, P_OUTBUF = 18, 19, 20       # usable buffer bytes (halves when double-buffered)
N_PARAMS = 21

# Columns of the walk_gemms output.
R_CYCLES, R_COMPUTE, R_DRAM, R_TILES, R_BEATS = 0, 1, 2, 3, 4
N_RESULTS = 5


@njit(cache=True)
def _walk_one(p, bpc, pipelined, lat):
    """Cycles, PE-array cycles, DRAM bytes, tiles and beats of one GEMM mapping.

    ``pipelined``: the GEMM's tiles are one run on the pipelined array (shadow
    accumulators, RTL ``ArrayParams(pipelined=True)``): each tile costs what it adds to
    the run (``pe_array.pipelined_tile_steps_nb``) and the last one also the run's tail
    (``pipelined_tail_nb``), so the tiles' PE-array cycles sum to ``tiles_cycles``.
    ``lat`` is the datapath's latency (``pe_array.datapath_latency``: INT8 1, FP16 more).

    Tiles are visited in the mapping's loop order (OS: m, n, k; WS: n, k, m).  A tile's
    operands are loaded while the previous tile computes (double buffering), its
    outputs are written while the next one computes; so each stage costs
    max(compute, transfer) and the first load and last write are exposed.
    """
    m_dim, k_dim, n_dim = p[P_M], p[P_K], p[P_N]
    tr, tc, pr, pc = p[P_TR], p[P_TC], p[P_PR], p[P_PC]
    bpg, mw, nkeep, sparse = p[P_BPG], p[P_MW], p[P_NKEEP], p[P_SPARSE]
    ws, kcg = p[P_DATAFLOW], p[P_KCG]
    ab, bb, ibits, ob, accb = p[P_ABYTES], p[P_BBYTES], p[P_IDXBITS], p[P_OUTBYTES], p[P_ACCBYTES]
    act_half, w_half, out_buf = p[P_ACTHALF], p[P_WHALF], p[P_OUTBUF]

    groups = (k_dim + mw - 1) // mw
    nk = (groups + kcg - 1) // kcg
    nmt = (m_dim + tr - 1) // tr
    nnt = (n_dim + tc - 1) // tc
    # bytes of one K-group of one weight column as streamed (values + index metadata)
    if sparse == 1:
        bcol_group = nkeep * bb + (nkeep * ibits) / 8.0
    else:
        bcol_group = mw * bb * 1.0
    b_total = groups * bcol_group * n_dim
    reuse_a_os = tr * k_dim * ab <= act_half          # A row panel stays across n tiles
    reuse_b_os = b_total <= w_half                    # all of B stays across m tiles
    reuse_a_ws = m_dim * k_dim * ab <= act_half       # all of A stays across n tiles
    spill_ws = (nk > 1) and (m_dim * tc * accb > out_buf)  # partial sums of a column panel

    total = 0.0
    compute = 0.0
    dram = 0.0
    tiles = 0
    beats_sum = 0
    prev_c = 0.0
    prev_w = 0.0
    prev_prev_w = 0.0
    first = True
    n_outer = nnt if ws == 1 else nmt
    n_mid = nk if ws == 1 else nnt
    n_inner = nmt if ws == 1 else nk
    for o in range(n_outer):
        for mid in range(n_mid):
            for inn in range(n_inner):
                if ws == 1:
                    nt, kc, mt = o, mid, inn
                else:
                    mt, nt, kc = o, mid, inn
                rows = min(tr, m_dim - mt * tr)
                cols = min(tc, n_dim - nt * tc)
                g0 = kc * kcg
                gc = min(kcg, groups - g0)
                k_elems = min(k_dim, (g0 + gc) * mw) - g0 * mw
                beats = gc * bpg
                if pipelined:
                    c = pipelined_tile_steps_nb(pr, pc, beats, tiles == 0) * 1.0
                    if tiles == n_outer * n_mid * n_inner - 1:
                        c += pipelined_tail_nb(pr, pc, lat)
                else:
                    c = tile_cycles_nb(pr, pc, beats, lat) * 1.0
                load = 0.0
                write = 0.0
                if ws == 1:
                    a_resident = reuse_a_ws and nt > 0
                    b_resident = mt > 0
                else:
                    a_resident = reuse_a_os and nt > 0
                    b_resident = reuse_b_os and mt > 0
                if not a_resident:
                    load += rows * k_elems * ab
                if not b_resident:
                    load += gc * bcol_group * cols
                if ws == 1 and spill_ws:
                    if kc > 0:
                        load += rows * cols * accb
                    if kc < nk - 1:
                        write += rows * cols * accb
                if kc == nk - 1:
                    write += rows * cols * ob
                if first:
                    total += load / bpc
                    first = False
                else:
                    total += max(prev_c, (load + prev_prev_w) / bpc)
                prev_prev_w = prev_w
                prev_c = c
                prev_w = write
                compute += c
                dram += load + write
                tiles += 1
                beats_sum += beats
    total += max(prev_c, prev_prev_w / bpc)
    total += prev_w / bpc
    return total, compute, dram, tiles, beats_sum


# Precondition of walk_gemms, checked by its callers: the walk visits every tile, so
# its time is linear in the tile count.  2^30 tiles is ~10 s of walking; the largest
# built-in workload (resnet50 training, batch 32) needs ~10^7.
MAX_WALK_TILES = 2**30


def walk_tiles(params: np.ndarray) -> float:
    """Tiles walk_gemms would visit for these parameter rows (float: never overflows)."""
    p = np.asarray(params, dtype=np.float64)
    if p.size == 0:
        return 0.0
    if not np.all(np.isfinite(p)) or np.any(p[:, [P_M, P_K, P_N, P_TR, P_TC, P_MW, P_KCG]] < 1):
        return float("inf")
    groups = np.ceil(p[:, P_K] / p[:, P_MW])
    nk = np.ceil(groups / p[:, P_KCG])
    return float(np.sum(np.ceil(p[:, P_M] / p[:, P_TR]) * np.ceil(p[:, P_N] / p[:, P_TC]) * nk))


@njit(cache=True)
def walk_gemms(params, bpc, pipelined=False, lat=MAC_LATENCY):
    """params (n, N_PARAMS) int64, bpc DRAM bytes/cycle -> (n, N_RESULTS) float64.

    ``pipelined`` times each GEMM's tiles as one run on the pipelined PE array; ``lat``
    is the array datapath's latency (``pe_array.datapath_latency(dtype)``)."""
    out = np.empty((params.shape[0], N_RESULTS), dtype=np.float64)
    for i in range(params.shape[0]):
        t, c, d, tl, b = _walk_one(params[i], bpc, pipelined, lat)
        out[i, R_CYCLES] = t
        out[i, R_COMPUTE] = c
        out[i, R_DRAM] = d
        out[i, R_TILES] = tl
        out[i, R_BEATS] = b
    return out


@njit(cache=True)
def step_timeline(engine_cycles, gen_cycles, pregen):
    """Start, end and generation stall of each op of one training step, in order.

    ``gen_cycles[i]`` is the sparse-weight generation op i needs first (0 if none).
    Without pre-generation the engine waits for it right before the op.  With it the
    sorter lanes work through the generation jobs in consumption order from the start
    of the step (the weights are final once the previous step's update is done), so op
    i only waits if the sorter has fallen behind the engine.
    """
    n = engine_cycles.shape[0]
    start = np.empty(n, dtype=np.float64)
    end = np.empty(n, dtype=np.float64)
    stall = np.zeros(n, dtype=np.float64)
    t = 0.0
    sorter_free = 0.0
    for i in range(n):
        g = gen_cycles[i]
        if g > 0:
            if pregen:
                sorter_free += g
                if sorter_free > t:
                    stall[i] = sorter_free - t
            else:
                stall[i] = g
            t += stall[i]
        start[i] = t
        t += engine_cycles[i]
        end[i] = t
    return start, end, stall


@njit(cache=True)
def nm_gemm(a, vals, idx, n, m):
    """C = A @ B from B's N:M compressed form (groups along K): values and positions."""
    rows, k = a.shape
    cols = vals.shape[1]
    groups = vals.shape[0] // n
    out = np.zeros((rows, cols), dtype=np.float64)
    for i in range(rows):
        for g in range(groups):
            for j in range(n):
                r = g * n + j
                for c in range(cols):
                    pos = g * m + idx[r, c]
                    if pos < k:
                        out[i, c] += a[i, pos] * vals[r, c]
    return out


@njit(cache=True)
def dense_gemm(a, b):
    rows, k = a.shape
    cols = b.shape[1]
    out = np.zeros((rows, cols), dtype=np.float64)
    for i in range(rows):
        for kk in range(k):
            x = a[i, kk]
            if x != 0:
                for c in range(cols):
                    out[i, c] += x * b[kk, c]
    return out


@njit(cache=True)
def csr_gemm(a, indptr, indices, data, cols):
    """C = A @ B with B in CSR (K rows)."""
    rows, k = a.shape
    out = np.zeros((rows, cols), dtype=np.float64)
    for i in range(rows):
        for kk in range(k):
            x = a[i, kk]
            for p in range(indptr[kk], indptr[kk + 1]):
                out[i, indices[p]] += x * data[p]
    return out
