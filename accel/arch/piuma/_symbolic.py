"""Symbolic pass of C = A.B: each row's entry count and partial products, in O(work) time
and O(columns) memory (host bookkeeping that places C's rows in the simulated DRAM and
sizes the check; not timed).  SciPy's pattern product would hold all of C's structure."""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)


@njit(cache=True)
def row_counts(ap, ai, bp, bi, n_cols):
    """(cp, pp): C's row pointers (structural entries: every stored A[i,k] meets every
    stored entry of B's row k) and each row's partial products."""
    m = ap.shape[0] - 1
    # np.empty and loops: np.full / np.zeros each cost Numba a compile of their own
    mark = np.empty(n_cols, np.int64)   # row that last touched each column
    for c in range(n_cols):
        mark[c] = -1
    cp = np.empty(m + 1, np.int64)
    pp = np.empty(m, np.int64)
    total = 0
    for i in range(m):
        cp[i] = total
        c = 0
        p = 0
        for j in range(ap[i], ap[i + 1]):
            k = ai[j]
            p += bp[k + 1] - bp[k]
            for q in range(bp[k], bp[k + 1]):
                col = bi[q]
                if mark[col] != i:
                    mark[col] = i
                    c += 1
        total += c
        pp[i] = p
    cp[m] = total
    return cp, pp
