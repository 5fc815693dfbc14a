"""Named indices and codes of the PIUMA engine (plain Python: read by the kernels as
compile-time constants, by model.py to fill the parameter vector and read the statistics)."""

from __future__ import annotations

import numpy as np

# ---- parameter vector indices (filled by model._params) -----------------------------------
P_CORES, P_TPC, P_MTP, P_TPP, P_STP, P_IW, P_QUANTUM = 0, 1, 2, 3, 4, 5, 6
P_SPAD_BANKS, P_SPAD_LAT, P_ATOMIC, P_RATOMIC = 7, 8, 9, 10
P_CSETS, P_CLINE, P_CLAT = 11, 12, 13
P_DLAT, P_DCH, P_DCPW, P_DINTER, P_OUTST = 14, 15, 16, 17, 18
P_MUL, P_HASHC, P_CMP, P_SCAN = 19, 20, 21, 22
P_E, P_HFN, P_PROBE, P_MAXLOAD, P_WIN, P_TOK, P_FRAG, P_MAXFRAG = 23, 24, 25, 26, 27, 28, 29, 30
P_DIST, P_ACC, P_N, P_EMAX, P_POOL, P_PPSTEP, P_COLSTEP = 31, 32, 33, 34, 35, 36, 37
P_POLL, P_DACC, P_SLOTS, P_SORT = 38, 39, 40, 41
N_PARAMS = 42

DIST_STATIC, DIST_TOKEN = 0, 1
ACC_HASH, ACC_FRAG, ACC_DENSE = 0, 1, 2
ALGO_ROWWISE, ALGO_INNER, ALGO_OUTER = 0, 1, 2

# ---- statistics indices --------------------------------------------------------------------
S_PP, S_PROBES, S_COLL, S_SPILL, S_RB, S_WB, S_PPB = 0, 1, 2, 3, 4, 5, 6
S_HIT, S_MISS, S_BANKWAIT, S_ATOMICS, S_TOKENS, S_POOLWAIT, S_CMP, S_BADROW = (
    7, 8, 9, 10, 11, 12, 13, 14)
S_FLOPS, S_INSERTS, S_ACCB = 15, 16, 17
N_STATS = 18
K_NONE, K_PP, K_ACC = 0, 1, 2   # what a DRAM transfer carries: operands/C, partial products, accumulator

# ---- address regions (bases filled by model._regions) --------------------------------------
R_AP, R_AI, R_AX, R_BP, R_BI, R_BX, R_XP, R_XI, R_XX = 0, 1, 2, 3, 4, 5, 6, 7, 8
R_CI, R_CX, R_PPI, R_PPX, R_OFF, R_ACC, R_SPILL = 9, 10, 11, 12, 13, 14, 15
N_REGIONS = 16

DRAM_BUCKET = 16.0     # cycles per bandwidth-booking bucket of a DRAM channel
BANK_BUCKET = 4.0      # cycles per booking bucket of a scratchpad bank / the token counter
RING_DRAM = 1 << 16    # buckets remembered per channel (~1M cycles of look-back)
RING_BANK = 1 << 10    # buckets remembered per bank (~4K cycles; small so it stays in the host cache)

EMPTY = -1
INF = 1e300
STEP_OK, STEP_DONE, STEP_BARRIER = 0, 1, 2
FIB = np.uint64(0x9E3779B97F4A7C15)


# thread states of the row-wise engine; inner and outer product use TAKE and NEXT_A only
TAKE, NEXT_A, PRODUCTS, WRITEBACK, SIZE = 0, 1, 2, 3, 4

# scratchpad words of a core's shared counters (their bank is word % spad_banks): the v3
# fragment-pool counter and the open-token counter of the rows the core's threads own
POOL_WORD, OPEN_TOKENS_WORD = 0, 1
