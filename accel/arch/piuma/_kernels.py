"""Numba engine of the PIUMA model: memory system, many-threaded scheduler, algorithms.

Everything numba-compiled lives in this one module on purpose: Numba's on-disk cache
(``cache=True``) is keyed on the file of the *calling* function, so splitting the
scheduler from the algorithm steps it calls would let a stale cache survive an edit.
The state layouts live in ``state.py``: they are part of the compiled signatures, so an
edit there re-keys the cache by itself.  ``reference.py`` is a plain-Python engine of the
same machine, written independently, that equals this one cycle for cycle.

Engine (see model.py for the mapping to the machine):
* Threads are state machines that run the actual algorithm on the actual CSR arrays.
  One call of a step function issues one short dependent chain of instructions (e.g.
  "multiply, hash, atomic-insert with its probes") and returns how many issue slots it
  used and when the thread is ready again.  Its memory accesses happen at their
  dependent times; its issue slots are charged to the pipeline at step start.
* Each pipeline issues round-robin from its ready threads; a thread waiting on memory
  is not ready, so the pipeline issues from another (PIUMA's fine-grained switching).
* Pipelines advance in lax lock-step windows of ``sync_quantum`` cycles (as Sniper
  does); shared resources (DRAM channels, scratchpad banks, the token counter) are
  "next free time" counters, so contention serialises requests.
* DRAM moves 8-byte words: a request of w words occupies its channel w/bw cycles and
  completes ``dram_latency`` later.  Cached loads fetch whole lines (per-core direct
  mapped, read-allocate, write-through no-allocate: caches are non-coherent), uncached
  loads and all stores move only the 8-byte words they touch.  A thread keeps at most
  ``max_outstanding`` requests in flight: a request batch of n misses takes
  ceil(n / max_outstanding) round trips.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma.state import Memory, Output, Ring, Tables

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


# =========================================== memory system ==================================
@njit(cache=True, _nrt=False, inline="always")
def reserve(used, epoch, r, t, busy, bw):
    """Book ``busy`` cycles of resource r at time t; returns when the booking completes.

    Each resource keeps a ring of time buckets of ``bw`` cycles with the busy time already
    booked in each.  A request fills its bucket and spills into later ones when full, so
    requests that arrive out of time order (lax synchronisation, look-ahead chains) queue
    only behind work booked in the *same* time window, never behind far-future bookings."""
    S = used.shape[1]
    b = np.int64(t / bw)  # t >= 0: truncation is the floor, without a float-modulo call
    left = busy
    first = True
    while True:
        s = b & (S - 1)
        if epoch[r, s] != b:
            if epoch[r, s] > b:  # beyond the ring's look-back: no contention recorded
                return t + busy
            epoch[r, s] = b
            used[r, s] = 0.0
        avail = bw - used[r, s]
        if avail >= left:
            used[r, s] += left
            if first:
                return t + busy
            return max(t + busy, b * bw + used[r, s])
        if avail > 0:
            used[r, s] = bw
            left -= avail
        b += 1
        first = False


@njit(cache=True, _nrt=False)
def dram(now, addr, nbytes, is_write, kind, P, mem):
    """Serve one contiguous request of 8-byte words; returns its completion time."""
    st = mem.stats
    w0 = addr >> 3
    w1 = (addr + nbytes + 7) >> 3
    inter = np.int64(P[P_DINTER]) >> 3
    nch = np.int64(P[P_DCH])
    cpw = P[P_DCPW]
    done = now
    w = w0
    while w < w1:  # split at channel-interleave boundaries
        wend = min(w1, (w // inter + 1) * inter)
        ch = (w // inter) % nch
        fin = reserve(mem.dram.used, mem.dram.epoch, ch, now, (wend - w) * cpw, DRAM_BUCKET)
        done = max(done, fin + P[P_DLAT])
        w = wend
    nb = (w1 - w0) * 8
    if is_write:
        st[S_WB] += nb
    else:
        st[S_RB] += nb
    if kind == K_PP:
        st[S_PPB] += nb
    elif kind == K_ACC:
        st[S_ACCB] += nb
    return done


@njit(cache=True, _nrt=False)
def load(core, now, addr, nbytes, cached, kind, P, mem):
    """Load [addr, addr+nbytes); cached loads go through the core's direct-mapped cache."""
    if nbytes <= 0:
        return now
    outst = np.int64(P[P_OUTST])
    rtt = P[P_DLAT]
    if not cached:
        words = ((addr + nbytes + 7) >> 3) - (addr >> 3)
        rounds = (words + outst - 1) // outst
        done = now
        per = outst * 8
        for r in range(rounds):  # each round: up to max_outstanding words in flight
            a = (addr & ~np.int64(7)) + r * per
            nb = min(per, (words - r * outst) * 8)
            done = max(done, dram(now + r * rtt, a, nb, False, kind, P, mem))
        return done
    tags = mem.tags
    st = mem.stats
    line = np.int64(P[P_CLINE])
    sets = np.int64(P[P_CSETS])
    done = now + P[P_CLAT]
    first = addr // line
    last = (addr + nbytes - 1) // line
    misses = 0
    for ln in range(first, last + 1):
        s = ln % sets
        if tags[core, s] == ln:
            st[S_HIT] += 1
        else:
            tags[core, s] = ln
            t0 = now + P[P_CLAT] + (misses // outst) * rtt
            done = max(done, dram(t0, ln * line, line, False, kind, P, mem))
            misses += 1
            st[S_MISS] += 1
    return done


@njit(cache=True, _nrt=False)
def store(now, addr, nbytes, kind, P, mem):
    """Posted store of the 8-byte words touched (write-through, no allocate)."""
    if nbytes > 0:
        dram(now, addr, nbytes, True, kind, P, mem)


@njit(cache=True, _nrt=False, inline="always")
def spad(core, word, now, occupancy, P, mem):
    """One scratchpad access at the bank of ``word``; conflicting accesses serialise."""
    nb = np.int64(P[P_SPAD_BANKS])
    fin = reserve(mem.banks.used, mem.banks.epoch, core * nb + word % nb, now, occupancy,
                  BANK_BUCKET)
    mem.stats[S_BANKWAIT] += np.int64(fin - now - occupancy)
    return fin - occupancy + P[P_SPAD_LAT]


# =========================================== work distribution ==============================
@njit(cache=True, _nrt=False)
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
    if np.int64(P[P_DIST]) == DIST_STATIC:
        w = th.window
        start = w * np.int64(P[P_WIN])
        if start >= n_units:
            return -1, now
        th.window = w + threads.shape[0]
        th.unit_next = start + 1
        th.unit_end = min(start + np.int64(P[P_WIN]), n_units)
        return start, now
    fin = reserve(mem.token.used, mem.token.epoch, 0, now, P[P_ATOMIC], BANK_BUCKET)
    ready = fin - P[P_ATOMIC] + P[P_RATOMIC]
    mem.stats[S_TOKENS] += 1
    shared = work.shared[()]
    start = shared.next_unit
    if start >= n_units:
        return -1, ready
    shared.next_unit = start + np.int64(P[P_TOK])
    th.unit_next = start + 1
    th.unit_end = min(start + np.int64(P[P_TOK]), n_units)
    return start, ready


@njit(cache=True, _nrt=False)
def ilog2ceil(n):
    r = 0
    while (np.int64(1) << r) < n:
        r += 1
    return r


@njit(cache=True, _nrt=False)
def sort_cost(n, P, st):
    """Issue slots of a comparison sort of n entries (n ceil(log2 n) compare steps)."""
    c = n * ilog2ceil(n) if n > 1 else 0
    st[S_CMP] += c
    return c * np.int64(P[P_CMP])


@njit(cache=True)
def write_row(row, cols, vals, n, out, st):
    """Store the finished row into C; a count that disagrees with the symbolic pass is flagged."""
    cp = out.cp
    cap = cp[row + 1] - cp[row]
    if n != cap:
        st[S_BADROW] += 1
    m = min(n, cap)
    for x in range(m):
        out.ci[cp[row] + x] = cols[x]
        out.cx[cp[row] + x] = vals[x]
    out.cfill[row] = n


@njit(cache=True, _nrt=False, inline="always")
def hash_slot(col, bits, P):
    if np.int64(P[P_HFN]) == 0:  # fibonacci (multiplicative) hashing
        h = (np.uint64(col) * FIB) >> np.uint64(64 - bits)
        return np.int64(h)
    return col & ((np.int64(1) << bits) - 1)


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
    return P[P_RATOMIC] if owner_core != core else 0.0


@njit(cache=True, _nrt=False)
def rowwise_step(t, now, P, threads, ops, out, mem, work, tab):
    """One step of a row-wise thread (TAKE a unit, SIZE a v3 table, NEXT_A nonzero,
    PRODUCTS into the table; WRITEBACK is ``writeback_step``)."""
    tpc = np.int64(P[P_TPC])
    core = t // tpc
    acc = np.int64(P[P_ACC])
    RB = mem.regions
    st = mem.stats
    th = threads[t]
    state = th.state
    if state == TAKE:  # ---- window/token distribution: take the next row or token
        u, rdy = next_unit(t, now, work.u_row.shape[0], P, threads, mem, work)
        if u < 0:
            return 1, rdy, STEP_DONE
        row = work.u_row[u]
        rw = work.rows[row]
        th.row = row
        th.j = work.u_j0[u]
        th.j_end = work.u_j1[u]
        done = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, mem)
        if rw.owner >= 0:  # a helper: the owner's table already exists
            th.owner = rw.owner
            th.state = NEXT_A
            return 3, done, STEP_OK
        rw.owner = t
        th.owner = t
        th.unit = u
        th.table_fill = 0
        th.spills = 0
        th.table_slots = np.int64(P[P_E])  # v3 replaces this with its fragment table in SIZE
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
        t1 = load(core, now, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, mem)
        done = t1
        ub = 0
        outst = np.int64(P[P_OUTST])
        for j in range(j0, j1):
            k = ai[j]
            ub += bp[k + 1] - bp[k]
            t0 = t1 + ((j - j0) // outst) * P[P_DLAT]
            done = max(done, load(core, t0, RB[R_BP] + k * 8, 16, True, K_NONE, P, mem))
        ub = min(ub, np.int64(P[P_N]))
        frag = np.int64(P[P_FRAG])
        need = (ub + np.int64(frag * P[P_MAXLOAD]) - 1) // max(1, np.int64(frag * P[P_MAXLOAD]))
        nf = 1
        while nf < need and nf < np.int64(P[P_MAXFRAG]):
            nf *= 2
        pool = tab.pool
        while nf > pool[core] and nf > 1:
            nf //= 2
        issue = 2 * (j1 - j0) + 4
        if pool[core] < nf:  # pool empty: retry after a DRAM round trip
            st[S_POOLWAIT] += 1
            return issue, done + P[P_DLAT], STEP_OK
        pool[core] -= nf
        st[S_ATOMICS] += 1
        done = max(done, spad(core, POOL_WORD, done, P[P_ATOMIC], P, mem))
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
        t1 = max(load(core, now, RB[R_AI] + j * 4, 4, False, K_NONE, P, mem),
                 load(core, now, RB[R_AX] + j * 8, 8, False, K_NONE, P, mem))
        t2 = load(core, t1, RB[R_BP] + k * 8, 16, True, K_NONE, P, mem)
        q0, q1 = ops.bp[k], ops.bp[k + 1]
        t3 = t2
        if q1 > q0:
            t3 = max(load(core, t2, RB[R_BI] + q0 * 4, (q1 - q0) * 4, True, K_NONE, P, mem),
                     load(core, t2, RB[R_BX] + q0 * 8, (q1 - q0) * 8, True, K_NONE, P, mem))
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
            return 1, now + P[P_RATOMIC], STEP_OK
        ocore = o // tpc
        far = _to_owner(core, ocore, P)
        N = np.int64(P[P_N])
        bi, bx = ops.bi, ops.bx
        q0 = th.q
        q1 = min(th.q_end, q0 + np.int64(P[P_PPSTEP]))
        a = th.a_value
        mulc = np.int64(P[P_MUL])
        hashc = np.int64(P[P_HASHC])
        tdone = max(now, rw.t_ready) if o != t else now
        issue = 0
        if acc == ACC_DENSE:
            cached = P[P_DACC] > 0
            for q in range(q0, q1):
                col = np.int64(bi[q])
                # read-modify-write of the owner's dense accumulator (stamp + value) in DRAM
                a_addr = RB[R_ACC] + (o * N + col) * 16
                t1 = load(core, tdone + mulc, a_addr, 16, cached, K_ACC, P, mem)
                store(t1, a_addr, 16, K_ACC, P, mem)
                _spa_add(o, own.unit, col, a * bx[q], tab, threads)
                tdone = t1 + 1
                issue += mulc + 3
        else:
            keys, vals = tab.keys, tab.vals
            E = own.table_slots
            bits = ilog2ceil(E)
            mask = E - 1
            base = (o % tpc) * np.int64(P[P_EMAX])
            cap = np.int64(E * P[P_MAXLOAD])
            quad = np.int64(P[P_PROBE]) == 1
            atomic = P[P_ATOMIC]
            for q in range(q0, q1):
                col = np.int64(bi[q])
                v = a * bx[q]
                h = hash_slot(col, bits, P)
                probes = 0
                tdone = tdone + mulc + hashc
                spilled = False
                while True:
                    probes += 1
                    # atomic compare-and-add at the slot's bank: the thread waits for it
                    tdone = spad(ocore, base + h, tdone, atomic, P, mem) + far
                    key = keys[o, h]
                    if key == col:
                        vals[o, h] += v
                        break
                    if key == EMPTY:
                        if own.table_fill < cap:
                            keys[o, h] = col
                            vals[o, h] = v
                            own.table_fill += 1
                            st[S_INSERTS] += 1
                        else:
                            spilled = True
                        break
                    if probes >= E:
                        spilled = True
                        break
                    h = (h + (probes if quad else 1)) & mask
                st[S_ATOMICS] += probes
                st[S_PROBES] += probes
                if probes > 1:
                    st[S_COLL] += 1
                issue += mulc + hashc + probes
                if spilled:  # table full: the partial product goes to the owner's DRAM overflow list
                    st[S_SPILL] += 1
                    store(tdone, RB[R_SPILL] + (o * N + own.spills % N) * 16, 16, K_PP, P, mem)
                    own.spills += 1
                    _spa_add(o, own.unit, col, v, tab, threads)
                    issue += 1
        st[S_PP] += q1 - q0
        st[S_FLOPS] += 2 * (q1 - q0)
        th.q = q1
        if q1 == th.q_end:
            th.state = NEXT_A
        return issue, tdone, STEP_OK
    # WRITEBACK is writeback_step, which the scheduler calls itself
    return 0, now, STEP_OK


@njit(cache=True)
def writeback_step(t, now, P, threads, out, mem, work, tab):
    """WRITEBACK of a row-wise thread (once per work unit): count the unit done and, for the
    row's owner once every token is in, compact the table into the CSR row of C.  Apart
    from rowwise_step because it allocates (sorts), which needs Numba's reference
    counting; rowwise_step runs without it (``_nrt=False``: no atomic refcount traffic per
    call, measured 2.6x faster) and so may not call this."""
    tpc = np.int64(P[P_TPC])
    core = t // tpc
    acc = np.int64(P[P_ACC])
    RB = mem.regions
    st = mem.stats
    th = threads[t]
    row = th.row
    rw = work.rows[row]
    o = th.owner
    if rw.units > 1:
        if th.counted == 0:  # this token is done: decrement the open-token counter
            th.counted = 1
            rw.open -= 1
            st[S_ATOMICS] += 1
            ocore = o // tpc
            fin = (spad(ocore, OPEN_TOKENS_WORD, now, P[P_ATOMIC], P, mem)
                   + _to_owner(core, ocore, P))
            rw.t_last = max(rw.t_last, fin)
            if o != t:  # a helper is free again
                th.counted = 0
                th.state = TAKE
                return 3, fin, STEP_OK
            now = fin
        if rw.open > 0:  # the owner spins on the counter in its own scratchpad
            return 1, now + P[P_POLL], STEP_OK
        th.counted = 0
        now = max(now, rw.t_last)
    N = np.int64(P[P_N])
    keys, vals_t, slist = tab.keys, tab.vals, tab.slist
    issue = 2
    done = now
    gathered = False
    if acc == ACC_DENSE:
        n = th.acc_count
        issue += n + (sort_cost(n, P, st) if P[P_SORT] > 0 else 0)
        cached = P[P_DACC] > 0
        for x in range(n):  # reads of the touched accumulator entries
            done = max(done, load(core, now + x, RB[R_ACC] + (t * N + slist[t, x]) * 16 + 8, 8,
                                  cached, K_ACC, P, mem))
    else:
        E = th.table_slots
        issue += E // np.int64(P[P_SCAN])
        ns = th.spills
        if ns == 0:
            # nothing spilled: the table holds each column of the row once, so its live
            # slots are the row (host shortcut past the N-wide functional accumulator)
            gathered = True
            n = th.table_fill
            cols = np.empty(n, np.int64)
            vals = np.empty(n, np.float64)
            x = 0
            for h in range(E):
                if keys[t, h] != EMPTY:
                    cols[x] = keys[t, h]
                    vals[x] = vals_t[t, h]
                    keys[t, h] = EMPTY
                    x += 1
            order = np.argsort(cols)
            cols = cols[order]
            vals = vals[order]
        else:
            # scan every slot, move live entries into the spilled/accumulated set, clear it
            for h in range(E):
                if keys[t, h] != EMPTY:
                    _spa_add(t, th.unit, np.int64(keys[t, h]), vals_t[t, h], tab, threads)
                    keys[t, h] = EMPTY
        if ns > 0:  # read the spilled partial products back and merge them
            done = load(core, now, RB[R_SPILL] + t * N * 16, min(ns, N) * 16, False, K_PP, P,
                        mem)
            issue += ns + sort_cost(ns, P, st)
        if not gathered:
            n = th.acc_count
        if P[P_SORT] > 0:   # column order within a C row, if the output must be sorted
            issue += sort_cost(n, P, st)
        if acc == ACC_FRAG:
            tab.pool[core] += th.fragments
            st[S_ATOMICS] += 1
            done = max(done, spad(core, POOL_WORD, now, P[P_ATOMIC], P, mem))
    if not gathered:
        n = th.acc_count
        cols = np.sort(slist[t, :n])
        vals = np.empty(n, np.float64)
        for x in range(n):
            vals[x] = tab.spa[t, cols[x]]
    th.acc_count = 0
    cp = out.cp
    write_row(row, cols, vals, n, out, st)
    store(done, RB[R_CI] + cp[row] * 4, n * 4, K_NONE, P, mem)
    store(done, RB[R_CX] + cp[row] * 8, n * 8, K_NONE, P, mem)
    th.state = TAKE
    return issue + 2, done, STEP_OK


@njit(cache=True, _nrt=False, inline="always")
def _spa_add(t, unit, col, v, tab, threads):
    """Functional accumulator (values of the dense accumulator / DRAM overflow list),
    stamped with the work unit so nothing needs clearing between units."""
    if tab.stamp[t, col] != unit + 1:
        tab.stamp[t, col] = unit + 1
        tab.spa[t, col] = v
        th = threads[t]
        tab.slist[t, th.acc_count] = col
        th.acc_count += 1
    else:
        tab.spa[t, col] += v


# =========================================== inner product ==================================
@njit(cache=True)
def inner_step(t, now, P, threads, ops, out, mem, work, tab):
    """Row i of A (held by the thread) against every column j of B (X = B^T in CSR)."""
    core = t // np.int64(P[P_TPC])
    ap, ai, ax, xp, xi, xx = ops.ap, ops.ai, ops.ax, ops.xp, ops.xi, ops.xx
    RB = mem.regions
    st = mem.stats
    th = threads[t]
    M = ap.shape[0] - 1
    N = xp.shape[0] - 1
    if th.state == TAKE:
        row, rdy = next_unit(t, now, M, P, threads, mem, work)
        if row < 0:
            return 1, rdy, STEP_DONE
        th.row = row
        t1 = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, mem)
        j0, j1 = ap[row], ap[row + 1]
        done = max(load(core, t1, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, mem),
                   load(core, t1, RB[R_AX] + j0 * 8, (j1 - j0) * 8, False, K_NONE, P, mem))
        th.j = 0           # next column
        th.acc_count = 0   # entries of the C row so far
        if j1 == j0:
            write_row(row, tab.out_c[t, :0], tab.out_v[t, :0], 0, out, st)
            return 4, done, STEP_OK
        th.state = NEXT_A
        return 4, done, STEP_OK
    # up to ``step_columns`` dot products per engine step, one after the other
    row = th.row
    j0 = th.j
    j1 = min(N, j0 + np.int64(P[P_COLSTEP]))
    done = now
    issue = 0
    a0, a1 = ap[row], ap[row + 1]
    cp = out.cp
    for j in range(j0, j1):
        t1 = load(core, done, RB[R_XP] + j * 8, 16, True, K_NONE, P, mem)
        q0, q1 = xp[j], xp[j + 1]
        issue += 3
        done = t1
        if q1 == q0:
            continue
        t2 = load(core, t1, RB[R_XI] + q0 * 4, (q1 - q0) * 4, True, K_NONE, P, mem)
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
        issue += steps * np.int64(P[P_CMP]) + hits * np.int64(P[P_MUL])
        done = t2 + steps * np.int64(P[P_CMP])
        if hits > 0:
            done = max(done, load(core, t2, RB[R_XX] + q0 * 8, (q1 - q0) * 8, True, K_NONE, P,
                                  mem))
            st[S_PP] += hits
            st[S_FLOPS] += 2 * hits
            n = th.acc_count
            tab.out_c[t, n] = j
            tab.out_v[t, n] = s
            th.acc_count = n + 1
            store(done, RB[R_CI] + (cp[row] + n) * 4, 4, K_NONE, P, mem)
            store(done, RB[R_CX] + (cp[row] + n) * 8, 8, K_NONE, P, mem)
    th.j = j1
    if j1 == N:
        n = th.acc_count
        write_row(row, tab.out_c[t, :n], tab.out_v[t, :n], n, out, st)
        th.state = TAKE
    return issue, done, STEP_OK


# =========================================== outer product ==================================
@njit(cache=True)
def outer_step(t, now, P, threads, ops, out, mem, work, tab):
    """Phase 0: chunk offsets; 1: column k of A times row k of B -> partial products in
    DRAM; 2: per row of C, read its chunks back, sort and merge (OuterSPACE style)."""
    core = t // np.int64(P[P_TPC])
    ap, ai, bp, bi, bx = ops.ap, ops.ai, ops.bp, ops.bi, ops.bx
    xp, xx, xpos, off = ops.xp, ops.xx, ops.xpos, ops.off
    RB = mem.regions
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
        t1 = max(load(core, rdy, RB[R_XP] + k * 8, 16, True, K_NONE, P, mem),
                 load(core, rdy, RB[R_BP] + k * 8, 16, True, K_NONE, P, mem))
        p0, p1 = xp[k], xp[k + 1]
        lb = bp[k + 1] - bp[k]
        if phase == 0:  # per nonzero of column k: offset of its chunk (one add, one store)
            store(t1, RB[R_OFF] + p0 * 8, (p1 - p0) * 8, K_NONE, P, mem)
            return 4 + 2 * (p1 - p0), t1, STEP_OK
        if p1 == p0 or lb == 0:
            return 4, t1, STEP_OK
        # row k of B is streamed once (uncached), column k of A likewise
        t2 = max(load(core, t1, RB[R_BI] + bp[k] * 4, lb * 4, False, K_NONE, P, mem),
                 load(core, t1, RB[R_BX] + bp[k] * 8, lb * 8, False, K_NONE, P, mem))
        th.row = k
        th.j = p0
        th.j_end = p1
        th.state = NEXT_A
        return 6, t2, STEP_OK
    if phase == 1:  # one chunk: A[i,k] * B[k,:] written to the chunk's place in DRAM
        k = th.row
        p = th.j
        t1 = max(load(core, now, RB[R_XI] + p * 4, 4, False, K_NONE, P, mem),
                 load(core, now, RB[R_XX] + p * 8, 8, False, K_NONE, P, mem),
                 load(core, now, RB[R_OFF] + p * 8, 8, False, K_NONE, P, mem))
        a = xx[p]
        q0, q1 = bp[k], bp[k + 1]
        o = off[p]
        for q in range(q0, q1):
            tab.ppc[o + q - q0] = bi[q]
            tab.ppv[o + q - q0] = a * bx[q]
        lb = q1 - q0
        st[S_PP] += lb
        st[S_FLOPS] += lb
        done = t1 + lb * np.int64(P[P_MUL])
        store(done, RB[R_PPI] + o * 4, lb * 4, K_PP, P, mem)
        store(done, RB[R_PPX] + o * 8, lb * 8, K_PP, P, mem)
        th.j = p + 1
        if p + 1 == th.j_end:
            th.state = TAKE
        return 3 + lb * np.int64(P[P_MUL]) + 2, done, STEP_OK
    # phase 2: merge row i
    row, rdy = next_unit(t, now, M, P, threads, mem, work)
    if row < 0:
        return 1, rdy, STEP_DONE
    t1 = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, mem)
    j0, j1 = ap[row], ap[row + 1]
    t2 = load(core, t1, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, mem)
    total = 0
    for j in range(j0, j1):
        k = ai[j]
        total += bp[k + 1] - bp[k]
    cols = np.empty(total, np.int64)
    vals = np.empty(total, np.float64)
    done = t2
    outst = np.int64(P[P_OUTST])
    n = 0
    for j in range(j0, j1):
        k = ai[j]
        lb = bp[k + 1] - bp[k]
        p = xpos[j]
        o = off[p]
        t3 = load(core, t2 + ((j - j0) // outst) * P[P_DLAT], RB[R_OFF] + p * 8, 8, False,
                  K_NONE, P, mem)
        done = max(done, load(core, t3, RB[R_PPI] + o * 4, lb * 4, False, K_PP, P, mem),
                   load(core, t3, RB[R_PPX] + o * 8, lb * 8, False, K_PP, P, mem))
        for x in range(lb):
            cols[n] = tab.ppc[o + x]
            vals[n] = tab.ppv[o + x]
            n += 1
    order = np.argsort(cols, kind="mergesort")
    issue = 6 + 2 * (j1 - j0) + sort_cost(total, P, st) + total * np.int64(P[P_CMP])
    st[S_CMP] += total
    m = 0
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
    store(done, RB[R_CI] + out.cp[row] * 4, m * 4, K_NONE, P, mem)
    store(done, RB[R_CX] + out.cp[row] * 8, m * 8, K_NONE, P, mem)
    return issue, done, STEP_OK


# =========================================== scheduler ======================================
@njit(cache=True)
def simulate_kernel(algo, P, ops, cp, regions, emax, pp_total, work, threads):
    """Run every hardware thread (state.THREAD records ``threads``) to completion; returns
    C, stats and per-thread counters."""
    cores = np.int64(P[P_CORES])
    tpc = np.int64(P[P_TPC])
    mtp = np.int64(P[P_MTP])
    tpp = np.int64(P[P_TPP])
    stp = np.int64(P[P_STP])
    T = cores * tpc
    npipe = cores * (mtp + stp)
    N = np.int64(P[P_N])
    M = ops.ap.shape[0] - 1
    pfirst = np.empty(npipe, np.int64)
    pn = np.empty(npipe, np.int64)
    p = 0
    for c in range(cores):
        for m in range(mtp + stp):
            pfirst[p] = c * tpc + (m * tpp if m < mtp else mtp * tpp + (m - mtp))
            pn[p] = tpp if m < mtp else 1
            p += 1
    nch = np.int64(P[P_DCH])
    nbk = cores * np.int64(P[P_SPAD_BANKS])
    mem = Memory(
        regions, np.full((cores, np.int64(P[P_CSETS])), -1, np.int64),
        Ring(np.zeros((nch, RING_DRAM), np.float64), np.full((nch, RING_DRAM), -1, np.int64)),
        Ring(np.zeros((nbk, RING_BANK), np.float64), np.full((nbk, RING_BANK), -1, np.int64)),
        Ring(np.zeros((1, RING_BANK), np.float64), np.full((1, RING_BANK), -1, np.int64)),
        np.zeros(N_STATS, np.int64))
    nnz_c = cp[M]
    out = Output(cp, np.zeros(nnz_c, np.int64), np.zeros(nnz_c, np.float64),
                 np.full(M, -1, np.int64))
    rowwise = algo == ALGO_ROWWISE
    acc = np.int64(P[P_ACC])
    # functional state (sized only for the algorithm that needs it)
    ew = emax if (rowwise and acc != ACC_DENSE) else 1
    sw = N if rowwise else 1
    tr = T if rowwise else 1
    iw = N if algo == ALGO_INNER else 1
    ti = T if algo == ALGO_INNER else 1
    npp = pp_total if algo == ALGO_OUTER else 1
    tab = Tables(np.full((T if ew > 1 else 1, ew), EMPTY, np.int32),
                 np.zeros((T if ew > 1 else 1, ew), np.float64),
                 np.zeros((tr, sw), np.float64), np.zeros((tr, sw), np.int64),
                 np.zeros((tr, sw), np.int64),
                 np.full(cores, np.int64(P[P_POOL]), np.int64),  # free fragments per core (v3)
                 np.zeros((ti, iw), np.int64), np.zeros((ti, iw), np.float64),
                 np.zeros(npp, np.int64), np.zeros(npp, np.float64))
    shared = work.shared[()]

    ready = np.zeros(T, np.float64)
    debt = np.zeros(T, np.int64)           # issue slots a thread still owes its pipeline
    pend = np.zeros(T, np.float64)         # ... and the ready time / code after them
    pcode = np.zeros(T, np.int64)
    slot_cap = np.int64(P[P_SLOTS])
    alive = np.ones(T, np.bool_)
    waiting = np.zeros(T, np.bool_)
    busy_work = np.zeros(T, np.int64)
    finish = np.zeros(T, np.float64)
    busy = np.zeros(npipe, np.int64)
    pt = np.zeros(npipe, np.float64)
    rr = pfirst.copy()
    n_alive = T
    n_wait = 0
    wait_max = 0.0
    quantum = P[P_QUANTUM]
    iwidth = np.int64(P[P_IW])
    horizon = 0.0
    steps = 0
    while n_alive > 0:
        horizon += quantum
        for p in range(npipe):
            f = pfirst[p]
            n = pn[p]
            while pt[p] < horizon:
                chosen = -1
                minr = INF
                for s in range(n):
                    t = f + (rr[p] - f + s) % n
                    if not alive[t]:
                        continue
                    if ready[t] <= pt[p]:
                        chosen = t
                        break
                    if ready[t] < minr:
                        minr = ready[t]
                if chosen < 0:
                    if minr >= INF:
                        pt[p] = INF
                        break
                    pt[p] = minr  # idle until a thread's data returns
                    continue
                rr[p] = f + (chosen - f + 1) % n
                now = pt[p]
                if debt[chosen] > 0:
                    # the rest of a long instruction sequence: the pipeline passes to the
                    # next thread after ``step_slots`` of it (round-robin interleaving)
                    issue = min(debt[chosen], slot_cap)
                    debt[chosen] -= issue
                    rdy = pend[chosen] if debt[chosen] == 0 else now
                    code = pcode[chosen] if debt[chosen] == 0 else STEP_OK
                else:
                    if rowwise and threads[chosen].state == WRITEBACK:
                        issue, rdy, code = writeback_step(chosen, now, P, threads, out, mem, work,
                                                          tab)
                    elif rowwise:
                        issue, rdy, code = rowwise_step(chosen, now, P, threads, ops, out, mem,
                                                        work, tab)
                    elif algo == ALGO_INNER:
                        issue, rdy, code = inner_step(chosen, now, P, threads, ops, out, mem, work,
                                                      tab)
                    else:
                        issue, rdy, code = outer_step(chosen, now, P, threads, ops, out, mem, work,
                                                      tab)
                    steps += 1
                    busy_work[chosen] += issue
                    if issue > slot_cap:
                        debt[chosen] = issue - slot_cap
                        pend[chosen] = rdy
                        pcode[chosen] = code
                        issue = slot_cap
                        rdy = now
                        code = STEP_OK
                cyc = (issue + iwidth - 1) // iwidth
                busy[p] += cyc
                pt[p] = now + cyc
                ready[chosen] = max(rdy, pt[p])
                if code == STEP_DONE:
                    alive[chosen] = False
                    n_alive -= 1
                    finish[chosen] = ready[chosen]
                elif code == STEP_BARRIER:
                    waiting[chosen] = True
                    ready[chosen] = INF
                    n_wait += 1
                    wait_max = max(wait_max, pt[p])
                if n_wait > 0 and n_wait == n_alive:  # everyone arrived: next phase
                    rel = wait_max + P[P_RATOMIC]
                    for u in range(T):
                        if waiting[u]:
                            waiting[u] = False
                            ready[u] = rel
                    n_wait = 0
                    wait_max = 0.0
                    shared.next_unit = 0
                    shared.phase += 1
                    for q in range(npipe):
                        if pt[q] >= INF:
                            pt[q] = rel
    return out.ci, out.cx, out.cfill, mem.stats, busy_work, finish, busy, steps
