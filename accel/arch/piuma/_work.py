"""Work distribution (static windows, token fetch-add) and the write of a finished C row."""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import (
    BANK_BUCKET,
    DIST_STATIC,
    INTERNAL,
    RING_BANK,
    S_BADROW,
    S_CMP,
    S_TOKENS,
)
from accel.arch.piuma._memory import reserve


# =========================================== work distribution ==============================
@njit(cache=True, _nrt=False, **INTERNAL)
def next_unit(t, now, n_units, P, threads, mem, work):
    """Next work unit (row / column) of thread t, or -1.  Returns (unit, ready time).

    Static: windows of ``window_rows`` units dealt round-robin (SMASH v1).  Tokens: a
    thread that runs dry fetch-adds ``token_rows`` units from a global counter held in
    core 0's scratchpad (remote atomic, serialised at that bank) (SMASH v2)."""
    th = threads[t]
    if th.unit_next < th.unit_end:
        u = th.unit_next
        th.unit_next += 1
        return u, now
    if P.distribution == DIST_STATIC:
        w = th.window
        start = w * P.window_rows
        if start >= n_units:
            return -1, now
        th.window = w + threads.shape[0]
        th.unit_next = start + 1
        th.unit_end = min(start + P.window_rows, n_units)
        return start, now
    fin = reserve(mem.token.used, mem.token.epoch, 0, 0, RING_BANK, now, P.atomic_cycles, BANK_BUCKET)
    ready = fin - P.atomic_cycles + P.remote_atomic_latency
    mem.stats[S_TOKENS] += 1
    shared = work.shared[()]
    start = shared.next_unit
    if start >= n_units:
        return -1, ready
    shared.next_unit = start + P.token_rows
    th.unit_next = start + 1
    th.unit_end = min(start + P.token_rows, n_units)
    return start, ready


@njit(cache=True, _nrt=False, inline="always")
def ilog2ceil(n):
    r = 0
    while (np.int64(1) << r) < n:
        r += 1
    return r


@njit(cache=True, _nrt=False, inline="always")
def sort_cost(n, P, st):
    """Issue slots of a comparison sort of n entries (n ceil(log2 n) compare steps)."""
    c = n * ilog2ceil(n) if n > 1 else 0
    st[S_CMP] += c
    return c * P.compare_cycles


@njit(cache=True, **INTERNAL)
def write_row(row, cols, vals, n, out, st):
    """Store the finished row into C if the host keeps it (``Output.keep``); a count that
    disagrees with the symbolic pass is flagged whether kept or not."""
    cp = out.cp
    cap = cp[row + 1] - cp[row]
    if n != cap:
        st[S_BADROW] += 1
    at = out.keep[row]
    if at >= 0:
        for x in range(min(n, cap)):
            out.ci[at + x] = cols[x]
            out.cx[at + x] = vals[x]
    out.cfill[row] = n


RADIX_BITS = 11          # digit of the radix sort: a 2048-entry count table stays in L1
RADIX_MIN = 64           # below this many keys an insertion sort is cheaper


@njit(cache=True)
def stable_argsort(keys):
    """Indices that sort ``keys`` ascending, equal keys in their original order (what
    ``np.argsort(kind="stable")`` gives; a stable order is unique, so any stable method
    gives the same indices).  One sort for every sort of the engine: NumPy's sorts in
    Numba are generic and cost ~1.5 s of compile each.  Small inputs: insertion sort.
    Larger: LSD radix sort of (key - min) on ``RADIX_BITS``-bit digits, moving keys with
    their indices so each pass streams (columns of a 1M-column C: two passes), where a
    merge sort gathered ``keys[order[i]]`` at random for log2(n) passes."""
    n = keys.shape[0]
    a = np.empty(n, np.int64)
    for i in range(n):
        a[i] = i
    if n <= RADIX_MIN:
        for i in range(1, n):
            x = a[i]
            k = keys[x]
            j = i - 1
            while j >= 0 and keys[a[j]] > k:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = x
        return a
    lo = hi = keys[n - 1]
    for i in range(n):
        if keys[i] < lo:
            lo = keys[i]
        elif keys[i] > hi:
            hi = keys[i]
    k = np.empty(n, np.int64)
    for i in range(n):
        k[i] = keys[i] - lo
    span = np.int64(hi) - np.int64(lo)
    b = np.empty(n, np.int64)
    kb = np.empty(n, np.int64)
    radix = np.int64(1) << RADIX_BITS
    mask = radix - 1
    count = np.empty(radix, np.int64)
    shift = 0
    while (span >> shift) > 0:
        for d in range(radix):
            count[d] = 0
        for i in range(n):
            count[(k[i] >> shift) & mask] += 1
        total = 0
        for d in range(radix):   # exclusive prefix sums: each digit's first output slot
            c = count[d]
            count[d] = total
            total += c
        for i in range(n):       # stable scatter: equal digits keep their order
            d = (k[i] >> shift) & mask
            p = count[d]
            count[d] = p + 1
            b[p] = a[i]
            kb[p] = k[i]
        a, b = b, a
        k, kb = kb, k
        shift += RADIX_BITS
    return a
