"""Numba kernels of the systolic model: arrays and scalars in, arrays out.

The array is R x C single-MAC PEs.  A GEMM ``C[M, N] = A[M, K] @ B[K, N]`` whose B keeps
``Ke`` of its K rows (N:M, SCALE-Sim's convention; Ke = K when dense) is mapped as
SCALE-Sim maps it (its compute/systolic_compute_{ws,os,is}.py)::

    dataflow  array rows  array cols  streamed (T)   fold loop (outer, inner)
    ws        Ke          N           M              N/C, Ke/R
    os        M           N           Ke             N/C, M/R
    is        Ke          M           N              M/C, Ke/R

The operand that does not fit is cut into folds; every fold occupies the whole array (a
partial fold's idle PEs still cost their cycles) and folds do not overlap.  One fold
lasts as many cycles as SCALE-Sim's output-demand matrix of that fold has rows:

    ws, is : (2R - 1) before the first output row -- R cycles to shift the stationary
             operand in, R - 1 for a partial sum to ripple down the column -- then T
             output rows, then C - 1 rows of column skew:   2R + C + T - 2
    os     : (T - 1) before the first output row (the reduction streams through), then
             the R output rows drain one per cycle, then C - 1 rows of skew: T + R + C - 2

SCALE-Sim's reported compute cycles are the index (from 0) of the last output row, i.e.
the sum of the fold lengths minus one, in CALC interface-bandwidth mode (no stalls).

:func:`walk_folds` walks the folds in SCALE-Sim's order, places each on the timeline and
counts the PEs it maps and the MACs it performs; :func:`walk_folds_compute` also
performs each fold's MACs on real operands, with the PE (row, col) of the fold doing
exactly the products that PE holds.  Plain-Python references live in tests/arch/systolic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)

WS, OS, IS = 0, 1, 2          # dataflow codes (config.DATAFLOWS order is ws, os, is)

# Columns of the walk_folds summary row.
S_CYCLES = 0        # SCALE-Sim compute cycles (last output row index)
S_FOLDS = 1         # folds walked
S_MAPPED = 2        # sum over folds of PEs holding a real operand
S_MACS = 3          # multiply-accumulates performed (kept weights only)
S_FOLD_CYCLES = 4   # sum of fold lengths (S_CYCLES + 1)
N_SUMMARY = 5


@njit(cache=True)
def _geometry(df, m, ke, n):
    """(spatial rows, spatial cols, temporal T) of a GEMM under dataflow ``df``."""
    if df == WS:
        return ke, n, m
    if df == OS:
        return m, n, ke
    return ke, m, n


@njit(cache=True)
def fold_cycles(df, rows, cols, t):
    """Rows of SCALE-Sim's output-demand matrix of one fold (see module docstring)."""
    if df == OS:
        return (t - 1) + rows + (cols - 1)
    return (2 * rows - 1) + t + (cols - 1)


@njit(cache=True)
def walk_folds(df, m, ke, n, rows, cols):
    """Walk the folds of one GEMM; returns (fold starts int64[folds], summary float64[N_SUMMARY]).

    ``ke`` is the number of B rows the array streams (K, or K shortened by N:M)."""
    sr, sc, t = _geometry(df, m, ke, n)
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    starts = np.empty(row_folds * col_folds, dtype=np.int64)
    clock = 0
    mapped = 0
    macs = 0
    i = 0
    for fc in range(col_folds):            # SCALE-Sim: outer loop over column folds
        used_c = min(cols, sc - fc * cols)
        for fr in range(row_folds):
            used_r = min(rows, sr - fr * rows)
            starts[i] = clock
            clock += fold_cycles(df, rows, cols, t)
            mapped += used_r * used_c
            macs += used_r * used_c * t
            i += 1
    out = np.zeros(N_SUMMARY, dtype=np.float64)
    out[S_CYCLES] = clock - 1
    out[S_FOLDS] = i
    out[S_MAPPED] = mapped
    out[S_MACS] = macs
    out[S_FOLD_CYCLES] = clock
    return starts, out


@njit(cache=True)
def _pe_mac(a, vals, pos, i, r, c, kdim):
    """The product PE work of compressed row r, output column c, for output row i."""
    p = pos[r, c]
    if p < kdim:
        return a[i, p] * vals[r, c]
    return 0.0


@njit(cache=True)
def walk_folds_compute(df, a, vals, pos, rows, cols):
    """Fold walk that also performs the GEMM on real operands.

    a    : (M, K) float64 activations.
    vals : (Ke, N) float64 -- the B rows the array streams (kept values for N:M, B for dense).
    pos  : (Ke, N) int64   -- the K position each streamed value multiplies (its group's
           base plus its index for N:M; the row itself for dense).  With N:M a PE selects
           its activation inside the group window by the weight's index; SCALE-Sim charges
           no cycles for this selection (its convention) and neither does this walk.
    Returns (C float64[M, N], summary float64[N_SUMMARY]).
    """
    m, kdim = a.shape
    ke, n = vals.shape
    starts, summary = walk_folds(df, m, ke, n, rows, cols)
    out = np.zeros((m, n), dtype=np.float64)
    sr, sc, t = _geometry(df, m, ke, n)
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    for fc in range(col_folds):
        c0 = fc * cols
        c1 = min(sc, c0 + cols)
        for fr in range(row_folds):
            r0 = fr * rows
            r1 = min(sr, r0 + rows)
            if df == WS:
                # PE (kr, col) holds weight (kr, col); activation row `step` streams past it.
                for step in range(t):
                    for kr in range(r0, r1):
                        for col in range(c0, c1):
                            out[step, col] += _pe_mac(a, vals, pos, step, kr, col, kdim)
            elif df == OS:
                # PE (row, col) owns output (row, col); compressed row `step` streams through.
                for step in range(t):
                    for row in range(r0, r1):
                        for col in range(c0, c1):
                            out[row, col] += _pe_mac(a, vals, pos, row, step, col, kdim)
            else:
                # PE (kr, mi) holds the activation window of row mi; weight column `step` streams.
                for step in range(t):
                    for kr in range(r0, r1):
                        for mi in range(c0, c1):
                            out[mi, step] += _pe_mac(a, vals, pos, mi, kr, step, kdim)
    return out, summary
