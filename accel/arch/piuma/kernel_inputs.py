"""What the PIUMA engine is handed besides the operands: the parameter record, the
row-wise work units (rows, and tokens of heavy rows) and the address regions."""

from __future__ import annotations

import numpy as np

from accel.arch.piuma import _constants as K
from accel.arch.piuma.config import PiumaConfig
from accel.arch.piuma.state import (
    HASH_FIBONACCI,
    HASH_MODULO,
    PARAMS,
    PROBE_LINEAR,
    PROBE_QUADRATIC,
    new_rows,
)


def interleave_shift(nbytes: int) -> int:
    """log2 of a channel-interleave granule of ``nbytes`` in 8-byte words, -1 if the word
    count is not a power of two (``_memory.dram`` then divides)."""
    words = int(nbytes) >> 3
    return words.bit_length() - 1 if words > 0 and words & (words - 1) == 0 else -1


def params_record(cfg: PiumaConfig, algo: tuple[int, int, int], n_cols: int, emax: int) -> np.ndarray:
    """The machine's parameters as the kernels read them (``state.PARAMS``, a 0-d record)."""
    P = np.zeros((), PARAMS)
    for name in ("cores", "mt_pipelines", "threads_per_pipeline", "st_pipelines", "issue_width",
                 "sync_quantum", "spad_banks", "spad_latency", "atomic_cycles",
                 "remote_atomic_latency", "cache_line_bytes", "cache_latency", "dram_latency",
                 "dram_channels", "dram_interleave_bytes", "max_outstanding", "mul_cycles",
                 "hash_cycles", "compare_cycles", "scan_slots_per_cycle", "hash_table_entries",
                 "max_load", "window_rows", "token_rows", "fragment_entries", "max_fragments",
                 "pool_fragments", "step_pps", "step_columns", "poll_cycles", "step_slots",
                 "threads_per_core", "dense_acc_cached", "sorted_output"):
        P[name] = getattr(cfg, name)
    P["cache_sets"] = cfg.cache_bytes // cfg.cache_line_bytes
    P["dram_cycles_per_word"] = 1.0 / cfg.dram_words_per_cycle
    P["dram_interleave_shift"] = interleave_shift(cfg.dram_interleave_bytes)
    P["hash_function"] = HASH_FIBONACCI if cfg.hash_function == "fibonacci" else HASH_MODULO
    P["collision_policy"] = PROBE_LINEAR if cfg.collision_policy == "linear" else PROBE_QUADRATIC
    P["distribution"], P["accumulator"] = algo[1], algo[2]
    P["n_cols"], P["table_slots_max"] = n_cols, emax
    return P


def work_units(ap, ai, blen, row_pp, token_pps):
    """Row-wise work units: one per row, or (token distribution, ``token_pps`` > 0) a row
    with more partial products cut into tokens of consecutive A nonzeros holding about
    ``token_pps`` products each.  Returns the unit arrays and the per-row state
    (``state.ROW``: open tokens, owner thread = -1, tokens, table not ready).  The cut points
    come from the B row lengths, which the distributor knows from B's row pointers."""
    M = ap.size - 1
    units = np.ones(M, np.int64)
    cut = {}
    heavy = np.nonzero(row_pp > token_pps)[0] if token_pps > 0 else np.zeros(0, np.int64)
    for i in heavy:   # only heavy rows are cut (a Python loop over them, not over all rows)
        a, b = int(ap[i]), int(ap[i + 1])
        cum = np.cumsum(blen[ai[a:b]])
        cuts = np.searchsorted(cum, np.arange(token_pps, int(row_pp[i]), token_pps),
                               side="left") + 1
        edges = np.unique(np.concatenate(([0], np.minimum(cuts, b - a), [b - a])))
        cut[int(i)] = a + edges
        units[i] = edges.size - 1
    u_row = np.repeat(np.arange(M, dtype=np.int64), units)
    u_j0 = np.repeat(ap[:-1], units)
    u_j1 = np.repeat(ap[1:], units)
    first = np.cumsum(units) - units
    for i, e in cut.items():
        u_j0[first[i]:first[i] + e.size - 1] = e[:-1]
        u_j1[first[i]:first[i] + e.size - 1] = e[1:]
    return u_row, u_j0, u_j1, new_rows(units, row_pp)


def regions(sizes: list[int]) -> np.ndarray:
    """Disjoint, 4 KB-aligned byte address ranges for the arrays the machine touches."""
    rb = np.zeros(K.N_REGIONS, np.int64)
    base = 1 << 20
    for r, nbytes in enumerate(sizes):
        rb[r] = base
        base += (int(nbytes) + 4095) // 4096 * 4096 + 4096
    return rb
