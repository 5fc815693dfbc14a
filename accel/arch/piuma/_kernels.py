"""Numba engine of the PIUMA model: memory system, many-threaded scheduler, algorithms.

The engine is split by what it models; this module is its scheduler and entry point:
  _constants.py     named indices of the parameter / statistics / region vectors, codes
  state.py          named layouts of thread, row and shared state, and the argument groups
  _memory.py        DRAM channels, per-core caches, scratchpad banks (time-bucket bookings)
  _work.py          work distribution (windows, tokens) and the write of a C row
  _rowwise.py       SMASH v1/v2/v3 and dense-accumulator steps
  _inner_outer.py   inner- and outer-product steps
Splitting is safe for Numba's cache because ``accel.arch._numba_cache`` keys each kernel
module on its own source and on every accel module it imports, transitively; so each
module here imports by name what its kernels call or read.  ``reference.py`` is a plain-Python engine of the same
machine, written independently, that equals this one cycle for cycle.

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
from accel.arch.piuma._acclist import acc_room
from accel.arch.piuma._constants import (
    ACC_DENSE,
    ALGO_INNER,
    ALGO_ROWWISE,
    EMPTY,
    INF,
    N_STATS,
    PRODUCTS,
    RING_BANK,
    RING_DRAM,
    STEP_BARRIER,
    STEP_DONE,
    STEP_OK,
    WRITEBACK,
)
from accel.arch.piuma._inner_outer import inner_step, outer_step
from accel.arch.piuma._rowwise import rowwise_step, writeback_step
from accel.arch.piuma.state import Arena, DramPort, Memory, Ring, Tables


# =========================================== scheduler ======================================
@njit(cache=True)
def simulate_kernel(algo, params, ops, out, regions, emax, work, threads):
    """Run every hardware thread (state.THREAD records ``threads``) to completion, writing
    C's kept rows into ``out`` (state.Output); returns stats and per-thread counters.  ``params`` is a 0-d ``state.PARAMS`` record."""
    P = params[()]
    cores = P.cores
    tpc = P.threads_per_core
    mtp = P.mt_pipelines
    tpp = P.threads_per_pipeline
    stp = P.st_pipelines
    T = cores * tpc
    npipe = cores * (mtp + stp)
    M = ops.ap.shape[0] - 1
    pfirst = np.empty(npipe, np.int64)
    pn = np.empty(npipe, np.int64)
    p = 0
    for c in range(cores):
        for m in range(mtp + stp):
            pfirst[p] = c * tpc + (m * tpp if m < mtp else mtp * tpp + (m - mtp))
            pn[p] = tpp if m < mtp else 1
            p += 1
    nch = P.dram_channels
    nbk = cores * P.spad_banks
    stats = np.zeros(N_STATS, np.int64)
    mem = Memory(
        regions, DramPort(np.full((cores, P.cache_sets), -1, np.int64),
                          np.zeros((nch, RING_DRAM), np.float64),
                          np.full((nch, RING_DRAM), -1, np.int64), stats),
        Ring(np.zeros((nbk, RING_BANK), np.float64), np.full((nbk, RING_BANK), -1, np.int64)),
        Ring(np.zeros((1, RING_BANK), np.float64), np.full((1, RING_BANK), -1, np.int64)),
        stats)
    cp = out.cp
    widest = 1   # the longest C row: an inner-product thread's row buffer
    for i in range(M):
        widest = max(widest, cp[i + 1] - cp[i])
    rowwise = algo == ALGO_ROWWISE
    acc = P.accumulator
    # functional state (sized only for the algorithm that needs it)
    ew = emax if (rowwise and acc != ACC_DENSE) else 1
    iw = widest if algo == ALGO_INNER else 1
    ti = T if algo == ALGO_INNER else 1
    tab = Tables(np.full((T if ew > 1 else 1, ew), EMPTY, np.int32),
                 np.zeros((T if ew > 1 else 1, ew), np.float64),
                 np.full(cores, P.pool_fragments, np.int64),  # free fragments per core (v3)
                 np.zeros((ti, iw), np.int64), np.zeros((ti, iw), np.float64))
    arena = Arena(np.empty(0, np.int64), np.empty(0, np.float64))  # accumulator lists (_acclist)
    shared = work.shared[()]

    ready = np.zeros(T, np.float64)
    debt = np.zeros(T, np.int64)           # issue slots a thread still owes its pipeline
    pend = np.zeros(T, np.float64)         # ... and the ready time / code after them
    pcode = np.zeros(T, np.int64)
    slot_cap = P.step_slots
    slot_pps = P.step_pps
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
    quantum = P.sync_quantum
    iwidth = P.issue_width
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
                                                          tab, arena)
                    elif rowwise:
                        th = threads[chosen]
                        if th.state == PRODUCTS:  # room for the step's products (_acclist)
                            ow = threads[th.owner]
                            if ow.acc_cap - ow.acc_len < slot_pps:  # (a call rebuilds ``arena``)
                                arena = acc_room(th.owner, slot_pps, threads, arena, shared)
                        issue, rdy, code = rowwise_step(chosen, now, P, threads, ops, mem,
                                                        work, tab, arena)
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
                    rel = wait_max + P.remote_atomic_latency
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
    return mem.stats, busy_work, finish, busy, steps
