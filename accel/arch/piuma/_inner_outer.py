"""Inner-product and outer-product (OuterSPACE style) engine steps."""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import (
    CACHED,
    IDX_B,
    INTERNAL,
    K_NONE,
    K_PP,
    NEXT_A,
    PAIR_B,
    R_AI,
    R_AP,
    R_AX,
    R_BI,
    R_BP,
    R_BX,
    R_CI,
    R_CX,
    R_OFF,
    R_PPI,
    R_PPX,
    R_XI,
    R_XP,
    R_XX,
    S_CMP,
    S_FLOPS,
    S_PP,
    STEP_BARRIER,
    STEP_DONE,
    STEP_OK,
    TAKE,
    UNCACHED,
    WORD_B,
)
from accel.arch.piuma._memory import load, store
from accel.arch.piuma._work import next_unit, sort_cost, stable_argsort, write_row


# =========================================== inner product ==================================
@njit(cache=True, **INTERNAL)
def inner_step(t, now, P, threads, ops, out, mem, work, tab):
    """Row i of A (held by the thread) against every column j of B (X = B^T in CSR)."""
    core = t // P.threads_per_core
    ap, ai, ax, xp, xi, xx = ops.ap, ops.ai, ops.ax, ops.xp, ops.xi, ops.xx
    RB = mem.regions
    port = mem.port   # read once: where NRT is on, each read of a tuple member costs a refcount pair
    st = mem.stats
    out_c, out_v = tab.out_c, tab.out_v
    th = threads[t]
    M = ap.shape[0] - 1
    N = xp.shape[0] - 1
    if th.state == TAKE:
        row, rdy = next_unit(t, now, M, P, threads, mem, work)
        if row < 0:
            return 1, rdy, STEP_DONE
        th.row = row
        t1 = load(core, rdy, RB[R_AP] + row * WORD_B, PAIR_B, UNCACHED, K_NONE, P, port)
        j0, j1 = ap[row], ap[row + 1]
        done = max(load(core, t1, RB[R_AI] + j0 * IDX_B, (j1 - j0) * IDX_B, UNCACHED, K_NONE, P, port),
                   load(core, t1, RB[R_AX] + j0 * WORD_B, (j1 - j0) * WORD_B, UNCACHED, K_NONE, P, port))
        th.j = 0           # next column
        th.acc_count = 0   # entries of the C row so far
        if j1 == j0:
            write_row(row, out_c[t, :0], out_v[t, :0], np.int64(0), out, st)
            return 4, done, STEP_OK
        th.state = NEXT_A
        return 4, done, STEP_OK
    # up to ``step_columns`` dot products per engine step, one after the other
    row = th.row
    j0 = th.j
    j1 = min(N, j0 + P.step_columns)
    done = now
    issue = 0
    a0, a1 = ap[row], ap[row + 1]
    cp = out.cp
    for j in range(j0, j1):
        t1 = load(core, done, RB[R_XP] + j * WORD_B, PAIR_B, CACHED, K_NONE, P, port)
        q0, q1 = xp[j], xp[j + 1]
        issue += 3
        done = t1
        if q1 == q0:
            continue
        t2 = load(core, t1, RB[R_XI] + q0 * IDX_B, (q1 - q0) * IDX_B, CACHED, K_NONE, P, port)
        # two-pointer intersection of the sorted index lists, counted step by step
        a, b = a0, q0
        steps = 0
        hits = 0
        s = 0.0
        while a < a1 and b < q1:
            steps += 1
            ka, kb = ai[a], xi[b]
            if ka == kb:
                s += ax[a] * xx[b]
                hits += 1
                a += 1
                b += 1
            elif ka < kb:
                a += 1
            else:
                b += 1
        st[S_CMP] += steps
        issue += steps * P.compare_cycles + hits * P.mul_cycles
        done = t2 + steps * P.compare_cycles
        if hits > 0:
            done = max(done, load(core, t2, RB[R_XX] + q0 * WORD_B, (q1 - q0) * WORD_B, CACHED, K_NONE, P,
                                  port))
            st[S_PP] += hits
            st[S_FLOPS] += 2 * hits
            n = th.acc_count
            out_c[t, n] = j
            out_v[t, n] = s
            th.acc_count = n + 1
            store(done, RB[R_CI] + (cp[row] + n) * IDX_B, IDX_B, K_NONE, P, port)
            store(done, RB[R_CX] + (cp[row] + n) * WORD_B, WORD_B, K_NONE, P, port)
    th.j = j1
    if j1 == N:
        n = th.acc_count
        write_row(row, out_c[t, :n], out_v[t, :n], n, out, st)
        th.state = TAKE
    return issue, done, STEP_OK


# =========================================== outer product ==================================
@njit(cache=True, **INTERNAL)
def outer_step(t, now, P, threads, ops, out, mem, work, tab):
    """Phase 0: chunk offsets; 1: column k of A times row k of B -> partial products in
    DRAM; 2: per row of C, read its chunks back, sort and merge (OuterSPACE style)."""
    core = t // P.threads_per_core
    ap, ai, ax, bp, bi, bx = ops.ap, ops.ai, ops.ax, ops.bp, ops.bi, ops.bx
    xp, xpos, off = ops.xp, ops.xpos, ops.off
    RB = mem.regions
    port = mem.port   # read once: where NRT is on, each read of a tuple member costs a refcount pair
    st = mem.stats
    th = threads[t]
    phase = work.shared[()].phase
    if th.phase != phase:  # a new phase: fresh work distribution
        th.phase = phase
        th.state = TAKE
        th.unit_next = 0
        th.unit_end = 0
        th.window = t
    K = xp.shape[0] - 1
    M = ap.shape[0] - 1
    if phase == 0 or (phase == 1 and th.state == TAKE):
        k, rdy = next_unit(t, now, K, P, threads, mem, work)
        if k < 0:
            return 1, rdy, (STEP_DONE if phase == 2 else STEP_BARRIER)
        t1 = max(load(core, rdy, RB[R_XP] + k * WORD_B, PAIR_B, CACHED, K_NONE, P, port),
                 load(core, rdy, RB[R_BP] + k * WORD_B, PAIR_B, CACHED, K_NONE, P, port))
        p0, p1 = xp[k], xp[k + 1]
        lb = bp[k + 1] - bp[k]
        if phase == 0:  # per nonzero of column k: offset of its chunk (one add, one store)
            store(t1, RB[R_OFF] + p0 * WORD_B, (p1 - p0) * WORD_B, K_NONE, P, port)
            return 4 + 2 * (p1 - p0), t1, STEP_OK
        if p1 == p0 or lb == 0:
            return 4, t1, STEP_OK
        # row k of B is streamed once (uncached), column k of A likewise
        t2 = max(load(core, t1, RB[R_BI] + bp[k] * IDX_B, lb * IDX_B, UNCACHED, K_NONE, P, port),
                 load(core, t1, RB[R_BX] + bp[k] * WORD_B, lb * WORD_B, UNCACHED, K_NONE, P, port))
        th.row = k
        th.j = p0
        th.j_end = p1
        th.state = NEXT_A
        return 6, t2, STEP_OK
    if phase == 1:  # one chunk: A[i,k] * B[k,:] written to the chunk's place in DRAM (timed
        # here; the host recomputes the products when phase 2 merges the row, not holding them)
        k = th.row
        p = th.j
        t1 = max(load(core, now, RB[R_XI] + p * IDX_B, IDX_B, UNCACHED, K_NONE, P, port),
                 load(core, now, RB[R_XX] + p * WORD_B, WORD_B, UNCACHED, K_NONE, P, port),
                 load(core, now, RB[R_OFF] + p * WORD_B, WORD_B, UNCACHED, K_NONE, P, port))
        q0, q1 = bp[k], bp[k + 1]
        o = off[p]
        lb = q1 - q0
        st[S_PP] += lb
        st[S_FLOPS] += lb
        done = t1 + lb * P.mul_cycles
        store(done, RB[R_PPI] + o * IDX_B, lb * IDX_B, K_PP, P, port)
        store(done, RB[R_PPX] + o * WORD_B, lb * WORD_B, K_PP, P, port)
        th.j = p + 1
        if p + 1 == th.j_end:
            th.state = TAKE
        return 3 + lb * P.mul_cycles + 2, done, STEP_OK
    # phase 2: merge row i
    row, rdy = next_unit(t, now, M, P, threads, mem, work)
    if row < 0:
        return 1, rdy, STEP_DONE
    t1 = load(core, rdy, RB[R_AP] + row * WORD_B, PAIR_B, UNCACHED, K_NONE, P, port)
    j0, j1 = ap[row], ap[row + 1]
    t2 = load(core, t1, RB[R_AI] + j0 * IDX_B, (j1 - j0) * IDX_B, UNCACHED, K_NONE, P, port)
    total = 0
    for j in range(j0, j1):
        k = ai[j]
        total += bp[k + 1] - bp[k]
    cols = np.empty(total, np.int64)
    vals = np.empty(total, np.float64)
    done = t2
    outst = P.max_outstanding
    n = 0
    for j in range(j0, j1):
        k = ai[j]
        lb = bp[k + 1] - bp[k]
        p = xpos[j]
        o = off[p]
        t3 = load(core, t2 + ((j - j0) // outst) * P.dram_latency, RB[R_OFF] + p * WORD_B, WORD_B, UNCACHED,
                  K_NONE, P, port)
        done = max(done, load(core, t3, RB[R_PPI] + o * IDX_B, lb * IDX_B, UNCACHED, K_PP, P, port),
                   load(core, t3, RB[R_PPX] + o * WORD_B, lb * WORD_B, UNCACHED, K_PP, P, port))
        a = ax[j]   # = X's value of chunk p: the products phase 1 wrote, recomputed
        for q in range(bp[k], bp[k + 1]):
            cols[n] = bi[q]
            vals[n] = a * bx[q]
            n += 1
    order = stable_argsort(cols)
    issue = 6 + 2 * (j1 - j0) + sort_cost(total, P, st) + total * P.compare_cycles
    st[S_CMP] += total
    m = np.int64(0)   # not a literal 0: Numba would also compile write_row for Literal[int](0)
    oc = np.empty(total, np.int64)
    ov = np.empty(total, np.float64)
    for x in range(total):
        c = cols[order[x]]
        if m > 0 and oc[m - 1] == c:
            ov[m - 1] += vals[order[x]]
        else:
            oc[m] = c
            ov[m] = vals[order[x]]
            m += 1
    st[S_FLOPS] += total - m   # the additions of the merge
    write_row(row, oc, ov, m, out, st)
    done = done + issue
    store(done, RB[R_CI] + out.cp[row] * IDX_B, m * IDX_B, K_NONE, P, port)
    store(done, RB[R_CX] + out.cp[row] * WORD_B, m * WORD_B, K_NONE, P, port)
    return issue, done, STEP_OK
