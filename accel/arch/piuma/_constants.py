"""Named indices and codes of the PIUMA engine (plain Python: read by the kernels as
compile-time constants, by model.py to read the statistics).  The machine's parameters
are a named record, ``state.PARAMS``."""

from __future__ import annotations

import numpy as np

# ---- what one memory access moves (bytes), and whether it goes through the core's cache ----
# NumPy scalars, not Python ones: Numba types a Python constant argument as a literal and
# compiles the callee once per distinct value (9 copies of ``load`` did); these type as
# plain int64 / bool, so ``load``, ``store`` and ``dram`` compile once each.
IDX_B = np.int64(4)     # one int32 column index (A, B, X, C and partial-product index arrays)
WORD_B = np.int64(8)    # one 8-byte word: a value, a row pointer, a chunk offset
PAIR_B = np.int64(16)   # two words: a row's pointer pair, a dense-accumulator (stamp, value), a spill record
CACHED, UNCACHED = np.bool_(True), np.bool_(False)   # ``load`` through the per-core cache / from DRAM
READ, WRITE = np.bool_(False), np.bool_(True)        # direction of a ``dram`` transfer

# Options of an engine kernel that only other kernels call: no CPython / C-callable entry
# point.  Numba otherwise builds both for every function, unboxing every argument group
# (the step functions take ~30 arrays), and compiles them again into each caller.
INTERNAL = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}

DIST_STATIC, DIST_TOKEN = 0, 1
ACC_HASH, ACC_FRAG, ACC_DENSE = 0, 1, 2
ALGO_ROWWISE, ALGO_INNER, ALGO_OUTER = 0, 1, 2

# ---- statistics indices --------------------------------------------------------------------
S_PP, S_PROBES, S_COLL, S_SPILL, S_RB, S_WB, S_PPB = 0, 1, 2, 3, 4, 5, 6
S_HIT, S_MISS, S_BANKWAIT, S_ATOMICS, S_TOKENS, S_POOLWAIT, S_CMP, S_BADROW = (
    7, 8, 9, 10, 11, 12, 13, 14)
S_FLOPS, S_INSERTS, S_ACCB = 15, 16, 17
N_STATS = 18
K_NONE, K_PP, K_ACC = np.int64(0), np.int64(1), np.int64(2)   # what a DRAM transfer carries: operands/C, partial products, accumulator

# ---- address regions (bases filled by kernel_inputs.regions) --------------------------------------
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
