"""Symbolic pass of C = A.B: each row's entry count and partial products, in O(work) time
and O(columns) memory (host bookkeeping that places C's rows in the simulated DRAM and
sizes the check; not timed).  SciPy's pattern product would hold all of C's structure."""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._prefetch import prefetch1
from accel.arch.piuma.host_malloc import host_cores

# Host cache hints: on a graph of many short rows, B and ``mark`` are far beyond the host's
# caches and each nonzero of A is a chain of misses (B row bounds -> B row -> marks).  The
# pass walks A's nonzeros in order, so it asks for each stage ahead of its use: the bounds
# of the B row BOUNDS_AHEAD nonzeros on, the columns of the one COLS_AHEAD on, and the marks
# of the next one's first MARKS columns (a random graph of cit-Patents' size, 3.7 M rows
# of ~4.4 nonzeros: 1.46-1.53 s against 2.51-2.76 s, 3 interleaved pairs; R-MAT 16: 0.95x).
BOUNDS_AHEAD, COLS_AHEAD, MARKS = 8, 4, 8


# The pass runs on two host threads (two halves of the rows, split by partial products)
# when the run is large enough to gain: rmat:16 takes ~1.6 s in one.
SPLIT_FROM = 1 << 22   # partial products


def row_counts(ap, ai, bp, bi, n_cols):
    """(cp, pp): C's row pointers (structural entries: every stored A[i,k] meets every
    stored entry of B's row k) and each row's partial products."""
    m = ap.shape[0] - 1
    pp = row_products(ap, ai, bp)
    nnz = np.empty(m, np.int64)
    run = np.cumsum(pp)
    total = int(run[-1]) if m else 0
    if total < SPLIT_FROM or host_cores() < 2:
        _count_rows(ap, ai, bp, bi, n_cols, 0, m, nnz)
    else:   # rows [0, r) and [r, m), about half the products each
        r = min(int(np.searchsorted(run, total // 2)) + 1, m)
        other = threading.Thread(target=_count_rows, args=(ap, ai, bp, bi, n_cols, r, m, nnz))
        other.start()
        _count_rows(ap, ai, bp, bi, n_cols, 0, r, nnz)
        other.join()
    cp = np.zeros(m + 1, np.int64)
    np.cumsum(nnz, out=cp[1:])
    return cp, pp


@njit(cache=True)
def row_products(ap, ai, bp):
    """Each row's partial products (a pass over A's nonzeros, no temporaries)."""
    m = ap.shape[0] - 1
    pp = np.empty(m, np.int64)
    for i in range(m):
        p = 0
        for j in range(ap[i], ap[i + 1]):
            k = ai[j]
            p += bp[k + 1] - bp[k]
        pp[i] = p
    return pp


@njit(cache=True, nogil=True)
def _count_rows(ap, ai, bp, bi, n_cols, r0, r1, nnz):
    """C's entry count of rows r0..r1 into ``nnz`` (a column counts once a row)."""
    # np.empty and loops: np.full / np.zeros each cost Numba a compile of their own
    mark = np.empty(n_cols, np.int64)   # row that last touched each column
    for c in range(n_cols):
        mark[c] = -1
    end = ap[r1]
    for i in range(r0, r1):
        c = 0
        for j in range(ap[i], ap[i + 1]):
            if j + BOUNDS_AHEAD < end:
                prefetch1(bp, ai[j + BOUNDS_AHEAD])
            if j + COLS_AHEAD < end:
                prefetch1(bi, bp[ai[j + COLS_AHEAD]])
            if j + 1 < end:
                k = ai[j + 1]
                for q in range(bp[k], min(bp[k + 1], bp[k] + MARKS)):
                    prefetch1(mark, bi[q])
            k = ai[j]
            for q in range(bp[k], bp[k + 1]):
                col = bi[q]
                if mark[col] != i:
                    mark[col] = i
                    c += 1
        nnz[i] = c
