"""Row-wise engine steps (SMASH v1/v2/v3, dense-accumulator Gustavson): take a unit, size a
v3 table, fetch B rows, merge products into the owner's table, write the row back."""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._acclist import (
    acc_append,
    acc_merge,
    acc_release,
    copy_records,
    distinct_count,
)
from accel.arch.piuma._constants import (
    ACC_DENSE,
    ACC_FRAG,
    CACHED,
    EMPTY,
    IDX_B,
    INTERNAL,
    K_ACC,
    K_NONE,
    K_PP,
    NEXT_A,
    OPEN_TOKENS_WORD,
    PAIR_B,
    POOL_WORD,
    PRODUCTS,
    R_ACC,
    R_AI,
    R_AP,
    R_AX,
    R_BI,
    R_BP,
    R_BX,
    R_CI,
    R_CX,
    R_SPILL,
    S_ATOMICS,
    S_BADROW,
    S_COLL,
    S_FLOPS,
    S_INSERTS,
    S_POOLWAIT,
    S_PP,
    S_PROBES,
    S_SPILL,
    SIZE,
    STEP_DONE,
    STEP_OK,
    TAKE,
    UNCACHED,
    WORD_B,
    WRITE,
    WRITEBACK,
)
from accel.arch.piuma._memory import load, spad, store, transfer
from accel.arch.piuma._prefetch import prefetch, prefetch1
from accel.arch.piuma._rowplan import (
    C_COLL,
    C_FIRST,
    C_PROBES,
    C_SPILLS,
    CHUNK_WORDS,
    PLAN_UNDECIDED,
    hash_slot,
    next_slot,
    record,
    sort_pairs,
)
from accel.arch.piuma._work import ilog2ceil, next_unit, sort_cost, stable_argsort, write_row
from accel.arch.piuma.state import PROBE_QUADRATIC

# Host cache hint (``_prefetch``): a product's first hash slot is requested this many
# products ahead.  A rolling window keeps the host's few outstanding misses busy; hinting a
# whole 128-product step at once overran them (rmat:15 smash-v3: 0.81x the time of the
# whole-step pass, median of 5 interleaved pairs; 4 and 8 ahead are alike, ratio 1.00).
PF_AHEAD = 8

@njit(cache=True, _nrt=False, inline="always")
def _hint_slot(tab, o, col, bits, fbits, fmask, P):
    """Host cache hint: start loading the key and value of col's first slot in owner o's
    table (state.Tables: fragment row, then column)."""
    h = hash_slot(col, bits, P)
    fr = tab.frag[o, h >> fbits]
    prefetch(tab.keys, fr, h & fmask)
    prefetch(tab.vals, fr, h & fmask)


# =========================================== row-wise (SMASH, dense) ========================
# A row-wise work unit is a row, or (token distribution, ``token_pps`` > 0) a *token*: a
# run of consecutive A nonzeros of a heavy row holding about ``token_pps`` partial
# products.  The first thread to take a token of a row becomes the row's *owner*: its
# table (hash / fragments / dense accumulator) is the row's.  Threads that take the row's
# other tokens are *helpers*: they merge their products into the owner's table with the
# same atomic inserts, remote ones when the owner sits on another core (PIUMA's global
# address space), so no partial row is ever built.  Each finished token decrements the
# row's open-token counter at the owner's scratchpad; the owner, once its own token is
# done, spins on that counter and then writes the row back.  Per-row state: state.ROW.


@njit(cache=True, _nrt=False, inline="always")
def _to_owner(core, owner_core, P):
    """Extra latency of an access to the owner's scratchpad: a mesh round trip if remote."""
    return P.remote_atomic_latency if owner_core != core else 0.0


@njit(cache=True, _nrt=False, inline="always")
def _context(t, P, threads, mem):
    """What every row-wise step reads first: threads per core, thread t's core, the
    accumulator kind, the region bases, the DRAM port (read once: where NRT is on, each
    read of a tuple member costs a refcount pair), the statistics and thread t's record."""
    tpc = P.threads_per_core
    return tpc, t // tpc, P.accumulator, mem.regions, mem.port, mem.stats, threads[t]


@njit(cache=True, _nrt=False, inline="always")
def product_done(probes, spilled, tdone, o, own, P, mem, st):
    """What a partial product costs once its probes are timed: the statistics and, when the
    table is full, its spill to owner o's DRAM overflow list.  Returns its issue slots."""
    st[S_ATOMICS] += probes
    st[S_PROBES] += probes
    if probes > 1:
        st[S_COLL] += 1
    issue = P.mul_cycles + P.hash_cycles + probes
    if spilled:
        st[S_SPILL] += 1
        at = mem.regions[R_SPILL] + (o * P.n_cols + own.spills % P.n_cols) * PAIR_B
        transfer(tdone, at, PAIR_B, WRITE, K_PP, P, mem.port)   # a posted store
        own.spills += 1
        issue += 1
    return issue


@njit(cache=True, _nrt=False, inline="always")
def walked_products(t, q0, q1, tdone, P, mem, arena, th, st):
    """``planned_products`` at the fast fidelity (``model.FIDELITY_FAST``): each probe takes
    ``spad_latency`` without booking its bank, and the step's spills go out as one posted
    store to the owner's overflow list (two if it wraps), at the time of the first.  The
    products' times then depend only on their probe counts, so a step is timed from its
    plan's chunk (``_rowplan`` CHUNKS: its probes, collisions, spills and first spill's
    offset), one read instead of a record a product.  What that leaves out, measured
    against the exact engine: bank conflicts (0.02 cycles an atomic at rmat:14) and each
    spill's own DRAM booking time.
    WALK_TIME: a step's times are its start plus an integer, one add, here and in the table
    path alike, so a row times the same, bit for bit, whether it was planned or not (which
    rows a planner thread has ready is a race; the result must not be)."""
    w = th.acc_base + th.plan_pos * CHUNK_WORDS
    acc_c = arena.acc_c
    probes = acc_c[w + C_PROBES]
    nsp = acc_c[w + C_SPILLS]
    n = q1 - q0
    th.plan_pos += 1
    st[S_ATOMICS] += probes
    st[S_PROBES] += probes
    st[S_COLL] += acc_c[w + C_COLL]
    post_spills(t, nsp, tdone + acc_c[w + C_FIRST], th, P, mem, st)
    step = P.mul_cycles + P.hash_cycles
    return n * step + probes + nsp, tdone + (n * step + probes * P.spad_latency)


@njit(cache=True, _nrt=False, inline="always")
def post_spills(o, nsp, tsp, own, P, mem, st):
    """Fast fidelity: a step's ``nsp`` spills to owner o's overflow list, one posted store
    at ``tsp`` (two where the list wraps)."""
    if nsp == 0:
        return
    st[S_SPILL] += nsp
    N = P.n_cols
    region = mem.regions[R_SPILL] + o * N * PAIR_B
    left = nsp
    while left > 0:   # up to the list's end, then from its start again (it wraps)
        k = own.spills % N
        m = min(left, N - k)
        transfer(tsp, region + k * PAIR_B, m * PAIR_B, WRITE, K_PP, P, mem.port)
        own.spills += m
        left -= m


@njit(cache=True, _nrt=False, inline="always")
def planned_products(t, q0, q1, tdone, P, ops, mem, arena, th, core, st):
    """Products q0..q1 of thread t's planned row (``_rowplan``), timed as the table's in
    ``rowwise_step``, their probe counts read from the row's records.  Returns (issue
    slots, time)."""
    if P.walk_timing > 0:
        return walked_products(t, q0, q1, tdone, P, mem, arena, th, st)
    bi = ops.bi
    E = th.table_slots
    bits = ilog2ceil(E)
    mask = E - 1
    quad = P.collision_policy == PROBE_QUADRATIC
    base = (t % P.threads_per_core) * P.table_slots_max
    step = P.mul_cycles + P.hash_cycles
    x = th.plan_pos
    issue = 0
    for q in range(q0, q1):
        r = record(arena.acc_c, th.acc_base, x)
        x += 1
        probes = abs(r)
        h = hash_slot(np.int64(bi[q]), bits, P)
        tdone += step
        for i in range(probes):   # an atomic compare-and-add at each probed slot's bank
            tdone = spad(core, base + h, tdone, P.atomic_cycles, P, mem)
            h = next_slot(h, i + 1, quad, mask)
        issue += product_done(probes, r < 0, tdone, t, th, P, mem, st)
    th.plan_pos = x
    return issue, tdone


@njit(cache=True, _nrt=False, inline="always")
def rowwise_step(t, now, P, threads, ops, mem, work, tab, arena):
    """One step of a row-wise thread (TAKE a unit, SIZE a v3 table, NEXT_A nonzero,
    PRODUCTS into the table; WRITEBACK is ``writeback_step``)."""
    tpc, core, acc, RB, port, st, th = _context(t, P, threads, mem)
    state = th.state
    if state == TAKE:  # ---- window/token distribution: take the next row or token
        th.plan_pos = PLAN_UNDECIDED   # planned (``_rowplan``) before its first NEXT_A, or not
        u, rdy = next_unit(t, now, work.u_row.shape[0], P, threads, mem, work)
        if u < 0:
            return 1, rdy, STEP_DONE
        row = work.u_row[u]
        rw = work.rows[row]
        th.row = row
        th.j = work.u_j0[u]
        th.j_end = work.u_j1[u]
        done = load(core, rdy, RB[R_AP] + row * WORD_B, PAIR_B, UNCACHED, K_NONE, P, port)
        if rw.owner >= 0:  # a helper: the owner's table already exists
            th.owner = rw.owner
            th.state = NEXT_A
            return 3, done, STEP_OK
        rw.owner = t
        th.owner = t
        th.unit = u
        th.table_fill = 0
        th.spills = 0
        th.table_slots = P.hash_table_entries  # v3 replaces this with its fragment table in SIZE
        if acc == ACC_FRAG:
            th.state = SIZE
        else:
            rw.ready = 1
            rw.t_ready = done
            th.state = NEXT_A
        return 3, done, STEP_OK
    if state == SIZE:  # ---- v3 owner: size the row's table from its upper bound, take fragments
        ap, ai, bp = ops.ap, ops.ai, ops.bp
        row = th.row
        j0, j1 = ap[row], ap[row + 1]   # the whole row, also the tokens of its helpers
        t1 = load(core, now, RB[R_AI] + j0 * IDX_B, (j1 - j0) * IDX_B, UNCACHED, K_NONE, P, port)
        done = t1
        ub = 0
        outst = P.max_outstanding
        for j in range(j0, j1):
            k = ai[j]
            ub += bp[k + 1] - bp[k]
            t0 = t1 + ((j - j0) // outst) * P.dram_latency
            done = max(done, load(core, t0, RB[R_BP] + k * WORD_B, PAIR_B, CACHED, K_NONE, P, port))
        ub = min(ub, P.n_cols)
        frag = P.fragment_entries
        need = (ub + np.int64(frag * P.max_load) - 1) // max(1, np.int64(frag * P.max_load))
        nf = 1
        while nf < need and nf < P.max_fragments:
            nf *= 2
        pool = tab.pool
        while nf > pool[core] and nf > 1:
            nf //= 2
        issue = 2 * (j1 - j0) + 4
        if pool[core] < nf:  # pool empty: retry after a DRAM round trip
            st[S_POOLWAIT] += 1
            return issue, done + P.dram_latency, STEP_OK
        pool[core] -= nf
        for f in range(nf):  # pop nf free fragments off the core's stack
            tab.frag[t, f] = tab.free[core, pool[core] + f]
        st[S_ATOMICS] += 1
        done = max(done, spad(core, POOL_WORD, done, P.atomic_cycles, P, mem))
        th.table_slots = nf * frag
        th.fragments = nf
        rw = work.rows[row]
        rw.ready = 1
        rw.t_ready = done
        th.state = NEXT_A
        return issue, done, STEP_OK
    if state == NEXT_A:  # ---- next nonzero A[i,k]: fetch B row k
        j = th.j
        if j == th.j_end:
            th.state = WRITEBACK
            return 1, now, STEP_OK
        k = ops.ai[j]
        t1 = max(load(core, now, RB[R_AI] + j * IDX_B, IDX_B, UNCACHED, K_NONE, P, port),
                 load(core, now, RB[R_AX] + j * WORD_B, WORD_B, UNCACHED, K_NONE, P, port))
        t2 = load(core, t1, RB[R_BP] + k * WORD_B, PAIR_B, CACHED, K_NONE, P, port)
        q0, q1 = ops.bp[k], ops.bp[k + 1]
        if j + 1 < th.j_end:   # host cache hint: the next NEXT_A's B row bounds
            prefetch1(ops.bp, ops.ai[j + 1])
        t3 = t2
        if q1 > q0:
            prefetch1(ops.bi, q0)   # host cache hints: the row the PRODUCTS steps read
            prefetch1(ops.bx, q0)
            t3 = max(load(core, t2, RB[R_BI] + q0 * IDX_B, (q1 - q0) * IDX_B, CACHED, K_NONE, P, port),
                     load(core, t2, RB[R_BX] + q0 * WORD_B, (q1 - q0) * WORD_B, CACHED, K_NONE, P, port))
            th.state = PRODUCTS
        th.q = q0
        th.q_end = q1
        th.a_value = ops.ax[j]
        th.j = j + 1
        return 5, t3, STEP_OK
    if state == PRODUCTS:  # ---- a run of partial products of B row k: multiply, accumulate
        # Up to ``step_pps`` products per engine step, each dependent on the previous one's
        # completion (the thread waits for every atomic's result).  Their issue slots are
        # charged together; other threads of the pipeline issue in the same cycles.
        row = th.row
        rw = work.rows[row]
        o = th.owner       # whose table: this thread's, or the row owner's
        own = threads[o]
        if rw.ready == 0:  # the owner is still sizing its table (v3): spin
            return 1, now + P.remote_atomic_latency, STEP_OK
        ocore = o // tpc
        far = _to_owner(core, ocore, P)
        N = P.n_cols
        bi, bx = ops.bi, ops.bx
        q0 = th.q
        q1 = min(th.q_end, q0 + P.step_pps)
        a = th.a_value
        mulc = P.mul_cycles
        hashc = P.hash_cycles
        tdone = max(now, rw.t_ready) if o != t else now
        issue = 0
        if acc == ACC_DENSE:
            cached = P.dense_acc_cached > 0
            for q in range(q0, q1):
                col = np.int64(bi[q])
                # read-modify-write of the owner's dense accumulator (stamp + value) in DRAM
                a_addr = RB[R_ACC] + (o * N + col) * PAIR_B
                t1 = load(core, tdone + mulc, a_addr, PAIR_B, cached, K_ACC, P, port)
                store(t1, a_addr, PAIR_B, K_ACC, P, port)
                acc_append(o, col, a * bx[q], arena, threads)
                tdone = t1 + 1
                issue += mulc + 3
        elif th.plan_pos >= 0:
            issue, tdone = planned_products(t, q0, q1, tdone, P, ops, mem, arena, th, ocore, st)
        else:
            keys, vals, ftab, filled = tab.keys, tab.vals, tab.frag, tab.filled
            fbits = ilog2ceil(keys.shape[1])   # logical slot h: row ftab[o, h >> fbits], column h & fmask
            fmask = keys.shape[1] - 1
            E = own.table_slots
            bits = ilog2ceil(E)
            mask = E - 1
            base = (o % tpc) * P.table_slots_max
            cap = np.int64(E * P.max_load)
            quad = P.collision_policy == PROBE_QUADRATIC
            atomic = P.atomic_cycles
            walk = P.walk_timing > 0   # fast fidelity: as ``walked_products`` (WALK_TIME)
            t0 = tdone
            dt = 0
            nsp = 0
            tsp = tdone
            for q in range(q0, min(q1, q0 + PF_AHEAD)):  # host cache hint (PF_AHEAD)
                _hint_slot(tab, o, np.int64(bi[q]), bits, fbits, fmask, P)
            for q in range(q0, q1):
                if q + PF_AHEAD < q1:
                    _hint_slot(tab, o, np.int64(bi[q + PF_AHEAD]), bits, fbits, fmask, P)
                col = np.int64(bi[q])
                v = a * bx[q]
                h = hash_slot(col, bits, P)
                probes = 0
                if walk:
                    dt += mulc + hashc
                else:
                    tdone = tdone + mulc + hashc
                spilled = False
                while True:   # the probes of ``_rowplan.probe``, each timed as it goes
                    probes += 1
                    # atomic compare-and-add at the slot's bank: the thread waits for it
                    if walk:
                        dt += P.spad_latency
                    else:
                        tdone = spad(ocore, base + h, tdone, atomic, P, mem) + far
                    fr = ftab[o, h >> fbits]
                    x = h & fmask
                    key = keys[fr, x]
                    if key == col:
                        vals[fr, x] += v
                        break
                    if key == EMPTY:
                        k = own.table_fill
                        if k < cap:
                            keys[fr, x] = col
                            vals[fr, x] = v
                            filled[ftab[o, k >> fbits], k & fmask] = h   # for the write-back
                            own.table_fill = k + 1
                            st[S_INSERTS] += 1
                        else:
                            spilled = True
                        break
                    if probes >= E:
                        spilled = True
                        break
                    h = next_slot(h, probes, quad, mask)
                if walk:
                    issue += product_done(probes, False, tdone, o, own, P, mem, st) + spilled
                    if spilled and nsp == 0:
                        tsp = t0 + dt
                    nsp += spilled
                else:
                    issue += product_done(probes, spilled, tdone, o, own, P, mem, st)
                if spilled:
                    acc_append(o, col, v, arena, threads)
            if walk:
                post_spills(o, nsp, tsp, own, P, mem, st)
                tdone = t0 + dt
        st[S_PP] += q1 - q0
        st[S_FLOPS] += 2 * (q1 - q0)
        th.pp_taken += q1 - q0
        th.q = q1
        if q1 == th.q_end:
            th.state = NEXT_A
        return issue, tdone, STEP_OK
    # WRITEBACK is writeback_step, which the scheduler calls itself
    return 0, now, STEP_OK


@njit(cache=True, _nrt=False, inline="always")
def _drain_table(tab, t, n, out_c, out_v, x):
    """Move thread t's n live hash slots into out_c/out_v from index x on, in insert order,
    clearing them; returns the next free index.  Only the filled slots are visited
    (``Tables.filled``); the machine's scan of every slot is timed by the caller."""
    keys, vals_t, ftab, filled = tab.keys, tab.vals, tab.frag, tab.filled
    fbits = ilog2ceil(keys.shape[1])   # logical slot h: row ftab[t, h >> fbits], column h & fmask
    fmask = keys.shape[1] - 1
    for k in range(n):
        h = filled[ftab[t, k >> fbits], k & fmask]
        fr = ftab[t, h >> fbits]
        c = h & fmask
        out_c[x] = keys[fr, c]
        out_v[x] = vals_t[fr, c]
        keys[fr, c] = EMPTY
        x += 1
    return x


@njit(cache=True, _nrt=False, inline="always")
def _clear_table(tab, t, n):
    """Empty thread t's n filled hash slots (the values need no clearing: an insert writes one)."""
    keys, ftab, filled = tab.keys, tab.frag, tab.filled
    fbits = ilog2ceil(keys.shape[1])
    fmask = keys.shape[1] - 1
    for k in range(n):
        h = filled[ftab[t, k >> fbits], k & fmask]
        keys[ftab[t, h >> fbits], h & fmask] = EMPTY


@njit(cache=True, _nrt=False, inline="always")
def _tokens_in(t, now, P, mem, th, rw, core, tpc, st):
    """The first part of a write-back, for a row split into tokens: count this unit done at
    the owner's open-token counter; a helper is then free again, the owner spins until
    every token is in.  Returns (build the row now?, issue slots, time)."""
    o = th.owner
    if rw.units > 1:
        if th.counted == 0:  # this token is done: decrement the open-token counter
            th.counted = 1
            rw.open -= 1
            st[S_ATOMICS] += 1
            ocore = o // tpc
            fin = (spad(ocore, OPEN_TOKENS_WORD, now, P.atomic_cycles, P, mem)
                   + _to_owner(core, ocore, P))
            rw.t_last = max(rw.t_last, fin)
            if o != t:  # a helper is free again
                th.counted = 0
                th.state = TAKE
                return False, 3, fin
            now = fin
        if rw.open > 0:  # the owner spins on the counter in its own scratchpad
            return False, 1, now + P.poll_cycles
        th.counted = 0
        now = max(now, rw.t_last)
    return True, 0, now


@njit(cache=True, _nrt=False, inline="always")
def _spills_back(t, now, ns, P, core, RB, port, st):
    """Read owner t's ``ns`` spilled partial products back from DRAM and merge them (a
    sort): returns (time, issue slots)."""
    N = P.n_cols
    done = load(core, now, RB[R_SPILL] + t * N * PAIR_B, min(ns, N) * PAIR_B, UNCACHED, K_PP, P,
                port)
    return done, ns + sort_cost(ns, P, st)


@njit(cache=True, _nrt=False, inline="always")
def _free_table(t, now, done, n, P, th, tab, mem, st, core, acc):
    """What a hash write-back does once its row is built: the sort the output order costs,
    and the fragments back on the core's stack (v3).  Returns (issue slots, time)."""
    issue = sort_cost(n, P, st) if P.sorted_output > 0 else 0
    if acc == ACC_FRAG:   # push the fragments back on the core's stack
        for f in range(th.fragments):
            tab.free[core, tab.pool[core] + f] = tab.frag[t, f]
        tab.pool[core] += th.fragments
        st[S_ATOMICS] += 1
        done = max(done, spad(core, POOL_WORD, now, P.atomic_cycles, P, mem))
    return issue, done


@njit(cache=True, _nrt=False, inline="always")
def _store_row(row, done, n, RB, out, P, port):
    """The row's column indices and values, stored to C in DRAM."""
    cp = out.cp
    store(done, RB[R_CI] + cp[row] * IDX_B, n * IDX_B, K_NONE, P, port)
    store(done, RB[R_CX] + cp[row] * WORD_B, n * WORD_B, K_NONE, P, port)


# A write-back whose row is built without allocating (``fast_writeback``) holds at most this
# many entries: it sorts them in place, by insertion, where the host keeps C's row
SMALL_ROW = 64


@njit(cache=True, _nrt=False, inline="always")
def fast_writeback(t, P, threads, out, work):
    """True when thread t's write-back step builds no array (``writeback_fast`` takes it,
    inside the loop without reference counting): a helper's, or a hash owner's whose row
    spilled nothing and is either not kept by the host or short (SMALL_ROW) and of the
    symbolic pass's length (else ``writeback_step`` flags it).  Every other one returns to
    ``run_rowwise``.  Decided at the step's start: nothing this step does changes it."""
    th = threads[t]
    if th.owner != t or th.plan_pos >= 0:
        return True
    if P.accumulator == ACC_DENSE or th.spills > 0:
        return False
    row = th.row
    if out.keep[row] < 0:
        return True
    n = th.table_fill
    return n <= SMALL_ROW and n == out.cp[row + 1] - out.cp[row]


@njit(cache=True, _nrt=False, inline="always")
def writeback_fast(t, now, P, threads, out, mem, work, tab, arena):
    """``writeback_step`` for the steps ``fast_writeback`` admits, with the same timing and
    the same row.  A planned row (``_rowplan``) is in C already; a table drains straight
    into C's kept row, which is then sorted in place (its columns are distinct, so any sort
    gives the order of the general path)."""
    tpc, core, acc, RB, port, st, th = _context(t, P, threads, mem)
    row = th.row
    go, issue, now = _tokens_in(t, now, P, mem, th, work.rows[row], core, tpc, st)
    if not go:
        return issue, now, STEP_OK
    done = now
    if th.plan_pos >= 0:
        n = th.plan_n
        pr = work.rows[row].plan_rec
        if pr > P.plan_max:   # a long row's records leave the budget (_planahead)
            work.shared[()].plan_live -= pr
        ns = th.spills
        if ns > 0:
            done, more = _spills_back(t, now, ns, P, core, RB, port, st)
            issue += more
    else:
        n = th.table_fill
        at = out.keep[row]
        if at < 0:
            _clear_table(tab, t, n)
        else:
            _drain_table(tab, t, n, out.ci, out.cx, at)
            sort_pairs(out.ci, out.cx, at, n)
    more, done = _free_table(t, now, done, n, P, th, tab, mem, st, core, acc)
    issue += more + 2 + th.table_slots // P.scan_slots_per_cycle
    acc_release(t, threads)
    if n != out.cp[row + 1] - out.cp[row]:
        st[S_BADROW] += 1
    out.cfill[row] = n
    _store_row(row, done, n, RB, out, P, port)
    th.state = TAKE
    return issue + 2, done, STEP_OK


@njit(cache=True, **INTERNAL)
def writeback_step(t, now, P, threads, out, mem, work, tab, arena):
    """WRITEBACK of a row-wise thread (once per work unit): count the unit done and, for the
    row's owner once every token is in, compact the table into the CSR row of C.  Apart
    from rowwise_step because it allocates (sorts), which needs Numba's reference
    counting; rowwise_step runs without it (``_nrt=False``: no atomic refcount traffic per
    call, measured 2.6x faster) and so may not call this.  The write-backs that need no
    array take ``writeback_fast`` instead (``fast_writeback``)."""
    tpc, core, acc, RB, port, st, th = _context(t, P, threads, mem)
    row = th.row
    go, issue0, now = _tokens_in(t, now, P, mem, th, work.rows[row], core, tpc, st)
    if not go:
        return issue0, now, STEP_OK
    N = P.n_cols
    b0, nl = th.acc_base, th.acc_len   # the row's accumulator list (_acclist)
    issue = 2
    done = now
    if acc == ACC_DENSE:
        cols, vals, touch = acc_merge(arena.acc_c[b0:b0 + nl], arena.acc_v[b0:b0 + nl])
        n = cols.shape[0]
        issue += n + (sort_cost(n, P, st) if P.sorted_output > 0 else 0)
        cached = P.dense_acc_cached > 0
        for x in range(n):  # reads of the touched accumulator entries
            done = max(done, load(core, now + x, RB[R_ACC] + (t * N + touch[x]) * PAIR_B + WORD_B, WORD_B,
                                  cached, K_ACC, P, port))
    else:
        E = th.table_slots
        issue += E // P.scan_slots_per_cycle
        ns = th.spills
        if out.keep[row] < 0:
            # a row the host does not keep: only its entry count matters (its stores are
            # timed by it, the symbolic pass checks it).  A spilled column never has a slot
            # (the table was full when it came first), so the count is the table's keys
            # plus the distinct spilled columns; no row is built or sorted
            n = th.table_fill + (distinct_count(arena.acc_c[b0:b0 + nl]) if ns > 0 else 0)
            _clear_table(tab, t, th.table_fill)
            cols, vals = arena.acc_c[b0:b0], arena.acc_v[b0:b0]
        elif ns == 0:
            # nothing spilled: the table holds each column of the row once, so its live
            # slots are the row
            n = th.table_fill
            lc = np.empty(n, np.int64)
            lv = np.empty(n, np.float64)
            _drain_table(tab, t, n, lc, lv, 0)
            order = stable_argsort(lc)
            cols = np.empty(n, np.int64)
            vals = np.empty(n, np.float64)
            for x in range(n):   # a loop: fancy indexing costs Numba ~0.3 s of compile
                cols[x] = lc[order[x]]
                vals[x] = lv[order[x]]
        else:
            # add the live entries to the spilled records and clear them
            # (a spilled column never has a slot: the table was full when it came first)
            lc = np.empty(nl + th.table_fill, np.int64)
            lv = np.empty(nl + th.table_fill, np.float64)
            copy_records(arena.acc_c, arena.acc_v, b0, lc, lv, 0, nl)
            x = _drain_table(tab, t, th.table_fill, lc, lv, nl)
            cols, vals, _ = acc_merge(lc[:x], lv[:x])
            n = cols.shape[0]
        if ns > 0:
            done, more = _spills_back(t, now, ns, P, core, RB, port, st)
            issue += more
        more, done = _free_table(t, now, done, n, P, th, tab, mem, st, core, acc)
        issue += more
    acc_release(t, threads)
    write_row(row, cols, vals, n, out, st)
    _store_row(row, done, n, RB, out, P, port)
    th.state = TAKE
    return issue + 2, done, STEP_OK
