"""Rows planned ahead, on the host's second core, while the engine times the rows before them.

A planned row's table work (``_rowplan``) depends on the row alone, never on when its owner
runs: so it can be done by anyone, at any time before the owner's first ``NEXT_A``.  The
engine plans in line (``plan_row``), which with every row planned was ~30 % of its time on
R-MAT (rmat:16, perf samples: ``plan_row`` 11.7 s of an engine's 38 s).  Here a second
host thread plans the rows the engine's threads will take next, and the engine copies a
finished plan instead of making it (``take_plan``).  Whether a row's plan comes from here,
from ``plan_row`` or is not made at all (the table path) changes nothing the engine
computes: the same records, the same C row, cycle for cycle.  So the planner may fall
behind or guess wrong; the engine never waits for it.

No memory is written by both threads at once, so neither needs atomics: the engine runs
in calls of ``AHEAD_STEPS`` steps, and only between calls (a *barrier*, on the host) do
plans change hands.  At a barrier, once the planner's last round is done (a round still
running is left to run: the engine never waits for it), the host

1. retires the oldest of the ``N_STAGE - 1`` published buffers, once there are that many
   (its rows' ``loc`` back to -1, unless the engine took them: a plan stays published for
   that many rounds), and publishes the round's buffer (``loc`` of each row not yet
   taken), which the engine never read while it was filled: no row's ``loc`` pointed there;
2. picks the rows for the next round (``predict``: the units each thread starts in the
   calls after the round publishes, at the thread's own pace, skipping rows taken or
   published) and starts the planner on a free buffer.

The engine reads the published buffers and ``loc`` (clearing a row's entry when it
takes the plan); the planner reads only the operands, the C row places and its own
scratch.  Rows longer than ``PARAMS.plan_max`` are planned (here, or by the engine in line
when their plan is not ready) only while the records of such rows in flight stay within
``PARAMS.plan_budget`` (memory follows the machine's working set: the 528 heaviest rows of
rmat:20 hold 1.5 G products, a record each); beyond it they take the table path.  At the
fast fidelity a plan is a chunk a step (``_rowplan`` CHUNKS), ~30x fewer records on R-MAT,
so the budget rarely binds.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import DIST_STATIC, EMPTY, NEXT_A, PRODUCTS, S_INSERTS
from accel.arch.piuma._rowplan import make_plan, plan_scratch, record_words
from accel.arch.piuma.state import (
    M_C,
    M_FILL,
    M_N,
    M_REC,
    M_ROW,
    M_WORDS,
    N_STAGE,
    STAGE_FIELDS,
    Stage,
)

# A buffer holds at most this many record words (two records a word: 16 MB), rows and kept
# C entries; a round stops early when one runs out, and a longer row is never planned here.
REC_WORDS, ROWS, C_ENTRIES = 1 << 21, 1 << 16, 1 << 19
# RATES: a round plans the rows each thread starts in the PACE calls after the round
# publishes, at the thread's own pace: its products a call (``THREAD.pp_taken`` between
# barriers, averaged with weight RATE_NEW on the newest call), FIRST_ROUND products a call
# shared out before the first one.  The planner, ~2x the engine's rate per product on
# R-MAT (fast fidelity), stays ahead and idles the rest of the call rather than planning
# rows that are gone by the time they publish.  Threads do not take products at one pace
# (a thread on short B rows spends its time on their fetches).  rmat:18, fast, products
# timed from plans of its 2.93 G: every thread walked side by side by products, 1.44 G
# (half the plans came after their rows were taken or were retired untaken); at each
# thread's pace, 1.54 G with PACE 1.5 and N_STAGE 6, 1.84 G with PACE 3, 2.24 G with PACE
# 3 and N_STAGE 12, 2.31 G with PACE 4 (these) and 2.40 G with PACE 5 (engine 60 s -> 47 s).
FIRST_ROUND, PACE, RATE_NEW = 1 << 20, 4.0, 0.5
# ``predict`` walks the threads in this many sweeps a round, each thread through 1/SWEEPS
# of its stretch at a time, so the rows needed first are planned first
SWEEPS = 4
# Rows whose plans hold more than ``plan_max`` records may be planned (taken from the
# stage, or planned in line: a full hub table plans at a lookup a product (_rowplan FULL),
# where the table path walks it and sorts the spills back) while the records of such rows
# in flight stay within this many (4 B a record in the arena, plus its unused value half:
# 8 B, so 512 MB), whatever the graph.  At the exact fidelity (a record a product) rmat:16
# stays below it (854 such rows, ~147 K products each), while at rmat:20 77 % of the
# products are in 63.5 K such rows of ~250 K products, so it decides how many of the 528
# threads time theirs from a plan (the rest take the table path).
PLAN_BUDGET = 1 << 26
# Below this many partial products a run plans in line only: a thread's start and the
# barriers cost more than they save, and small runs compile nothing of this module.  So
# does a run whose rows hold fewer than AHEAD_ROW products on average (of those with any):
# planning a short row costs about what copying its plan does, and the barriers come
# often (a roadNet-CA-sized grid, ~9 products a row: 9.0 s with a planner against 5.0 s).
AHEAD_MIN, AHEAD_ROW = 1 << 22, 512
# LAG: a round publishes at the first barrier after it ends, so when the engine outruns the
# planner a round spans several calls.  The next round then skips what each thread takes
# in as many calls as the last one took: with one call's, 135 M of rmat:16's products
# were planned after the engine had taken their rows, 88 M with the lag (171 M -> 201 M
# products timed from plans).


def worth_planning_ahead(row_pp: np.ndarray) -> bool:
    """Whether a run whose rows have ``row_pp`` partial products gains from a planner."""
    total = int(row_pp.sum())
    busy = int(np.count_nonzero(row_pp))
    return total >= AHEAD_MIN and total >= AHEAD_ROW * busy
AHEAD_OFF, AHEAD_SYNC, AHEAD_THREAD = 0, 1, 2   # no planner / rounds on the host / on a thread
# Engine steps between barriers: a plan is published a call after it is asked for, so the
# shorter the call the better the guess of which rows come next; but each barrier waits
# for the planner's round.  rmat:16 (plans of 77 % of the products taken): 30 K steps
# 30 s, 100 K steps 39 s, against 43 s planning in line.
AHEAD_STEPS = 30_000


def empty_stage(rows: int) -> Stage:
    """A stage no row's plan is in (the engine's argument when nothing is planned ahead)."""
    return Stage(np.full(max(1, rows), -1, np.int64), np.zeros((N_STAGE, 1), np.int64),
                 np.zeros((N_STAGE, 1, STAGE_FIELDS), np.int64), np.zeros((N_STAGE, 1), np.int64),
                 np.zeros((N_STAGE, 1), np.float64))


@njit(cache=True, _nrt=False, inline="always")
def take_plan(t, s, threads, out, stage, acc_c, st):
    """Give thread t the plan of its row at stage entry s (``loc``): its records to the end
    of t's list in ``acc_c`` (room made by the caller), its kept entries to C, its counts
    to t; the entry is then no row's (``plan_row``'s effects, copied)."""
    meta = stage.meta
    per = meta.shape[1]
    b = s // per
    i = s - b * per
    th = threads[t]
    row = th.row
    w0 = meta[b, i, M_REC]
    nw = meta[b, i, M_WORDS]
    dst = th.acc_base + th.acc_len
    rec = stage.rec
    for k in range(nw):
        acc_c[dst + k] = rec[b, w0 + k]
    th.acc_len += nw
    n = meta[b, i, M_N]
    at = out.keep[row]
    if at >= 0:
        c0 = meta[b, i, M_C]
        m = min(n, out.cp[row + 1] - out.cp[row])
        for k in range(m):
            out.ci[at + k] = stage.ci[b, c0 + k]
            out.cx[at + k] = stage.cx[b, c0 + k]
    fill = meta[b, i, M_FILL]
    th.plan_pos = 0
    th.plan_n = n
    th.table_fill = fill
    st[S_INSERTS] += fill
    stage.loc[row] = -1


@njit(cache=True, nogil=True)
def plan_batch(todo, b, params, ops, cp, keep, plan_rec, stage, stamp0, keys, slots, ftab, dense,
               colp, seen):
    """Plan the rows ``todo`` (their plans' records: ``plan_rec``) into stage buffer b, in
    order, until one of its arrays is full; returns how many.  Runs without the GIL, beside
    the engine.  ``keys``/``slots``/``ftab``/``dense``/``colp``/``seen`` are this planner's
    own scratch (``new_scratch``); its plans are numbered from ``stamp0`` on (a row may be
    planned again after its plan was retired untaken, so its number would not tell its
    dense accumulator's columns apart)."""
    P = params[()]
    rec = stage.rec[b]
    ci = stage.ci[b]
    cx = stage.cx[b]
    meta = stage.meta
    E = P.hash_table_entries   # v1/v2: every owner's table (only they are planned)
    w = 0
    c = 0
    n_done = 0
    for r in range(todo.shape[0]):
        row = todo[r]
        at = keep[row]
        room = cp[row + 1] - cp[row] if at >= 0 else 0
        if n_done == meta.shape[1] or c + room > ci.shape[0]:
            break
        if w + record_words(plan_rec[row]) > rec.shape[0]:
            break
        x, n, fill = make_plan(row, E, P, ops, keys, slots, ftab, 0, dense, colp, seen,
                               stamp0 + n_done, rec, w, ci, cx, c, room)
        meta[b, n_done, M_ROW] = row
        meta[b, n_done, M_REC] = w
        meta[b, n_done, M_WORDS] = record_words(x)
        meta[b, n_done, M_N] = n
        meta[b, n_done, M_FILL] = fill
        meta[b, n_done, M_C] = c
        w += record_words(x)
        c += room
        n_done += 1
    return n_done


@njit(cache=True)
def publish(stage, b, n, rows):
    """Make buffer b's n plans the engine's, each whose row no thread has taken yet."""
    per = stage.meta.shape[1]
    loc = stage.loc
    for i in range(n):
        row = stage.meta[b, i, M_ROW]
        if rows[row].owner < 0 and loc[row] < 0:
            loc[row] = b * per + i


@njit(cache=True)
def retire(stage, b, n):
    """Take buffer b's n plans back from the engine (those it has not taken)."""
    per = stage.meta.shape[1]
    loc = stage.loc
    for i in range(n):
        row = stage.meta[b, i, M_ROW]
        if loc[row] == b * per + i:
            loc[row] = -1


@njit(cache=True, inline="always")
def _want(row, rows, loc, big):
    """Whether a round should plan ``row``: not taken, not published, some products, and
    a plan no bigger than a buffer holds (``big`` records)."""
    rw = rows[row]
    return rw.owner < 0 and loc[row] < 0 and rw.pp > 0 and rw.plan_rec <= big


@njit(cache=True, inline="always")
def _left(th, work, ops, P):
    """Products thread record th has still to do in its unit before it takes the next."""
    if th.state != NEXT_A and th.state != PRODUCTS:
        return 0
    if th.plan_pos >= 0 and P.walk_timing == 0:
        return work.rows[th.row].pp - th.plan_pos   # a record a product: the next one's
    left = th.q_end - th.q if th.state == PRODUCTS else 0
    bp = ops.bp
    for j in range(th.j, th.j_end):
        k = ops.ai[j]
        left += bp[k + 1] - bp[k]
    return left


@njit(cache=True)
def predict(threads, work, ops, loc, params, rate, lag, pace, big, todo):
    """The rows the engine's threads start in the ``pace`` calls after the ``lag`` calls
    before this round's plans publish (RATES: thread t takes about ``rate[t]`` products a
    call), into ``todo``; returns how many.  Static windows: each thread's own next units;
    dynamic ones (v2): the counter's next, at the threads' summed pace."""
    P = params[()]
    u_row, rows = work.u_row, work.rows
    n_units = u_row.shape[0]
    T = threads.shape[0]
    cu = np.empty(T, np.int64)
    ce = np.empty(T, np.int64)
    cw = np.empty(T, np.int64)
    ahead = np.zeros(T, np.int64)   # products before the thread's next unit starts
    for t in range(T):
        th = threads[t]
        cu[t] = th.unit_next
        ce[t] = th.unit_end
        cw[t] = th.window
        ahead[t] = _left(th, work, ops, P)
    n = 0
    wr = P.window_rows
    static = P.distribution == DIST_STATIC
    for s in range(1, SWEEPS + 1):
        for t in range(T):
            lo = rate[t] * lag
            hi = rate[t] * (lag + pace * s / SWEEPS)
            while ahead[t] < hi and n < todo.shape[0]:
                if cu[t] >= ce[t]:
                    if not static:
                        break
                    start = cw[t] * wr
                    if start >= n_units:
                        break
                    cu[t] = start
                    ce[t] = min(start + wr, n_units)
                    cw[t] += T
                row = u_row[cu[t]]
                cu[t] += 1
                begins = ahead[t]
                ahead[t] += max(1, rows[row].pp)
                if begins >= lo and _want(row, rows, loc, big):
                    todo[n] = row
                    n += 1
    if not static:
        lo = rate.sum() * lag
        hi = rate.sum() * (lag + pace)
        walked = 0
        u = work.shared[()].next_unit
        while u < n_units and walked < hi and n < todo.shape[0]:
            row = u_row[u]
            u += 1
            begins = walked
            walked += rows[row].pp
            if begins >= lo and _want(row, rows, loc, big):
                todo[n] = row
                n += 1
    return n


def new_scratch(n_cols: int, table_slots: int):
    """A planner's own scratch table (one row, one fragment), its insert log, its dense
    accumulator (stamps -1: no column touched), its probe counts (``plan_into``'s ``colp``:
    a column's, then a full table's walks by slot) and its column tags (``plan_chunks``)."""
    keys = np.full((1, table_slots), EMPTY, np.int32)
    slots = np.zeros((1, table_slots), np.int32)
    ftab = np.zeros((1, 1), np.int64)
    dense, colp, seen = plan_scratch(n_cols, table_slots)
    return keys, slots, ftab, dense, colp, seen


class PlanAhead:
    """The host's side: the stage's buffers, the planner's rounds and the barriers.
    ``mode`` AHEAD_THREAD plans on a second thread; AHEAD_SYNC runs each round on the host
    at the barrier (the same plans, deterministically placed: for tests)."""

    def __init__(self, params, ops, out, work, threads, mode: int):
        rec = params[()]
        M = ops.ap.shape[0] - 1
        total = int(work.rows["plan_rec"].sum())   # every row's plan, in records
        self.rec_words = min(REC_WORDS, total // 2 + 1)
        self.per = min(ROWS, max(1, M))
        n_kept = int(out.ci.shape[0])
        self.c_cap = min(C_ENTRIES, max(1, n_kept))
        self.stage = Stage(np.full(max(1, M), -1, np.int64),
                           np.zeros((N_STAGE, self.rec_words), np.int64),
                           np.zeros((N_STAGE, self.per, STAGE_FIELDS), np.int64),
                           np.zeros((N_STAGE, self.c_cap), np.int64),
                           np.zeros((N_STAGE, self.c_cap), np.float64))
        self.big = 2 * self.rec_words   # a row's records must fit one buffer
        self.scratch = new_scratch(int(rec["n_cols"]), int(rec["hash_table_entries"]))
        self.params, self.ops, self.out, self.work, self.threads = params, ops, out, work, threads
        self.mode = mode
        self.count = [0] * N_STAGE      # plans in each buffer
        self.published: list[int] = []  # oldest first
        self.fill = 0                   # the buffer the planner fills
        self.todo = np.zeros(self.per, np.int64)
        T = threads.shape[0]
        self.rate = np.full(T, FIRST_ROUND / (PACE * max(1, T)))   # products a call (RATES)
        self.pp_seen = threads["pp_taken"].copy()   # at the last barrier
        self.worker: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.n_todo = 0
        self.stamps = 0   # plans made so far (``plan_batch``'s numbering)
        # engine calls the running round has spanned so far (LAG); none before the first
        # round, which plans each thread's rows from its start (also what ``accel cache
        # warm``'s small run needs to compile the planner: from a first lag of one guessed
        # call, its threads' rows all fell before it and no round ran)
        self.calls = 0

    def _round(self) -> None:
        try:
            self.count[self.fill] = int(plan_batch(
                self.todo[:self.n_todo], self.fill, self.params, self.ops, self.out.cp,
                self.out.keep, self.work.rows["plan_rec"], self.stage, self.stamps,
                *self.scratch))
            self.stamps += self.count[self.fill]
        except BaseException as exc:   # re-raised on the host at the next barrier
            self.failure = exc

    def _wait(self) -> None:
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        if self.failure is not None:
            raise self.failure

    def barrier(self) -> None:
        """Between two engine calls: hand over the last round, start the next one at the
        threads' paces in the engine's last calls (RATES).  A round still running (the
        planner got less than a core: a sweep's workers on every core) is left to run: the
        engine never waits for a plan."""
        taken = self.threads["pp_taken"]
        self.rate += RATE_NEW * ((taken - self.pp_seen) - self.rate)
        self.pp_seen[:] = taken
        if self.worker is not None and self.worker.is_alive():
            self.calls += 1   # the round spans another engine call (LAG)
            return
        self._wait()
        if self.n_todo:   # the round just finished: publish it
            if len(self.published) == N_STAGE - 1:
                old = self.published.pop(0)
                retire(self.stage, old, self.count[old])
                self.count[old] = 0
            publish(self.stage, self.fill, self.count[self.fill], self.work.rows)
            self.published.append(self.fill)
            self.fill = next(b for b in range(N_STAGE) if b not in self.published)
        # the rows taken in the next calls are planned in line or published already: this
        # round's plans publish after as many calls as the last round took (LAG)
        lag, self.calls = self.calls, 1
        self.n_todo = int(predict(self.threads, self.work, self.ops, self.stage.loc, self.params,
                                  self.rate, lag, PACE, self.big, self.todo))
        if not self.n_todo:
            return
        if self.mode == AHEAD_SYNC:
            self._round()
            self._wait()
        else:
            self.worker = threading.Thread(target=self._round, name="piuma-planner", daemon=True)
            self.worker.start()

    def close(self) -> None:
        """The run is over (or failed): wait for the planner's last round."""
        try:
            self._wait()
        finally:
            self.worker = None
