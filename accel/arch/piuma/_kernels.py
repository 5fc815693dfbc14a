"""Numba engine of the PIUMA model: memory system, many-threaded scheduler, algorithms.

The engine is split by what it models; this module is its scheduler and entry point:
  _constants.py     named indices of the parameter / statistics / region vectors, codes
  state.py          named layouts of thread, row and shared state, and the argument groups
  _memory.py        DRAM channels, per-core caches, scratchpad banks (time-bucket bookings)
  _work.py          work distribution (windows, tokens) and the write of a C row
  _rowwise.py       SMASH v1/v2/v3 and dense-accumulator steps
  _rowplan.py       a row's hash-table work planned on the host, for rows only their owner fills
  _planahead.py     ... planned ahead on a second host thread, handed over between scheduler calls
  _inner_outer.py   inner- and outer-product steps
There is one scheduler per algorithm family (``run_rowwise``, ``run_inner``, ``run_outer``:
the same short loop, written out three times around its family's step call), so a run
compiles only the steps it runs: one scheduler calling every step made every run compile
all of them on a cold cache (~15 s).  The loop's parts (``_pick``, ``_resume``, ``_begin``,
``_advance``) are helpers without reference counting, shared by the three.  The row-wise
loop itself runs without reference counting (``_rowwise_loop``, with the steps that do not
allocate and the loop's parts inlined) and returns to ``run_rowwise`` for the ones that do.
Every array the engine uses is allocated on the host (``simulate_kernel`` is plain Python),
which spares each scheduler compiling NumPy's allocation functions.  Kernels only other kernels call are compiled
without a Python entry point (``_constants.INTERNAL``).
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
from accel.arch.piuma._acclist import acc_grow, acc_room
from accel.arch.piuma._constants import (
    ACC_DENSE,
    ACC_FRAG,
    ALGO_INNER,
    ALGO_ROWWISE,
    EMPTY,
    INF,
    INTERNAL,
    N_STATS,
    NEXT_A,
    PRODUCTS,
    RING_BANK,
    RING_DRAM,
    S_PP,
    STEP_BARRIER,
    STEP_DONE,
    STEP_OK,
    WRITEBACK,
)
from accel.arch.piuma._inner_outer import inner_step, outer_step
from accel.arch.piuma._planahead import (
    AHEAD_OFF,
    AHEAD_STEPS,
    AHEAD_THREAD,
    PlanAhead,
    empty_stage,
    take_plan,
    worth_planning_ahead,
)
from accel.arch.piuma._rowplan import (
    PLAN_NOT,
    PLAN_UNDECIDED,
    plan_row,
    plan_scratch,
    record_words,
)
from accel.arch.piuma._rowwise import (
    fast_writeback,
    rowwise_step,
    writeback_fast,
    writeback_step,
)
from accel.arch.piuma.host_malloc import host_cores
from accel.arch.piuma.state import COUNTS, Arena, DramPort, Memory, Ring, Sched, Tables

# =========================================== host side =====================================
# Engine steps per scheduler call when progress is reported: ~0.5-1 s of simulation here
# (100-190 K steps/s from rmat:14 to rmat:12), so a bar moves smoothly, while entering a
# call (unboxing the state) stays invisible: rmat:14 (851 K steps) ran as fast in 9 calls
# as in one.  Without a progress callback one call runs it all: the host holds the arena it
# passes across a call, so one replaced during the call is freed only after it (~15 % more
# peak memory when reporting).
STEPS_PER_CALL = 100_000
ALL_STEPS = np.iinfo(np.int64).max // 2


def simulate_kernel(algo, params, ops, out, regions, emax, work, threads, on_progress=None,
                    plan_ahead=None, steps_per_call=None):
    """Run every hardware thread (state.THREAD records ``threads``) to completion, writing
    C's kept rows into ``out`` (state.Output); returns stats, per-thread issue slots and
    finish times, per-pipeline busy cycles and the engine steps.  ``params`` is a 0-d
    ``state.PARAMS`` record.  Plain Python: allocates the engine's state, then runs the
    scheduler of ``algo``'s family.  ``on_progress(products)``, if given, is called with
    the partial products done so far every ``steps_per_call`` engine steps (the scheduler
    stops and resumes between lock-step windows: the same run, cycle for cycle; default
    STEPS_PER_CALL, or ``_planahead.AHEAD_STEPS`` when rows are planned ahead).
    ``plan_ahead`` (``_planahead.AHEAD_*``; None: a second thread where
    ``worth_planning_ahead`` and the host has a second core) plans rows on another thread
    between those calls: the same run again."""
    rec = params[()]   # a NumPy record here: fields by name
    cores = int(rec["cores"])
    tpc = int(rec["threads_per_core"])
    mtp = int(rec["mt_pipelines"])
    tpp = int(rec["threads_per_pipeline"])
    stp = int(rec["st_pipelines"])
    T = cores * tpc
    M = ops.ap.shape[0] - 1
    # pipelines of a core: mtp multi-threaded ones of tpp threads, then stp single-threaded
    firsts = [c * tpc + (m * tpp if m < mtp else mtp * tpp + (m - mtp))
              for c in range(cores) for m in range(mtp + stp)]
    sizes = [tpp if m < mtp else 1 for c in range(cores) for m in range(mtp + stp)]
    pfirst = np.array(firsts, np.int64)
    npipe = pfirst.size
    counts = np.zeros((), COUNTS)
    counts["n_alive"] = T
    counts["resume_p"] = counts["resume_t"] = -1
    sch = Sched(pfirst, np.array(sizes, np.int64), pfirst.copy(), np.zeros(npipe, np.float64),
                np.zeros(npipe, np.int64), np.zeros(T, np.float64), np.zeros(T, np.int64),
                np.zeros(T, np.float64), np.zeros(T, np.int64), np.ones(T, np.bool_),
                np.zeros(T, np.bool_), np.zeros(T, np.int64), np.zeros(T, np.float64), counts)
    nch = int(rec["dram_channels"])
    nbk = cores * int(rec["spad_banks"])
    stats = np.zeros(N_STATS, np.int64)
    mem = Memory(
        regions, DramPort(np.full((cores, int(rec["cache_sets"])), -1, np.int64),
                          np.zeros((RING_DRAM, nch), np.float64),
                          np.full((RING_DRAM, nch), -1, np.int64), stats),
        # bucket-major, packed (_memory.reserve_bank): core c's banks at rows c*RING_BANK ...
        np.full((cores * RING_BANK, nbk // cores), -1, np.int64),
        Ring(np.zeros((RING_BANK, 1), np.float64), np.full((RING_BANK, 1), -1, np.int64)),
        stats)
    rowwise = algo == ALGO_ROWWISE
    # functional state (sized only for the algorithm that needs it): hash slots in rows of
    # one fragment (state.Tables).  v3: each core's pool of fragments, dealt to row owners
    # (``free`` lists core c's as rows c*pool .. (c+1)*pool-1); v1/v2: one fixed table per
    # thread, thread t's in row t
    acc = rec["accumulator"]
    pool = int(rec["pool_fragments"])
    planned = int(rec["plan_max"]) > 0
    if rowwise and acc == ACC_FRAG:
        nrows, fsz, fper = cores * pool, int(rec["fragment_entries"]), int(rec["max_fragments"])
        free = np.arange(cores * pool, dtype=np.int64).reshape(cores, pool)
        frag = np.zeros((T, fper), np.int64)
    elif rowwise and acc != ACC_DENSE:
        # planned rows (_rowplan) share one more table, the last: the host plans a row at once
        nrows, fsz = T + int(planned), emax
        free = np.zeros((1, 1), np.int64)
        frag = np.arange(nrows, dtype=np.int64).reshape(nrows, 1)
    else:
        nrows, fsz = 1, 1
        free = np.zeros((1, 1), np.int64)
        frag = np.zeros((1, 1), np.int64)
    # an inner-product thread's row buffer holds the longest C row
    iw = max(1, int(np.diff(out.cp).max())) if (algo == ALGO_INNER and M > 0) else 1
    ti = T if algo == ALGO_INNER else 1
    out_c = np.full((ti, iw), -1, np.int64)
    out_v = np.zeros((ti, iw), np.float64)
    seen = np.zeros(1, np.uint16)
    if rowwise and planned:   # the in-line plan's dense accumulator, probe counts, tags
        out_v, out_c, seen = plan_scratch(int(rec["n_cols"]), emax)
    tab = Tables(np.full((nrows, fsz), EMPTY, np.int32), np.zeros((nrows, fsz), np.float64),
                 np.zeros((nrows, fsz), np.int32),   # filled slots, in insert order
                 frag, np.full(cores, pool, np.int64), free,   # free fragments per core (v3)
                 out_c, out_v, seen)
    arena = Arena(np.empty(0, np.int64), np.empty(0, np.float64))  # accumulator lists (_acclist)
    if plan_ahead is None:   # a second host core plans rows ahead on a long planned run
        plan_ahead = (AHEAD_THREAD if rowwise and planned and host_cores() > 1
                      and worth_planning_ahead(work.rows["pp"]) else AHEAD_OFF)
    ahead = PlanAhead(params, ops, out, work, threads, plan_ahead) \
        if rowwise and planned and plan_ahead != AHEAD_OFF else None
    stage = ahead.stage if ahead is not None else empty_stage(M if rowwise and planned else 0)
    batched = on_progress is not None or ahead is not None
    if steps_per_call is None:
        steps_per_call = AHEAD_STEPS if ahead is not None else STEPS_PER_CALL
    budget = np.int64(steps_per_call if batched else ALL_STEPS)
    try:
        if ahead is not None:
            ahead.barrier()
        while counts["n_alive"] > 0:
            if rowwise:
                if run_rowwise(params, threads, ops, out, mem, work, tab, arena, sch, stage,
                               budget):
                    # stopped to grow the arena for the picked thread's row owner (_acclist)
                    o = int(threads[int(counts["resume_t"])]["owner"])
                    arena = acc_grow(o, int(counts["room_need"]), threads, arena, work.shared)
                    continue
            elif algo == ALGO_INNER:
                run_inner(params, threads, ops, out, mem, work, tab, sch, budget)
            else:
                run_outer(params, threads, ops, out, mem, work, tab, sch, budget)
            pp_now = int(stats[S_PP])
            if on_progress is not None:
                on_progress(pp_now)
            if ahead is not None and counts["n_alive"] > 0:
                ahead.barrier()
    finally:
        if ahead is not None:
            ahead.close()
    return stats, sch.busy_work, sch.finish, sch.busy, int(counts["steps"])


def _into_nrt_free_loop(expr, caller, callee):
    """Numba-IR inlining of a loop part only into ``_rowwise_loop``, which runs without
    reference counting: inlined into the schedulers that count references (``run_inner``,
    ``run_outer``, ``run_rowwise``) every read of a ``sch`` member would cost a refcount
    pair (inner 1.2x, outer 1.3x slower, rmat:12), so there it stays a call."""
    return caller.func_id.func_name == "_rowwise_loop"


# =========================================== scheduler ======================================
# Engine (the module docstring): each pipeline issues round-robin from its ready threads, in
# lax lock-step windows of ``sync_quantum`` cycles.  A scheduler's loop, per window and
# pipeline:  t = _pick(...)  ->  a fresh step of t (its family's step function, then
# _begin) or the rest of t's long one (_resume)  ->  _advance (pipeline time, thread state,
# the phase barrier).
@njit(cache=True, _nrt=False, inline=_into_nrt_free_loop, **INTERNAL)
def _pick(p, horizon, sch):
    """The thread pipeline p issues next, round-robin from its ready threads, or -1 when
    the pipeline reaches ``horizon`` first (``pt[p]`` then holds the time it idles to, INF
    when none of its threads is alive)."""
    pt, ready, alive, rr = sch.pt, sch.ready, sch.alive, sch.rr
    f = sch.pfirst[p]
    n = sch.pn[p]
    while pt[p] < horizon:
        chosen = -1
        minr = INF
        i = rr[p] - f   # in [0, n): the scan wraps once (a compare, not a division per thread)
        for _ in range(n):
            t = f + i
            i += 1
            if i == n:
                i = 0
            if not alive[t]:
                continue
            if ready[t] <= pt[p]:
                chosen = t
                break
            if ready[t] < minr:
                minr = ready[t]
        if chosen >= 0:
            rr[p] = chosen + 1 if chosen + 1 < f + n else f
            return chosen
        if minr >= INF:
            pt[p] = INF
            return -1
        pt[p] = minr  # idle until a thread's data returns
    return -1


@njit(cache=True, _nrt=False, inline=_into_nrt_free_loop, **INTERNAL)
def _resume(t, now, P, sch):
    """The rest of thread t's long instruction sequence: the pipeline passes to the next
    thread after ``step_slots`` of it (round-robin interleaving)."""
    debt = sch.debt
    issue = min(debt[t], P.step_slots)
    debt[t] -= issue
    rdy = sch.pend[t] if debt[t] == 0 else now
    code = sch.pcode[t] if debt[t] == 0 else STEP_OK
    return issue, rdy, code


@njit(cache=True, _nrt=False, inline=_into_nrt_free_loop, **INTERNAL)
def _begin(t, now, issue, rdy, code, P, sch):
    """Book a fresh step of thread t; a step of more than ``step_slots`` issue slots issues
    that many now and owes the rest (``_resume``)."""
    sch.counts[()].steps += 1
    sch.busy_work[t] += issue
    slot_cap = P.step_slots
    if issue > slot_cap:
        sch.debt[t] = issue - slot_cap
        sch.pend[t] = rdy
        sch.pcode[t] = code
        return slot_cap, now, STEP_OK
    return issue, rdy, code


@njit(cache=True, _nrt=False, inline=_into_nrt_free_loop, **INTERNAL)
def _advance(p, t, now, issue, rdy, code, P, sch, shared):
    """Pipeline p issued ``issue`` slots of thread t at ``now``: advance the pipeline, set
    when t is ready again, retire t or park it at the phase barrier, and open the next
    phase when every live thread has arrived."""
    pt, ready = sch.pt, sch.ready
    c = sch.counts[()]
    iwidth = P.issue_width
    cyc = (issue + iwidth - 1) // iwidth
    sch.busy[p] += cyc
    pt[p] = now + cyc
    ready[t] = max(rdy, pt[p])
    if code == STEP_DONE:
        sch.alive[t] = False
        c.n_alive -= 1
        sch.finish[t] = ready[t]
    elif code == STEP_BARRIER:
        sch.waiting[t] = True
        ready[t] = INF
        c.n_wait += 1
        c.wait_max = max(c.wait_max, pt[p])
    if c.n_wait > 0 and c.n_wait == c.n_alive:  # everyone arrived: next phase
        rel = c.wait_max + P.remote_atomic_latency
        waiting = sch.waiting
        for u in range(ready.shape[0]):
            if waiting[u]:
                waiting[u] = False
                ready[u] = rel
        c.n_wait = 0
        c.wait_max = 0.0
        shared.next_unit = 0
        shared.phase += 1
        for q in range(pt.shape[0]):
            if pt[q] >= INF:
                pt[q] = rel


# What ``_rowwise_loop`` stopped for (besides the end of its budget or of the run): thread
# ``counts.resume_t`` on pipeline ``counts.resume_p`` needs a write-back step, or room in
# its row owner's accumulator list; both allocate, which only ``run_rowwise`` may.
LOOP_END, LOOP_WRITEBACK, LOOP_ROOM = 0, 1, 2


@njit(cache=True, _nrt=False, **INTERNAL)
def _rowwise_loop(params, threads, ops, out, mem, work, tab, arena, sch, stage, stop):
    """``run_rowwise``'s loop over every step that does not allocate, without reference
    counting, with ``rowwise_step``, ``writeback_fast`` and the loop's parts inlined.
    Calling the step took ~280 words of arguments a step (every array of its argument
    groups, by value): on a graph of many short rows (a road network: 17 M steps) those
    pushes were 69 % of the scheduler's time.  Returns LOOP_END, or why it stopped
    (LOOP_WRITEBACK, LOOP_ROOM) with the pipeline, the thread and the window end kept in
    ``counts``: the next call resumes there, so a run in any number of calls is the same
    run."""
    P = params[()]
    shared = work.shared[()]
    c = sch.counts[()]
    pt, debt = sch.pt, sch.debt
    slot_pps = P.step_pps
    horizon = c.horizon
    p0 = c.resume_p
    c.resume_p = -1
    while c.n_alive > 0 and (c.steps < stop or p0 >= 0):
        if p0 < 0:   # a new window
            horizon += P.sync_quantum
            p0 = 0
        for p in range(p0, pt.shape[0]):
            while True:
                if c.resume_t >= 0:
                    t = c.resume_t
                    c.resume_t = -1
                else:
                    t = _pick(p, horizon, sch)
                if t < 0:
                    break
                now = pt[p]
                if debt[t] > 0:
                    issue, rdy, code = _resume(t, now, P, sch)
                else:
                    th = threads[t]
                    stopped = LOOP_END
                    if th.state == WRITEBACK:
                        if not fast_writeback(t, P, threads, out, work):
                            stopped = LOOP_WRITEBACK
                    elif th.state == NEXT_A and th.plan_pos == PLAN_UNDECIDED and P.plan_max > 0:
                        # a row to plan (_rowplan): planned ahead (_planahead) or here; a
                        # long one only within the budget of records
                        pr = work.rows[th.row].plan_rec
                        s = stage.loc[th.row]
                        big = pr > P.plan_max
                        if big and shared.plan_live + pr > P.plan_budget:
                            th.plan_pos = PLAN_NOT
                        elif th.acc_cap - th.acc_len < record_words(pr):
                            c.room_need = record_words(pr)
                            stopped = LOOP_ROOM
                        else:
                            if s >= 0:
                                take_plan(t, s, threads, out, stage, arena.acc_c, mem.stats)
                            else:
                                plan_row(t, P, threads, ops, out, tab, arena.acc_c, mem.stats)
                            if big:
                                shared.plan_live += pr
                    elif th.state == PRODUCTS and th.plan_pos < 0:  # room for the step's products (_acclist)
                        ow = threads[th.owner]
                        if ow.acc_cap - ow.acc_len < slot_pps:
                            c.room_need = slot_pps
                            stopped = LOOP_ROOM
                    if stopped != LOOP_END:
                        c.resume_p = p
                        c.resume_t = t
                        c.horizon = horizon
                        return stopped
                    if th.state == WRITEBACK:
                        issue, rdy, code = writeback_fast(t, now, P, threads, out, mem, work, tab,
                                                          arena)
                    else:
                        issue, rdy, code = rowwise_step(t, now, P, threads, ops, mem, work, tab,
                                                        arena)
                    issue, rdy, code = _begin(t, now, issue, rdy, code, P, sch)
                _advance(p, t, now, issue, rdy, code, P, sch, shared)
        p0 = -1
    c.horizon = horizon
    return LOOP_END


@njit(cache=True, nogil=True)
def run_rowwise(params, threads, ops, out, mem, work, tab, arena, sch, stage, budget):
    """The scheduler of the row-wise engines (SMASH v1/v2/v3, dense accumulator).  Runs
    whole lock-step windows until every thread is done or ``budget`` more engine steps have
    been taken; a later call resumes where it stopped (the window end is kept in
    ``counts.horizon``), so a run in any number of calls is the same run.  The steps that
    allocate run here, between calls of ``_rowwise_loop``, which takes the others.  Returns
    True when it stopped inside a window because a row owner's accumulator list needs a
    bigger arena (``_acclist.acc_grow``, run by the host): the next call resumes at that
    pipeline, with the thread it had picked (``counts.resume_p``/``resume_t``)."""
    P = params[()]
    shared = work.shared[()]
    c = sch.counts[()]
    stop = c.steps + budget
    while True:
        why = _rowwise_loop(params, threads, ops, out, mem, work, tab, arena, sch, stage, stop)
        if why == LOOP_END:
            return False
        p, t = c.resume_p, c.resume_t
        if why == LOOP_ROOM:
            if not acc_room(threads[t].owner, c.room_need, threads, arena, shared):
                return True     # resume_p / resume_t stay: the host grows the arena
            continue            # the loop resumes with thread t, whose list now has room
        now = sch.pt[p]
        issue, rdy, code = writeback_step(t, now, P, threads, out, mem, work, tab, arena)
        issue, rdy, code = _begin(t, now, issue, rdy, code, P, sch)
        _advance(p, t, now, issue, rdy, code, P, sch, shared)
        c.resume_t = -1         # pipeline p goes on with its next pick


@njit(cache=True)
def run_inner(params, threads, ops, out, mem, work, tab, sch, budget):
    """The scheduler of the inner-product engine (``run_rowwise``'s loop and budget)."""
    P = params[()]
    shared = work.shared[()]
    c = sch.counts[()]
    pt, debt = sch.pt, sch.debt   # once: a tuple member read in the loop costs a refcount pair
    horizon = c.horizon
    stop = c.steps + budget
    while c.n_alive > 0 and c.steps < stop:
        horizon += P.sync_quantum
        for p in range(pt.shape[0]):
            while True:
                t = _pick(p, horizon, sch)
                if t < 0:
                    break
                now = pt[p]
                if debt[t] > 0:
                    issue, rdy, code = _resume(t, now, P, sch)
                else:
                    issue, rdy, code = inner_step(t, now, P, threads, ops, out, mem, work, tab)
                    issue, rdy, code = _begin(t, now, issue, rdy, code, P, sch)
                _advance(p, t, now, issue, rdy, code, P, sch, shared)
    c.horizon = horizon


@njit(cache=True)
def run_outer(params, threads, ops, out, mem, work, tab, sch, budget):
    """The scheduler of the outer-product engine (``run_rowwise``'s loop and budget)."""
    P = params[()]
    shared = work.shared[()]
    c = sch.counts[()]
    pt, debt = sch.pt, sch.debt   # once: a tuple member read in the loop costs a refcount pair
    horizon = c.horizon
    stop = c.steps + budget
    while c.n_alive > 0 and c.steps < stop:
        horizon += P.sync_quantum
        for p in range(pt.shape[0]):
            while True:
                t = _pick(p, horizon, sch)
                if t < 0:
                    break
                now = pt[p]
                if debt[t] > 0:
                    issue, rdy, code = _resume(t, now, P, sch)
                else:
                    issue, rdy, code = outer_step(t, now, P, threads, ops, out, mem, work, tab)
                    issue, rdy, code = _begin(t, now, issue, rdy, code, P, sch)
                _advance(p, t, now, issue, rdy, code, P, sch, shared)
    c.horizon = horizon
