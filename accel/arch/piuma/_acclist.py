"""Functional accumulator of a row owner: a list of (column, value) records in one arena.

A dense accumulator's products and a hash table's DRAM spills must be summed per column
for the C row they build.  The engine used to hold a dense N-wide accumulator per thread
(T x N x 24 B: 0.8 GB at rmat:16, 13 GB at rmat:20, whatever the row).  Here each owner
appends its records to a list and the write-back sorts and sums it, so memory follows the
rows in flight.  The sort is stable, so every column's values are summed in the order the
products arrived (the same sums, bit for bit, as the dense accumulator's), and the first
record of each column gives the order the dense accumulator's entries were first touched
(which its write-back reads in, a timed order).

The lists live in one arena (``state.Arena``: ``acc_c``/``acc_v``), thread t's at
``[acc_base, acc_base + acc_cap)``.  ``acc_room`` (run by the scheduler) makes room before a
step appends; ``acc_append`` (in the allocation-free step functions) only writes.  A list
outgrowing its place moves to the arena's top; when the arena is full, ``acc_room`` says so
and the scheduler returns to the host, whose ``acc_grow`` compacts every list into a new
arena twice the live size (so garbage stays bounded) before the scheduler resumes.  The
scheduler never holds a replaceable arena: a variable reassigned in its loop had its two
arrays' reference counts moved (atomic operations) at every engine step (smash-v3 rmat:15:
the refcount functions fell from 5.9 % to 4.4 % of the run's samples).

Why lists and sorts rather than a hash map per owner: one was tried (an index of entry
numbers beside each list, each product added to its column's entry in place, no sorts):
the same cycles and sums, but rmat:14 ran 1.6x slower.  With 528 owners' accumulators
live at once, every add was a random access far outside the host's caches, where an
append streams and the radix sorts stream too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import INTERNAL
from accel.arch.piuma._work import stable_argsort
from accel.arch.piuma.state import Arena

MIN_LIST = 1024          # records a list starts with (a step appends at most step_pps)
KEEP_LIST = 4096         # a list up to this big keeps its place for the thread's next row
MIN_ARENA = 1 << 16      # records of the first arena
# A new arena holds at least this times the old one's records: the live records grow a
# little at a time while the rows in flight get longer (rmat:16 grew 10.5 -> 13.3 -> ... ->
# 19.6 M records at 2x the live size, each a new arena to fault in and copy)
ARENA_GROWTH = 1.5


@njit(cache=True, _nrt=False, inline="always")
def acc_append(o, col, v, arena, threads):
    """Append (col, v) to owner o's list (``acc_room`` made the room)."""
    th = threads[o]
    i = th.acc_base + th.acc_len
    arena.acc_c[i] = col
    arena.acc_v[i] = v
    th.acc_len += 1


@njit(cache=True)
def acc_room(o, need, threads, arena, shared):
    """Make room for ``need`` more records in owner o's list within the arena; False when
    the arena is full (then ``acc_grow`` makes the room in a new one)."""
    th = threads[o]
    if th.acc_cap - th.acc_len >= need:
        return True
    if th.acc_len >= MIN_LIST:  # first merge repeated columns: then a list never holds much
        _compact(th, arena)     # more than twice its row's distinct columns, however it spills
        if th.acc_cap - th.acc_len >= need and 2 * th.acc_len <= th.acc_cap:
            return True
    cap = max(MIN_LIST, 2 * th.acc_cap, th.acc_len + need)
    if shared.acc_top + cap > arena.acc_c.shape[0]:
        return False
    _move_to_top(th, cap, arena, arena.acc_c, arena.acc_v, shared)
    return True


@njit(cache=True, _nrt=False, inline="always")
def _move_to_top(th, cap, arena, acc_c, acc_v, shared):
    """Give thread record th's list a place of ``cap`` records at the top of (acc_c, acc_v)."""
    top = shared.acc_top
    copy_records(arena.acc_c, arena.acc_v, th.acc_base, acc_c, acc_v, top, th.acc_len)
    th.acc_base = top
    th.acc_cap = cap
    shared.acc_top = top + cap


@njit(cache=True)
def acc_grow(o, need, threads, arena, shared_0d):
    """After ``acc_room`` found the arena full: compact every live list into a new arena
    twice the live size, with owner o's list, ``need`` records bigger, at its top; returns
    the new arena (called by the host, between scheduler calls, with the 0-d ``SHARED``
    array)."""
    shared = shared_0d[()]
    th = threads[o]
    cap = max(MIN_LIST, 2 * th.acc_cap, th.acc_len + need)
    live = cap
    for u in range(threads.shape[0]):
        if u != o:
            live += threads[u].acc_cap
    old = arena.acc_c.shape[0]
    if max(MIN_ARENA, 2 * live) <= old:   # the garbage alone fills it: compact where it is
        return _compact_in_place(o, cap, threads, arena, shared)
    acc_c = np.empty(max(MIN_ARENA, 2 * live, np.int64(old * ARENA_GROWTH)), np.int64)
    acc_v = np.empty(acc_c.shape[0], np.float64)
    top = 0
    for u in range(threads.shape[0]):
        w = threads[u]
        if u == o or w.acc_cap == 0:
            continue
        copy_records(arena.acc_c, arena.acc_v, w.acc_base, acc_c, acc_v, top, w.acc_len)
        w.acc_base = top
        top += w.acc_cap
    shared.acc_top = top
    _move_to_top(th, cap, arena, acc_c, acc_v, shared)
    return Arena(acc_c, acc_v)


@njit(cache=True)
def _compact_in_place(o, cap, threads, arena, shared):
    """``acc_grow`` within the arena it has (at least twice the live records): every list,
    owner o's too, slides down in the order it lies (a list never lands on one not yet
    moved), then o's moves to the top with ``cap`` records of room.  Rows in flight keep a
    steady live size, so a large run would otherwise allocate, fault in and copy a new
    arena each time the garbage fills the old (rmat:16: 38 times, 1.4 s)."""
    bases = np.empty(threads.shape[0], np.int64)
    for u in range(threads.shape[0]):
        bases[u] = threads[u].acc_base
    order = np.argsort(bases, kind="mergesort")
    acc_c, acc_v = arena.acc_c, arena.acc_v
    top = 0
    for i in range(order.shape[0]):
        w = threads[order[i]]
        if w.acc_cap == 0:
            continue
        copy_records(acc_c, acc_v, w.acc_base, acc_c, acc_v, top, w.acc_len)   # top <= base
        w.acc_base = top
        top += w.acc_cap
    shared.acc_top = top
    _move_to_top(threads[o], cap, arena, acc_c, acc_v, shared)
    return Arena(acc_c, acc_v)


@njit(cache=True, _nrt=False, inline="always")
def copy_records(src_c, src_v, src, acc_c, acc_v, dst, n):
    """n records from (src_c, src_v) at src to (acc_c, acc_v) at dst (a loop: a slice
    assignment costs Numba ~2 s of compile for its shape checks).  Arrays, not the
    ``Arena`` tuple: where reference counting is on, reading a tuple's array in a loop
    moves its count (two atomics) at every iteration."""
    for x in range(n):
        acc_c[dst + x] = src_c[src + x]
        acc_v[dst + x] = src_v[src + x]


@njit(cache=True, _nrt=False, inline="always")
def acc_release(t, threads):
    """The row is written back: empty t's list (a big one gives its place up)."""
    th = threads[t]
    th.acc_len = 0
    if th.acc_cap > KEEP_LIST:
        th.acc_cap = 0


@njit(cache=True, inline="always")
def _reduce(cols, vals):
    """The distinct columns in ascending order, their sums (each in arrival order) and the
    index of each one's first record."""
    n = cols.shape[0]
    order = stable_argsort(cols)
    m = _runs(cols, order)
    ucols = np.empty(m, np.int64)
    usums = np.empty(m, np.float64)
    first = np.empty(m, np.int64)
    m = 0
    for x in range(n):
        i = order[x]
        if x == 0 or cols[i] != cols[order[x - 1]]:
            ucols[m] = cols[i]
            usums[m] = vals[i]
            first[m] = i
            m += 1
        else:
            usums[m - 1] += vals[i]
    return ucols, usums, first


@njit(cache=True, inline="always")
def distinct_count(cols):
    """How many distinct columns the records hold (a row's entry count when its values are
    not needed)."""
    return _runs(cols, stable_argsort(cols))


@njit(cache=True, _nrt=False, inline="always")
def _runs(cols, order):
    """Distinct values of ``cols``, given the order that sorts them."""
    m = 0
    for x in range(order.shape[0]):
        if x == 0 or cols[order[x]] != cols[order[x - 1]]:
            m += 1
    return m


@njit(cache=True, **INTERNAL)
def _compact(th, arena):
    """Merge the repeated columns of thread record th's list in place, one record per column
    in first-touch order: later records still add after it (the same sums, bit for bit) and
    the order of first touches is kept."""
    b, n = th.acc_base, th.acc_len
    acc_c, acc_v = arena.acc_c, arena.acc_v   # once: not per iteration (see copy_records)
    ucols, usums, first = _reduce(acc_c[b:b + n], acc_v[b:b + n])
    order = stable_argsort(first)
    for x in range(order.shape[0]):
        acc_c[b + x] = ucols[order[x]]
        acc_v[b + x] = usums[order[x]]
    th.acc_len = order.shape[0]


@njit(cache=True)
def acc_merge(cols, vals):
    """Sum the records per column.  Returns the distinct columns in ascending order, their
    sums (in arrival order), and the columns in the order each was first appended."""
    ucols, usums, first = _reduce(cols, vals)
    order = stable_argsort(first)
    touch = np.empty(order.shape[0], np.int64)
    for x in range(order.shape[0]):   # a loop: fancy indexing costs Numba ~0.3 s of compile
        touch[x] = ucols[order[x]]
    return ucols, usums, touch
