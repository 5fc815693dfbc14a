"""Numba engine of the PIUMA model: memory system, many-threaded scheduler, algorithms.

Everything numba-compiled lives in this one module on purpose: Numba's on-disk cache
(``cache=True``) is keyed on the file of the *calling* function, so splitting the
scheduler from the algorithm steps it calls would let a stale cache survive an edit.

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
def dram(now, addr, nbytes, is_write, kind, P, dres, st):
    """Serve one contiguous request of 8-byte words; returns its completion time."""
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
        fin = reserve(dres[0], dres[1], ch, now, (wend - w) * cpw, DRAM_BUCKET)
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
def load(core, now, addr, nbytes, cached, kind, P, tags, dres, st):
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
            done = max(done, dram(now + r * rtt, a, nb, False, kind, P, dres, st))
        return done
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
            done = max(done, dram(t0, ln * line, line, False, kind, P, dres, st))
            misses += 1
            st[S_MISS] += 1
    return done


@njit(cache=True, _nrt=False)
def store(now, addr, nbytes, kind, P, dres, st):
    """Posted store of the 8-byte words touched (write-through, no allocate)."""
    if nbytes > 0:
        dram(now, addr, nbytes, True, kind, P, dres, st)


@njit(cache=True, _nrt=False, inline="always")
def spad(core, word, now, occupancy, P, bres, st):
    """One scratchpad access at the bank of ``word``; conflicting accesses serialise."""
    nb = np.int64(P[P_SPAD_BANKS])
    fin = reserve(bres[0], bres[1], core * nb + word % nb, now, occupancy, BANK_BUCKET)
    st[S_BANKWAIT] += np.int64(fin - now - occupancy)
    return fin - occupancy + P[P_SPAD_LAT]


# =========================================== work distribution ==============================
@njit(cache=True, _nrt=False)
def next_unit(t, now, n_units, P, ts, G, gf, st):
    """Next work unit (row / column) of thread t, or -1.  Returns (unit, ready time).

    Static: windows of ``window_rows`` units dealt round-robin (SMASH v1).  Tokens: a
    thread that runs dry fetch-adds ``token_rows`` units from a global counter held in
    core 0's scratchpad (remote atomic, serialised at that bank) (SMASH v2)."""
    if ts[t, 6] < ts[t, 7]:
        u = ts[t, 6]
        ts[t, 6] += 1
        return u, now
    T = ts.shape[0]
    if np.int64(P[P_DIST]) == DIST_STATIC:
        w = ts[t, 8]
        start = w * np.int64(P[P_WIN])
        if start >= n_units:
            return -1, now
        ts[t, 8] = w + T
        ts[t, 6] = start + 1
        ts[t, 7] = min(start + np.int64(P[P_WIN]), n_units)
        return start, now
    fin = reserve(gf[0], gf[1], 0, now, P[P_ATOMIC], BANK_BUCKET)
    ready = fin - P[P_ATOMIC] + P[P_RATOMIC]
    st[S_TOKENS] += 1
    start = G[0]
    if start >= n_units:
        return -1, ready
    G[0] = start + np.int64(P[P_TOK])
    ts[t, 6] = start + 1
    ts[t, 7] = min(start + np.int64(P[P_TOK]), n_units)
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
def write_row(row, cols, vals, n, cp, ci, cx, cfill, st):
    """Store the finished row into C; a count that disagrees with the symbolic pass is flagged."""
    cap = cp[row + 1] - cp[row]
    if n != cap:
        st[S_BADROW] += 1
    m = min(n, cap)
    for x in range(m):
        ci[cp[row] + x] = cols[x]
        cx[cp[row] + x] = vals[x]
    cfill[row] = n


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
# done, spins on that counter and then writes the row back.
# rs[row] = (open tokens, owner thread or -1, tokens, table ready); rt[row] = (time the
# owner's table was ready, time the last helper finished).
RS_OPEN, RS_OWNER, RS_UNITS, RS_READY = 0, 1, 2, 3
# scratchpad words of a core's shared counters (their bank is word % spad_banks): the v3
# fragment-pool counter and the open-token counter of the rows the core's threads own
POOL_WORD, OPEN_TOKENS_WORD = 0, 1
TS_OWNER, TS_COUNTED = 16, 17
N_TS = 18


@njit(cache=True, _nrt=False, inline="always")
def _to_owner(core, owner_core, P):
    """Extra latency of an access to the owner's scratchpad: a mesh round trip if remote."""
    return P[P_RATOMIC] if owner_core != core else 0.0


@njit(cache=True, _nrt=False)
def rowwise_step(t, now, P, ts, tf, ap, ai, ax, bp, bi, bx, cp, ci, cx, cfill,
                 hk, hv, spa, stamp, slist, pool, G, gf, RB, tags, dres, bres, st,
                 u_row, u_j0, u_j1, rs, rt):
    """One step of a row-wise thread (states 0 take a unit, 4 v3 table sizing, 1 next A
    nonzero, 2 products into the table; 3 is ``writeback_step``)."""
    tpc = np.int64(P[P_TPC])
    core = t // tpc
    acc = np.int64(P[P_ACC])
    state = ts[t, 0]
    if state == 0:  # ---- window/token distribution: take the next row or token
        u, rdy = next_unit(t, now, u_row.shape[0], P, ts, G, gf, st)
        if u < 0:
            return 1, rdy, STEP_DONE
        row = u_row[u]
        ts[t, 1] = row
        ts[t, 2] = u_j0[u]
        ts[t, 3] = u_j1[u]
        done = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, tags, dres, st)
        if rs[row, RS_OWNER] >= 0:  # a helper: the owner's table already exists
            ts[t, TS_OWNER] = rs[row, RS_OWNER]
            ts[t, 0] = 1
            return 3, done, STEP_OK
        rs[row, RS_OWNER] = t
        ts[t, TS_OWNER] = t
        ts[t, 15] = u
        ts[t, 12] = 0
        ts[t, 13] = 0
        ts[t, 9] = np.int64(P[P_E])  # v3 replaces this with its fragment table in state 4
        if acc == ACC_FRAG:
            ts[t, 0] = 4
        else:
            rs[row, RS_READY] = 1
            rt[row, 0] = done
            ts[t, 0] = 1
        return 3, done, STEP_OK
    if state == 4:  # ---- v3 owner: size the row's table from its upper bound, take fragments
        row = ts[t, 1]
        j0, j1 = ap[row], ap[row + 1]   # the whole row, also the tokens of its helpers
        t1 = load(core, now, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, tags, dres, st)
        done = t1
        ub = 0
        outst = np.int64(P[P_OUTST])
        for j in range(j0, j1):
            k = ai[j]
            ub += bp[k + 1] - bp[k]
            t0 = t1 + ((j - j0) // outst) * P[P_DLAT]
            done = max(done, load(core, t0, RB[R_BP] + k * 8, 16, True, K_NONE, P, tags, dres, st))
        ub = min(ub, np.int64(P[P_N]))
        frag = np.int64(P[P_FRAG])
        need = (ub + np.int64(frag * P[P_MAXLOAD]) - 1) // max(1, np.int64(frag * P[P_MAXLOAD]))
        nf = 1
        while nf < need and nf < np.int64(P[P_MAXFRAG]):
            nf *= 2
        while nf > pool[core] and nf > 1:
            nf //= 2
        issue = 2 * (j1 - j0) + 4
        if pool[core] < nf:  # pool empty: retry after a DRAM round trip
            st[S_POOLWAIT] += 1
            return issue, done + P[P_DLAT], STEP_OK
        pool[core] -= nf
        st[S_ATOMICS] += 1
        done = max(done, spad(core, POOL_WORD, done, P[P_ATOMIC], P, bres, st))
        ts[t, 9] = nf * frag
        ts[t, 10] = nf
        rs[row, RS_READY] = 1
        rt[row, 0] = done
        ts[t, 0] = 1
        return issue, done, STEP_OK
    if state == 1:  # ---- next nonzero A[i,k]: fetch B row k
        j = ts[t, 2]
        if j == ts[t, 3]:
            ts[t, 0] = 3
            return 1, now, STEP_OK
        k = ai[j]
        t1 = max(load(core, now, RB[R_AI] + j * 4, 4, False, K_NONE, P, tags, dres, st),
                 load(core, now, RB[R_AX] + j * 8, 8, False, K_NONE, P, tags, dres, st))
        t2 = load(core, t1, RB[R_BP] + k * 8, 16, True, K_NONE, P, tags, dres, st)
        q0, q1 = bp[k], bp[k + 1]
        t3 = t2
        if q1 > q0:
            t3 = max(load(core, t2, RB[R_BI] + q0 * 4, (q1 - q0) * 4, True, K_NONE, P, tags,
                          dres, st),
                     load(core, t2, RB[R_BX] + q0 * 8, (q1 - q0) * 8, True, K_NONE, P, tags,
                          dres, st))
            ts[t, 0] = 2
        ts[t, 4] = q0
        ts[t, 5] = q1
        tf[t, 0] = ax[j]
        ts[t, 2] = j + 1
        return 5, t3, STEP_OK
    if state == 2:  # ---- a run of partial products of B row k: multiply, accumulate
        # Up to ``step_pps`` products per engine step, each dependent on the previous one's
        # completion (the thread waits for every atomic's result).  Their issue slots are
        # charged together; other threads of the pipeline issue in the same cycles.
        row = ts[t, 1]
        o = ts[t, TS_OWNER]       # whose table: this thread's, or the row owner's
        if rs[row, RS_READY] == 0:  # the owner is still sizing its table (v3): spin
            return 1, now + P[P_RATOMIC], STEP_OK
        ocore = o // tpc
        far = _to_owner(core, ocore, P)
        N = np.int64(P[P_N])
        q0 = ts[t, 4]
        q1 = min(ts[t, 5], q0 + np.int64(P[P_PPSTEP]))
        a = tf[t, 0]
        mulc = np.int64(P[P_MUL])
        hashc = np.int64(P[P_HASHC])
        tdone = max(now, rt[row, 0]) if o != t else now
        issue = 0
        if acc == ACC_DENSE:
            cached = P[P_DACC] > 0
            for q in range(q0, q1):
                col = np.int64(bi[q])
                # read-modify-write of the owner's dense accumulator (stamp + value) in DRAM
                a_addr = RB[R_ACC] + (o * N + col) * 16
                t1 = load(core, tdone + mulc, a_addr, 16, cached, K_ACC, P, tags, dres, st)
                store(t1, a_addr, 16, K_ACC, P, dres, st)
                _spa_add(o, ts[o, 15], col, a * bx[q], spa, stamp, slist, ts)
                tdone = t1 + 1
                issue += mulc + 3
        else:
            E = ts[o, 9]
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
                    tdone = spad(ocore, base + h, tdone, atomic, P, bres, st) + far
                    key = hk[o, h]
                    if key == col:
                        hv[o, h] += v
                        break
                    if key == EMPTY:
                        if ts[o, 12] < cap:
                            hk[o, h] = col
                            hv[o, h] = v
                            ts[o, 12] += 1
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
                    store(tdone, RB[R_SPILL] + (o * N + ts[o, 13] % N) * 16, 16, K_PP, P,
                          dres, st)
                    ts[o, 13] += 1
                    _spa_add(o, ts[o, 15], col, v, spa, stamp, slist, ts)
                    issue += 1
        st[S_PP] += q1 - q0
        st[S_FLOPS] += 2 * (q1 - q0)
        ts[t, 4] = q1
        if q1 == ts[t, 5]:
            ts[t, 0] = 1
        return issue, tdone, STEP_OK
    # state 3 (write-back) is writeback_step, which the scheduler calls itself
    return 0, now, STEP_OK


@njit(cache=True)
def writeback_step(t, now, P, ts, cp, ci, cx, cfill, hk, hv, spa, stamp, slist,
                   pool, gf, RB, tags, dres, bres, st, rs, rt):
    """State 3 of a row-wise thread (once per work unit): count the unit done and, for the
    row's owner once every token is in, compact the table into the CSR row of C.  Apart
    from rowwise_step because it allocates (sorts), which needs Numba's reference
    counting; rowwise_step runs without it (``_nrt=False``: no atomic refcount traffic per
    call, measured 2.6x faster) and so may not call this."""
    tpc = np.int64(P[P_TPC])
    core = t // tpc
    acc = np.int64(P[P_ACC])
    row = ts[t, 1]
    o = ts[t, TS_OWNER]
    if rs[row, RS_UNITS] > 1:
        if ts[t, TS_COUNTED] == 0:  # this token is done: decrement the open-token counter
            ts[t, TS_COUNTED] = 1
            rs[row, RS_OPEN] -= 1
            st[S_ATOMICS] += 1
            ocore = o // tpc
            fin = (spad(ocore, OPEN_TOKENS_WORD, now, P[P_ATOMIC], P, bres, st)
                   + _to_owner(core, ocore, P))
            rt[row, 1] = max(rt[row, 1], fin)
            if o != t:  # a helper is free again
                ts[t, TS_COUNTED] = 0
                ts[t, 0] = 0
                return 3, fin, STEP_OK
            now = fin
        if rs[row, RS_OPEN] > 0:  # the owner spins on the counter in its own scratchpad
            return 1, now + P[P_POLL], STEP_OK
        ts[t, TS_COUNTED] = 0
        now = max(now, rt[row, 1])
    N = np.int64(P[P_N])
    issue = 2
    done = now
    gathered = False
    if acc == ACC_DENSE:
        n = ts[t, 14]
        issue += n + (sort_cost(n, P, st) if P[P_SORT] > 0 else 0)
        cached = P[P_DACC] > 0
        for x in range(n):  # reads of the touched accumulator entries
            done = max(done, load(core, now + x, RB[R_ACC] + (t * N + slist[t, x]) * 16 + 8, 8,
                                  cached, K_ACC, P, tags, dres, st))
    else:
        E = ts[t, 9]
        issue += E // np.int64(P[P_SCAN])
        ns = ts[t, 13]
        if ns == 0:
            # nothing spilled: the table holds each column of the row once, so its live
            # slots are the row (host shortcut past the N-wide functional accumulator)
            gathered = True
            n = ts[t, 12]
            cols = np.empty(n, np.int64)
            vals = np.empty(n, np.float64)
            x = 0
            for h in range(E):
                if hk[t, h] != EMPTY:
                    cols[x] = hk[t, h]
                    vals[x] = hv[t, h]
                    hk[t, h] = EMPTY
                    x += 1
            order = np.argsort(cols)
            cols = cols[order]
            vals = vals[order]
        else:
            # scan every slot, move live entries into the spilled/accumulated set, clear it
            for h in range(E):
                if hk[t, h] != EMPTY:
                    _spa_add(t, ts[t, 15], np.int64(hk[t, h]), hv[t, h], spa, stamp, slist, ts)
                    hk[t, h] = EMPTY
        if ns > 0:  # read the spilled partial products back and merge them
            done = load(core, now, RB[R_SPILL] + t * N * 16, min(ns, N) * 16, False, K_PP, P,
                        tags, dres, st)
            issue += ns + sort_cost(ns, P, st)
        if not gathered:
            n = ts[t, 14]
        if P[P_SORT] > 0:   # column order within a C row, if the output must be sorted
            issue += sort_cost(n, P, st)
        if acc == ACC_FRAG:
            pool[core] += ts[t, 10]
            st[S_ATOMICS] += 1
            done = max(done, spad(core, POOL_WORD, now, P[P_ATOMIC], P, bres, st))
    if not gathered:
        n = ts[t, 14]
        cols = np.sort(slist[t, :n])
        vals = np.empty(n, np.float64)
        for x in range(n):
            vals[x] = spa[t, cols[x]]
    ts[t, 14] = 0
    write_row(row, cols, vals, n, cp, ci, cx, cfill, st)
    store(done, RB[R_CI] + cp[row] * 4, n * 4, K_NONE, P, dres, st)
    store(done, RB[R_CX] + cp[row] * 8, n * 8, K_NONE, P, dres, st)
    ts[t, 0] = 0
    return issue + 2, done, STEP_OK


@njit(cache=True, _nrt=False, inline="always")
def _spa_add(t, unit, col, v, spa, stamp, slist, ts):
    """Functional accumulator (values of the dense accumulator / DRAM overflow list),
    stamped with the work unit so nothing needs clearing between units."""
    if stamp[t, col] != unit + 1:
        stamp[t, col] = unit + 1
        spa[t, col] = v
        slist[t, ts[t, 14]] = col
        ts[t, 14] += 1
    else:
        spa[t, col] += v


# =========================================== inner product ==================================
@njit(cache=True)
def inner_step(t, now, P, ts, ap, ai, ax, xp, xi, xx, cp, ci, cx, cfill, out_c, out_v,
               G, gf, RB, tags, dres, st):
    """Row i of A (held by the thread) against every column j of B (X = B^T in CSR)."""
    core = t // np.int64(P[P_TPC])
    M = ap.shape[0] - 1
    N = xp.shape[0] - 1
    if ts[t, 0] == 0:
        row, rdy = next_unit(t, now, M, P, ts, G, gf, st)
        if row < 0:
            return 1, rdy, STEP_DONE
        ts[t, 1] = row
        t1 = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, tags, dres, st)
        j0, j1 = ap[row], ap[row + 1]
        done = max(load(core, t1, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, tags, dres, st),
                   load(core, t1, RB[R_AX] + j0 * 8, (j1 - j0) * 8, False, K_NONE, P, tags, dres, st))
        ts[t, 2] = 0      # next column
        ts[t, 14] = 0     # entries of the C row so far
        if j1 == j0:
            write_row(row, out_c[t, :0], out_v[t, :0], 0, cp, ci, cx, cfill, st)
            return 4, done, STEP_OK
        ts[t, 0] = 1
        return 4, done, STEP_OK
    # up to ``step_columns`` dot products per engine step, one after the other
    row = ts[t, 1]
    j0 = ts[t, 2]
    j1 = min(N, j0 + np.int64(P[P_COLSTEP]))
    done = now
    issue = 0
    a0, a1 = ap[row], ap[row + 1]
    for j in range(j0, j1):
        t1 = load(core, done, RB[R_XP] + j * 8, 16, True, K_NONE, P, tags, dres, st)
        q0, q1 = xp[j], xp[j + 1]
        issue += 3
        done = t1
        if q1 == q0:
            continue
        t2 = load(core, t1, RB[R_XI] + q0 * 4, (q1 - q0) * 4, True, K_NONE, P, tags, dres, st)
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
                                  tags, dres, st))
            st[S_PP] += hits
            st[S_FLOPS] += 2 * hits
            n = ts[t, 14]
            out_c[t, n] = j
            out_v[t, n] = s
            ts[t, 14] = n + 1
            store(done, RB[R_CI] + (cp[row] + n) * 4, 4, K_NONE, P, dres, st)
            store(done, RB[R_CX] + (cp[row] + n) * 8, 8, K_NONE, P, dres, st)
    ts[t, 2] = j1
    if j1 == N:
        n = ts[t, 14]
        write_row(row, out_c[t, :n], out_v[t, :n], n, cp, ci, cx, cfill, st)
        ts[t, 0] = 0
    return issue, done, STEP_OK


# =========================================== outer product ==================================
@njit(cache=True)
def outer_step(t, now, P, ts, ap, ai, bp, bi, bx, xp, xi, xx, xpos, off, cp, ci, cx, cfill,
               ppc, ppv, G, gf, RB, tags, dres, bres, st):
    """Phase 0: chunk offsets; 1: column k of A times row k of B -> partial products in
    DRAM; 2: per row of C, read its chunks back, sort and merge (OuterSPACE style)."""
    core = t // np.int64(P[P_TPC])
    phase = G[1]
    if ts[t, 11] != phase:  # a new phase: fresh work distribution
        ts[t, 11] = phase
        ts[t, 0] = 0
        ts[t, 6] = 0
        ts[t, 7] = 0
        ts[t, 8] = t
    K = xp.shape[0] - 1
    M = ap.shape[0] - 1
    if phase == 0 or (phase == 1 and ts[t, 0] == 0):
        k, rdy = next_unit(t, now, K, P, ts, G, gf, st)
        if k < 0:
            return 1, rdy, (STEP_DONE if phase == 2 else STEP_BARRIER)
        t1 = max(load(core, rdy, RB[R_XP] + k * 8, 16, True, K_NONE, P, tags, dres, st),
                 load(core, rdy, RB[R_BP] + k * 8, 16, True, K_NONE, P, tags, dres, st))
        p0, p1 = xp[k], xp[k + 1]
        lb = bp[k + 1] - bp[k]
        if phase == 0:  # per nonzero of column k: offset of its chunk (one add, one store)
            store(t1, RB[R_OFF] + p0 * 8, (p1 - p0) * 8, K_NONE, P, dres, st)
            return 4 + 2 * (p1 - p0), t1, STEP_OK
        if p1 == p0 or lb == 0:
            return 4, t1, STEP_OK
        # row k of B is streamed once (uncached), column k of A likewise
        t2 = max(load(core, t1, RB[R_BI] + bp[k] * 4, lb * 4, False, K_NONE, P, tags, dres, st),
                 load(core, t1, RB[R_BX] + bp[k] * 8, lb * 8, False, K_NONE, P, tags, dres, st))
        ts[t, 1] = k
        ts[t, 2] = p0
        ts[t, 3] = p1
        ts[t, 0] = 1
        return 6, t2, STEP_OK
    if phase == 1:  # one chunk: A[i,k] * B[k,:] written to the chunk's place in DRAM
        k = ts[t, 1]
        p = ts[t, 2]
        t1 = max(load(core, now, RB[R_XI] + p * 4, 4, False, K_NONE, P, tags, dres, st),
                 load(core, now, RB[R_XX] + p * 8, 8, False, K_NONE, P, tags, dres, st),
                 load(core, now, RB[R_OFF] + p * 8, 8, False, K_NONE, P, tags, dres, st))
        a = xx[p]
        q0, q1 = bp[k], bp[k + 1]
        o = off[p]
        for q in range(q0, q1):
            ppc[o + q - q0] = bi[q]
            ppv[o + q - q0] = a * bx[q]
        lb = q1 - q0
        st[S_PP] += lb
        st[S_FLOPS] += lb
        done = t1 + lb * np.int64(P[P_MUL])
        store(done, RB[R_PPI] + o * 4, lb * 4, K_PP, P, dres, st)
        store(done, RB[R_PPX] + o * 8, lb * 8, K_PP, P, dres, st)
        ts[t, 2] = p + 1
        if p + 1 == ts[t, 3]:
            ts[t, 0] = 0
        return 3 + lb * np.int64(P[P_MUL]) + 2, done, STEP_OK
    # phase 2: merge row i
    row, rdy = next_unit(t, now, M, P, ts, G, gf, st)
    if row < 0:
        return 1, rdy, STEP_DONE
    t1 = load(core, rdy, RB[R_AP] + row * 8, 16, False, K_NONE, P, tags, dres, st)
    j0, j1 = ap[row], ap[row + 1]
    t2 = load(core, t1, RB[R_AI] + j0 * 4, (j1 - j0) * 4, False, K_NONE, P, tags, dres, st)
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
                  K_NONE, P, tags, dres, st)
        done = max(done, load(core, t3, RB[R_PPI] + o * 4, lb * 4, False, K_PP, P, tags, dres, st),
                   load(core, t3, RB[R_PPX] + o * 8, lb * 8, False, K_PP, P, tags, dres, st))
        for x in range(lb):
            cols[n] = ppc[o + x]
            vals[n] = ppv[o + x]
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
    write_row(row, oc, ov, m, cp, ci, cx, cfill, st)
    done = done + issue
    store(done, RB[R_CI] + cp[row] * 4, m * 4, K_NONE, P, dres, st)
    store(done, RB[R_CX] + cp[row] * 8, m * 8, K_NONE, P, dres, st)
    return issue, done, STEP_OK


# =========================================== scheduler ======================================
@njit(cache=True)
def simulate_kernel(algo, P, ap, ai, ax, bp, bi, bx, xp, xi, xx, xpos, off, cp, RB, emax,
                    pp_total, u_row, u_j0, u_j1, rs):
    """Run every hardware thread to completion; returns C, stats and per-thread counters."""
    cores = np.int64(P[P_CORES])
    tpc = np.int64(P[P_TPC])
    mtp = np.int64(P[P_MTP])
    tpp = np.int64(P[P_TPP])
    stp = np.int64(P[P_STP])
    T = cores * tpc
    npipe = cores * (mtp + stp)
    N = np.int64(P[P_N])
    M = ap.shape[0] - 1
    pfirst = np.empty(npipe, np.int64)
    pn = np.empty(npipe, np.int64)
    p = 0
    for c in range(cores):
        for m in range(mtp + stp):
            pfirst[p] = c * tpc + (m * tpp if m < mtp else mtp * tpp + (m - mtp))
            pn[p] = tpp if m < mtp else 1
            p += 1
    ts = np.zeros((T, N_TS), np.int64)
    for t in range(T):
        ts[t, 8] = t
        ts[t, 11] = 0
    tf = np.zeros((T, 2), np.float64)
    G = np.zeros(4, np.int64)
    gf = (np.zeros((1, RING_BANK), np.float64), np.full((1, RING_BANK), -1, np.int64))
    st = np.zeros(N_STATS, np.int64)
    tags = np.full((cores, np.int64(P[P_CSETS])), -1, np.int64)
    nch = np.int64(P[P_DCH])
    dres = (np.zeros((nch, RING_DRAM), np.float64), np.full((nch, RING_DRAM), -1, np.int64))
    nbk = cores * np.int64(P[P_SPAD_BANKS])
    bres = (np.zeros((nbk, RING_BANK), np.float64), np.full((nbk, RING_BANK), -1, np.int64))
    nnz_c = cp[M]
    ci = np.zeros(nnz_c, np.int64)
    cx = np.zeros(nnz_c, np.float64)
    cfill = np.full(M, -1, np.int64)
    rowwise = algo == ALGO_ROWWISE
    acc = np.int64(P[P_ACC])
    # functional state (sized only for the algorithm that needs it)
    ew = emax if (rowwise and acc != ACC_DENSE) else 1
    hk = np.full((T if ew > 1 else 1, ew), EMPTY, np.int32)
    hv = np.zeros((T if ew > 1 else 1, ew), np.float64)
    sw = N if rowwise else 1
    spa = np.zeros((T if rowwise else 1, sw), np.float64)
    stamp = np.zeros((T if rowwise else 1, sw), np.int64)
    slist = np.zeros((T if rowwise else 1, sw), np.int64)
    pool = np.full(cores, np.int64(P[P_POOL]), np.int64)  # free fragments per core (v3)
    iw = N if algo == ALGO_INNER else 1
    out_c = np.zeros((T if algo == ALGO_INNER else 1, iw), np.int64)
    out_v = np.zeros((T if algo == ALGO_INNER else 1, iw), np.float64)
    rt = np.zeros((M, 2), np.float64)                # per row: table ready, last token done
    ppc = np.zeros(pp_total if algo == ALGO_OUTER else 1, np.int64)
    ppv = np.zeros(pp_total if algo == ALGO_OUTER else 1, np.float64)

    ready = np.zeros(T, np.float64)
    debt = np.zeros(T, np.int64)           # issue slots a thread still owes its pipeline
    pend = np.zeros(T, np.float64)         # ... and the ready time / code after them
    pcode = np.zeros(T, np.int64)
    slot_cap = np.int64(P[P_SLOTS])
    alive = np.ones(T, np.bool_)
    waiting = np.zeros(T, np.bool_)
    work = np.zeros(T, np.int64)
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
                    if rowwise and ts[chosen, 0] == 3:
                        issue, rdy, code = writeback_step(chosen, now, P, ts, cp, ci, cx, cfill, hk,
                                                          hv, spa, stamp, slist, pool, gf, RB, tags,
                                                          dres, bres, st, rs, rt)
                    elif rowwise:
                        issue, rdy, code = rowwise_step(chosen, now, P, ts, tf, ap, ai, ax, bp, bi,
                                                        bx, cp, ci, cx, cfill, hk, hv, spa, stamp,
                                                        slist, pool, G, gf, RB, tags, dres, bres,
                                                        st, u_row, u_j0, u_j1, rs, rt)
                    elif algo == ALGO_INNER:
                        issue, rdy, code = inner_step(chosen, now, P, ts, ap, ai, ax, xp, xi, xx, cp,
                                                      ci, cx, cfill, out_c, out_v, G, gf, RB, tags,
                                                      dres, st)
                    else:
                        issue, rdy, code = outer_step(chosen, now, P, ts, ap, ai, bp, bi, bx, xp, xi,
                                                      xx, xpos, off, cp, ci, cx, cfill, ppc, ppv, G,
                                                      gf, RB, tags, dres, bres, st)
                    steps += 1
                    work[chosen] += issue
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
                    G[0] = 0
                    G[1] += 1
                    for q in range(npipe):
                        if pt[q] >= INF:
                            pt[q] = rel
    return ci, cx, cfill, st, work, finish, busy, steps
