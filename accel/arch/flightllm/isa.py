"""The FlightLLM instruction record and its unit and transfer-kind numbers (defined once).

A program is a 1-D NumPy structured array of ``INSTR`` records, one per instruction, in
program order; the Numba executor reads the fields by name (``prog[i].unit``).  The HBM
settings the executor times transfers with travel as one ``HbmSettings`` record.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# units of the decoupled machine [artifact isa.py: LD, ST, MM, MV, MISC, SYS]
UNIT_NAMES = ("LD", "ST", "MM", "MV", "MISC", "SYS")
LD, ST, MM, MV, MISC, SYS = range(len(UNIT_NAMES))
N_UNITS = len(UNIT_NAMES)

# what an instruction does or moves (transfers: how its bytes meet the HBM channels)
KINDS = ("weight", "act", "kv", "linear", "attn", "softmax", "norm", "act_fn", "eltwise",
         "rope", "sync", "embed", "act_vec", "act_in", "weight_x")
K_WEIGHT, K_ACT, K_KV, K_LINEAR, K_ATTN, K_SOFTMAX, K_NORM, K_ACTFN, K_ELT, K_ROPE, \
    K_SYNC, K_EMBED, K_ACT_VEC, K_ACT_IN, K_WEIGHT_X = range(len(KINDS))

INSTR = np.dtype([
    ("unit", np.int64),     # LD, ST, MM, MV, MISC or SYS
    ("nbytes", np.int64),   # LD/ST: HBM bytes moved
    ("cycles", np.int64),   # compute units: cycles of the instruction
    ("wait", np.int64),     # bit u: waits one token from unit u
    ("rel", np.int64),      # bit u: releases one token to unit u
    ("kind", np.int64),     # K_*
    ("macs", np.int64),     # useful MACs (zero weights skipped)
    ("layer", np.int64),    # transformer layer (-1 / 0 outside the layers)
    ("ch", np.int64),       # HBM pseudo channel a transfer starts on, fixed by its address
    ("bar", np.int64),      # 1: waits for every earlier instruction (the per-op SYS barrier)
    ("split", np.int64),    # a one-channel transfer moved as this many slices at once (per SLR)
    ("op", np.int64),       # entry of the program's op table (functional executor), -1: none
    ("sub", np.int64),      # tile / chunk index within that op
])
if INSTR.itemsize != 8 * len(INSTR.names):   # concat() views records as flat int64
    raise TypeError("every INSTR field must be an unpadded int64")


def program(n: int = 0) -> np.ndarray:
    """``n`` zeroed instruction records."""
    return np.zeros(n, INSTR)


def concat(parts) -> np.ndarray:
    """Programs joined in order.  Every field is an int64, so a record array is viewed as
    flat int64 and joined as such (``np.concatenate`` on the records themselves promotes
    the structured dtype field by field on every call, several times slower)."""
    if not parts:
        return program(0)
    return np.concatenate([np.ascontiguousarray(p).view(np.int64) for p in parts]).view(INSTR)


def from_rows(rows: list[dict]) -> np.ndarray:
    """A program from ``{field: value}`` dicts (tests and hand-written examples)."""
    p = program(len(rows))
    for i, r in enumerate(rows):
        for k, v in r.items():
            p[k][i] = v
    return p


class HbmSettings(NamedTuple):
    """How the executor times a transfer, all in clock cycles (``model.hbm_settings``)."""
    ch_bytes_per_cycle: float     # one pseudo channel streaming its own data
    n_channels: int
    interleave: int               # striping granule (bytes)
    access: int                   # access granule (bytes): ragged pieces cost a full one
    row_cycles: float             # row opening per channel piece
    latency_cycles: float         # request -> data
    cross_kinds: int              # bitmask of kinds routed through the HBM switch, one channel
    cross_bytes_per_cycle: float  # ... at this rate
    one_kinds: int                # bitmask of kinds served by one channel at the channel rate
