"""Planned rows: a row's hash-table work done once on the host, then timed from its record.

When every row is one work unit and its table a hash table (SMASH v1, and v2 with whole
rows: ``PARAMS.plan_max`` > 0), only the row's owner inserts into the table, in product order,
into a table that starts empty.  Which slots each product probes, and whether it finds its
key, inserts it or spills, then depend on the row alone, never on when the owner runs.  So
the first ``NEXT_A`` step of a row plans it here (functional work only, no simulated time):

* it runs the row's inserts in one scratch table (the last row of ``Tables.keys``), which
  stays in the host's cache, and records each product's probe count, negated when it spills
  (the owner's list in ``Arena.acc_c``: an int32 record a product, in product order);
* it sums the row per column in a dense accumulator (row DENSE_ROW of ``Tables.out_v``:
  column c's first-touch stamp at 2c, its sum at 2c + 1), in product order: the same sums,
  bit for bit, as the table's slots and the merged DRAM spills give, since a column either
  has a slot for all its products or spills all of them (the table was full when it first
  came);
* it writes a kept row (``Output.keep``) into C, sorted, and counts the row's entries.

The ``PRODUCTS`` steps then book the same probes at the same scratchpad banks, the same
spill stores and issue slots, from the records (``_rowwise.planned_products``); the
write-back times the scan, spill read-back and sorts as before (``writeback_fast``).
Rows of more than PLAN_MAX products are planned only within a budget of records in flight
(``_planahead.PLAN_BUDGET``); beyond it they keep the table path, so the records stay small.
Why: timed in place, each product's probes read the owner's table, one of 528 live ones
(17 MB, beyond the host's L2), between bank bookings.  Measured against the table path
(interleaved runs): rmat:14 0.92-0.98x, rmat:16's engine 0.93x, a road-network grid
0.88-0.97x.  The bank bookings (``_memory.reserve_bank``), not the table, are most of what
is left.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import EMPTY, FIB, INTERNAL, S_INSERTS
from accel.arch.piuma._prefetch import prefetch, prefetch1
from accel.arch.piuma._symbolic import row_products
from accel.arch.piuma._work import RADIX_MIN, ilog2ceil
from accel.arch.piuma.state import HASH_FIBONACCI, PROBE_QUADRATIC

# ``THREAD.plan_pos`` of a row not (yet) planned; a planned row's is its next record
PLAN_UNDECIDED, PLAN_NOT = -1, -2
# FULL: a table gains keys, never loses one, so a column's lookup probes as far as its insert
# did (the slots it passed stay taken by other keys); and once the table holds ``cap`` keys
# it never changes again, so the walk of a column not in it, which stops at an empty slot or
# after E probes, depends on its first slot alone.  ``plan_into`` keeps both (``colp``):
# each product of a hub row's full table costs a lookup, not a walk (rmat:15 planning in
# line: 0.96-0.97x the time; the records are the same, bit for bit).
# ABSENT is a column no table holds (keys are columns >= 0 or EMPTY), to walk with.
ABSENT = np.int64(-2)
# Rows of more partial products count against PLAN_BUDGET: the other rows' records in flight
# then take at most threads x PLAN_MAX x 8 B (528 x 65,536 x 8 B = 277 MB), where whole
# rows peaked at 1.18 GB at rmat:16 (0.59 GB with this limit) and the 528 heaviest rows of
# rmat:20 hold 1.5 G products.  64 Ki products plan 85 % of rmat:14's products, 69 % of
# rmat:16's.
PLAN_MAX = 1 << 16
# HINTS: on a graph of many short rows (a citation or road network: a few nonzeros a row,
# B and the N-wide dense accumulator far beyond the host's caches) planning a row is a
# chain of host cache misses: A nonzero -> B row bounds -> B row -> the columns' stamps.
# The planner asks for them ahead: the bounds of the B rows BOUNDS_AHEAD nonzeros on, the
# B row ROW_AHEAD nonzeros on, the stamps and sums of the columns COLS_AHEAD products on.
# With the dense accumulator's stamp and sum in one line, and the symbolic pass's and
# NEXT_A's hints, a random graph of cit-Patents' size (3.7 M rows of ~4.4 nonzeros, 72 M
# products) ran its engine in 20.9-21.6 s against 28.7-29.9 s (2 interleaved pairs);
# R-MAT 14 and a road grid (whose rows are near each other) are unchanged (1.00 +- 0.01).
BOUNDS_AHEAD, ROW_AHEAD, COLS_AHEAD = 8, 2, 8
# The row of ``Tables.out_v`` (an inner-product thread's C row otherwise) that holds the
# plan's dense accumulator, 2N wide (stamp, sum; a row number is exact as a float64 stamp):
# the one row planned at a time
DENSE_ROW = 0
# CHUNKS: at the fast fidelity (``PARAMS.walk_timing``) a PRODUCTS step is timed from four
# sums over its products (``_rowwise.walked_products``), so a plan keeps those, a step's
# worth of products (up to ``step_pps`` of one B row) a chunk of CHUNK_WORDS arena words,
# rather than a record a product: rmat:18 holds ~117 products a chunk (0.27 B a product
# against 4 B), and the engine reads one chunk a step instead of its records.  A chunk's
# words: the probes, the products that probed more than once, the spills, and the offset
# from the step's start at which the first spill leaves (0 without one).
CHUNK_WORDS = 4
C_PROBES, C_COLL, C_SPILLS, C_FIRST = range(CHUNK_WORDS)
# SEEN: ``plan_chunks`` tells a column's first product from the others by a 16-bit tag a
# column (``Tables.seen``: 2 MB at 1 M columns, within the host's L2, where the dense
# accumulator's 16 MB is not): the plan's number (EPOCH_MAX of them, then every tag is
# cleared) shifted left, its low bit set when the column has a slot.  The tags' last entry
# holds the number of the last plan.  rmat:18, every row planned on one host thread: 100 M
# products/s against ``plan_into``'s 47 M/s, the same chunks.
EPOCH_MAX = (1 << 15) - 1


def plan_scratch(n_cols: int, table_slots: int):
    """A planner's dense accumulator (row DENSE_ROW: stamp -1, no column touched, and sum
    side by side, one host cache line a column), its probe counts (``plan_into``'s
    ``colp``: a column's, then a full table's walks by slot) and its column tags
    (``plan_chunks``'s, SEEN: none seen, no plan made)."""
    n = max(1, n_cols)
    dense = np.zeros((DENSE_ROW + 1, 2 * n), np.float64)
    dense[DENSE_ROW, 0::2] = -1.0
    colp = np.zeros((DENSE_ROW + 1, n + table_slots), np.int64)
    seen = np.zeros(n + 1, np.uint16)
    return dense, colp, seen


def plan_records(ap, ai, bp, row_pp, step_pps: int, chunks: bool) -> np.ndarray:
    """Records (4 B each: ``record_words`` of them make arena words) a plan of each row
    takes: a record a product, or (CHUNKS) 2 x CHUNK_WORDS a chunk, a chunk for every
    ``step_pps`` products (rounded up) of each B row the row meets."""
    if not chunks:
        return row_pp.astype(np.int64)
    # the chunks of each B row, laid out as row pointers: a row's sum over the B rows it
    # meets is then the symbolic pass's sum of B row lengths
    per_b = (np.diff(bp) + step_pps - 1) // step_pps
    chunk_ptr = np.concatenate(([0], np.cumsum(per_b))).astype(np.int64)
    return 2 * CHUNK_WORDS * row_products(ap, ai, chunk_ptr)


# A record is an int32 half of an int64 arena word: record 2i in the low half of word i,
# record 2i+1 in the high half
RECORD_BITS = 32
RECORD_MASK = (1 << RECORD_BITS) - 1


@njit(cache=True, _nrt=False, inline="always")
def record_words(pp):
    """Arena words (``Arena.acc_c``) of a row's records: two records a word."""
    return (pp + 1) >> 1


@njit(cache=True, _nrt=False, inline="always")
def record(words, w0, x):
    """Record x of the list at word w0: its probe count, negated when the product spills."""
    w = words[w0 + (x >> 1)]
    # arithmetic shifts sign-extend the half
    return w >> RECORD_BITS if x & 1 else (w << RECORD_BITS) >> RECORD_BITS


@njit(cache=True, _nrt=False, inline="always")
def put_record(words, w0, x, r):
    """Write record x (``record``'s layout); the low half first, as records come in order."""
    if x & 1:
        words[w0 + (x >> 1)] |= np.int64(r) << RECORD_BITS
    else:
        words[w0 + (x >> 1)] = np.int64(r) & RECORD_MASK


@njit(cache=True, _nrt=False, inline="always")
def next_slot(h, probes, quad, mask):
    """The slot probed after ``probes`` probes ending at h: the next one (linear probing) or
    ``probes`` further on (quadratic: offsets 1, 3, 6, ...)."""
    return (h + (probes if quad else 1)) & mask


@njit(cache=True, _nrt=False, inline="always")
def hash_slot(col, bits, P):
    """The slot a column hashes to in a table of 2**bits slots."""
    if P.hash_function == HASH_FIBONACCI:  # fibonacci (multiplicative) hashing
        h = (np.uint64(col) * FIB) >> np.uint64(64 - bits)
        return np.int64(h)
    return col & ((np.int64(1) << bits) - 1)


@njit(cache=True, _nrt=False, inline="always")
def probe(keys, ftab, o, fbits, fmask, col, h, E, quad):
    """Walk owner o's table (logical slot h: row ``ftab[o, h >> fbits]``, column
    ``h & fmask``; E slots) from col's slot h to the slot holding col, an empty one, or E
    probes.  Returns (probes, the last slot, its key)."""
    mask = E - 1
    probes = 0
    while True:
        probes += 1
        key = keys[ftab[o, h >> fbits], h & fmask]
        if key == col or key == EMPTY or probes >= E:
            return probes, h, key
        h = next_slot(h, probes, quad, mask)


@njit(cache=True, _nrt=False, **INTERNAL)
def plan_row(t, P, threads, ops, out, tab, rec, st):
    """Plan thread t's row (the module docstring): its records (CHUNKS at the fast
    fidelity) go to ``rec`` from the owner's list end on, its count to ``plan_n``, its
    final fill to ``table_fill``."""
    th = threads[t]
    row = th.row
    at = out.keep[row]
    room = out.cp[row + 1] - out.cp[row] if at >= 0 else 0   # a kept row's place in C
    # the scratch table: the last row of ``keys`` (the owners' are 0 .. T-1)
    # the engine plans a row once: its number is a stamp no other plan uses
    x, n, fill = make_plan(row, th.table_slots, P, ops, tab.keys, tab.filled, tab.frag,
                           tab.keys.shape[0] - 1, tab.out_v, tab.out_c, tab.seen, row, rec,
                           th.acc_base + th.acc_len, out.ci, out.cx, at, room)
    th.acc_len += record_words(x)
    th.plan_pos = 0
    th.plan_n = n
    th.table_fill = fill
    st[S_INSERTS] += fill


@njit(cache=True, _nrt=False, inline="always")
def _forget_walks(colp, d, N, E):
    """Forget the walks of absent columns by first slot (FULL): the table changed."""
    for f in range(E):
        colp[d, N + f] = 0


@njit(cache=True, _nrt=False, inline="always")
def _absent_walk(keys, ftab, z, fbits, fmask, colp, d, N, h0, E, quad):
    """Probes of a column not in the full scratch table, from its first slot h0: the walk
    from h0, the same for every such column, made once and kept in ``colp`` (FULL)."""
    probes = colp[d, N + h0]
    if probes == 0:
        probes, h, key = probe(keys, ftab, z, fbits, fmask, ABSENT, h0, E, quad)
        colp[d, N + h0] = probes
    return probes


@njit(cache=True, _nrt=False, inline="always")
def _empty_scratch(keys, slots, ftab, z, fill, fbits, fmask):
    """Empty the scratch table's ``fill`` slots (its insert log) for the next row."""
    for f in range(fill):
        h = slots[z, f]
        keys[ftab[z, h >> fbits], h & fmask] = EMPTY


@njit(cache=True, _nrt=False, inline="always")
def plan_into(row, E, P, ops, keys, slots, ftab, z, dense, colp, stamp, rec, w0, ci, cx, at, room):
    """Plan ``row`` in a table of E slots: the scratch table is row z of ``keys`` (its
    fragment map ``ftab``, its insert log ``slots``), the dense accumulator row DENSE_ROW
    of ``dense``, whose columns this plan marks with ``stamp`` (one no earlier plan in
    ``dense`` used: a column stamped otherwise is untouched by this row), and row DENSE_ROW
    of ``colp``: a touched column's probes (0: not in the table), then a full table's walks
    by first slot (FULL).  Its records go to ``rec`` from word w0 on, its entries (when ``room`` >
    0) to ``ci``/``cx`` from ``at`` on, sorted.  Returns (records, entries, final fill).
    The engine plans here in line (``plan_row``), the planner ahead of it
    (``_planahead.plan_batch``), each with its own scratch."""
    ap, ai, ax, bp, bi, bx = ops.ap, ops.ai, ops.ax, ops.bp, ops.bi, ops.bx
    fbits = ilog2ceil(keys.shape[1])
    fmask = keys.shape[1] - 1
    d = DENSE_ROW   # column c's stamp at 2c, its sum at 2c + 1
    bits = ilog2ceil(E)
    cap = np.int64(E * P.max_load)
    quad = P.collision_policy == PROBE_QUADRATIC
    N = dense.shape[1] >> 1
    x = 0
    fill = 0
    n = 0
    if cap <= 0:   # full from the start (FULL)
        _forget_walks(colp, d, N, E)
    j0, j1 = ap[row], ap[row + 1]
    for j in range(j0, min(j1, j0 + BOUNDS_AHEAD)):   # host cache hints (HINTS)
        prefetch1(bp, ai[j])
    for j in range(j0, min(j1, j0 + ROW_AHEAD)):
        prefetch1(bi, bp[ai[j]])
        prefetch1(bx, bp[ai[j]])
    for j in range(j0, j1):
        k = ai[j]
        a = ax[j]
        if j + BOUNDS_AHEAD < j1:
            prefetch1(bp, ai[j + BOUNDS_AHEAD])
        if j + ROW_AHEAD < j1:
            q = bp[ai[j + ROW_AHEAD]]
            prefetch1(bi, q)
            prefetch1(bx, q)
        q0, q1 = bp[k], bp[k + 1]
        for q in range(q0, min(q1, q0 + COLS_AHEAD)):
            prefetch(dense, d, 2 * bi[q])
        for q in range(q0, q1):
            if q + COLS_AHEAD < q1:
                prefetch(dense, d, 2 * bi[q + COLS_AHEAD])
            col = np.int64(bi[q])
            v = a * bx[q]
            first = dense[d, 2 * col] != stamp
            walk = True
            if not first:
                probes = colp[d, col]
                walk = probes == 0
            if walk and fill >= cap:   # the table is full: col is not in it, and spills
                probes = _absent_walk(keys, ftab, z, fbits, fmask, colp, d, N,
                                      hash_slot(col, bits, P), E, quad)
                colp[d, col] = 0
                put_record(rec, w0, x, -probes)
            elif walk:
                probes, h, key = probe(keys, ftab, z, fbits, fmask, col, hash_slot(col, bits, P),
                                       E, quad)
                if key == EMPTY and fill < cap:
                    keys[ftab[z, h >> fbits], h & fmask] = col
                    slots[z, fill] = h
                    fill += 1
                    colp[d, col] = probes
                    if fill == cap:   # frozen from here on: forget the walks of absent columns
                        _forget_walks(colp, d, N, E)
                    put_record(rec, w0, x, probes)
                else:
                    if key != col:
                        colp[d, col] = 0
                    put_record(rec, w0, x, probes if key == col else -probes)
            else:   # col has a slot: a lookup probes as far as its insert did
                put_record(rec, w0, x, probes)
            x += 1
            if first:   # the column's first product: its sum starts here
                dense[d, 2 * col] = stamp
                dense[d, 2 * col + 1] = v
                if n < room:
                    ci[at + n] = col
                n += 1
            else:
                dense[d, 2 * col + 1] += v
    _empty_scratch(keys, slots, ftab, z, fill, fbits, fmask)
    if room > 0:
        m = min(n, room)
        for i in range(m):
            cx[at + i] = dense[d, 2 * ci[at + i] + 1]
        sort_pairs(ci, cx, at, m)
    return x, n, fill


@njit(cache=True, _nrt=False, inline="always")
def plan_chunks(row, E, P, ops, keys, slots, ftab, z, dense, colp, seen, rec, w0, ci, cx, at,
                room):
    """``plan_into`` at the fast fidelity: the same walks, inserts and spills, kept as CHUNKS
    (from word w0 of ``rec``), with a column's first product told by its tag in ``seen``
    (SEEN) rather than by the dense accumulator, which only a kept row (``room`` > 0) sums
    into (row DENSE_ROW of ``dense``: column c's sum at 2c + 1).  A column with a slot is
    looked up (a walk as long as its insert's: FULL), one without is past a full table,
    whose walks by first slot are row DENSE_ROW of ``colp`` from the N-th entry on.
    Returns (records, entries, final fill): the records are 2 x CHUNK_WORDS a chunk."""
    ap, ai, ax, bp, bi, bx = ops.ap, ops.ai, ops.ax, ops.bp, ops.bi, ops.bx
    fbits = ilog2ceil(keys.shape[1])
    fmask = keys.shape[1] - 1
    d = DENSE_ROW
    bits = ilog2ceil(E)
    cap = np.int64(E * P.max_load)
    quad = P.collision_policy == PROBE_QUADRATIC
    step = P.mul_cycles + P.hash_cycles
    lat = P.spad_latency
    S = P.step_pps
    N = seen.shape[0] - 1
    epoch = np.int64(seen[N]) + 1   # this plan's number (SEEN)
    if epoch > EPOCH_MAX:
        for c in range(N):
            seen[c] = 0
        epoch = 1
    seen[N] = epoch
    tag = epoch << 1
    kept = room > 0
    fill = 0
    n = 0
    w = w0
    if cap <= 0:   # full from the start (FULL)
        _forget_walks(colp, d, N, E)
    j0, j1 = ap[row], ap[row + 1]
    for j in range(j0, min(j1, j0 + BOUNDS_AHEAD)):   # host cache hints (HINTS)
        prefetch1(bp, ai[j])
    for j in range(j0, j1):
        k = ai[j]
        a = ax[j]
        if j + BOUNDS_AHEAD < j1:
            prefetch1(bp, ai[j + BOUNDS_AHEAD])
        q, qe = bp[k], bp[k + 1]
        for i in range(q, min(qe, q + COLS_AHEAD)):
            prefetch1(seen, bi[i])
        while q < qe:   # a chunk: the products of one step
            q1 = min(qe, q + S)
            probes = 0
            coll = 0
            nsp = 0
            first = 0
            for i in range(q1 - q):
                if q + i + COLS_AHEAD < qe:
                    prefetch1(seen, bi[q + i + COLS_AHEAD])
                col = np.int64(bi[q + i])
                s = np.int64(seen[col])
                spill = False
                if s >> 1 == epoch:
                    if s & 1:   # col has a slot: a lookup probes as far as its insert did
                        p, h, key = probe(keys, ftab, z, fbits, fmask, col,
                                          hash_slot(col, bits, P), E, quad)
                    else:       # col spilled, so the table was full and stays so (FULL)
                        p = _absent_walk(keys, ftab, z, fbits, fmask, colp, d, N,
                                         hash_slot(col, bits, P), E, quad)
                        spill = True
                    if kept:
                        dense[d, 2 * col + 1] += a * bx[q + i]
                else:           # the column's first product
                    h0 = hash_slot(col, bits, P)
                    if fill >= cap:
                        p = _absent_walk(keys, ftab, z, fbits, fmask, colp, d, N, h0, E, quad)
                        spill = True
                        seen[col] = tag
                    else:
                        p, h, key = probe(keys, ftab, z, fbits, fmask, col, h0, E, quad)
                        if key == EMPTY:
                            keys[ftab[z, h >> fbits], h & fmask] = col
                            slots[z, fill] = h
                            fill += 1
                            seen[col] = tag | 1
                            if fill == cap:   # frozen from here on: forget absent walks
                                _forget_walks(colp, d, N, E)
                        else:   # E probes, no empty slot
                            spill = True
                            seen[col] = tag
                    if kept:
                        if n < room:
                            ci[at + n] = col
                        dense[d, 2 * col + 1] = a * bx[q + i]
                    n += 1
                probes += p
                coll += p > 1
                if spill:
                    if nsp == 0:   # it leaves after its own probes (WALK_TIME)
                        first = (i + 1) * step + probes * lat
                    nsp += 1
            rec[w + C_PROBES] = probes
            rec[w + C_COLL] = coll
            rec[w + C_SPILLS] = nsp
            rec[w + C_FIRST] = first
            w += CHUNK_WORDS
            q = q1
    _empty_scratch(keys, slots, ftab, z, fill, fbits, fmask)
    if kept:
        m = min(n, room)
        for i in range(m):
            cx[at + i] = dense[d, 2 * ci[at + i] + 1]
        sort_pairs(ci, cx, at, m)
    return 2 * (w - w0), n, fill


@njit(cache=True, _nrt=False, inline="always")
def make_plan(row, E, P, ops, keys, slots, ftab, z, dense, colp, seen, stamp, rec, w0, ci, cx,
              at, room):
    """The row's plan as the run's fidelity times it: ``plan_chunks`` (fast: its steps'
    sums, ``seen`` its column tags) or ``plan_into`` (exact: a record a product, ``stamp``
    its dense accumulator's mark).  Returns (records, entries, final fill)."""
    if P.walk_timing > 0:
        return plan_chunks(row, E, P, ops, keys, slots, ftab, z, dense, colp, seen, rec, w0,
                           ci, cx, at, room)
    return plan_into(row, E, P, ops, keys, slots, ftab, z, dense, colp, stamp, rec, w0, ci,
                     cx, at, room)


@njit(cache=True, _nrt=False, inline="always")
def _sift(ci, cx, at, root, end):
    """Heap sort's sift-down of ``ci[at + root]`` (with its value) within ``[at, at + end)``."""
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and ci[at + child + 1] > ci[at + child]:
            child += 1
        if ci[at + root] >= ci[at + child]:
            return
        c, v = ci[at + root], cx[at + root]
        ci[at + root], cx[at + root] = ci[at + child], cx[at + child]
        ci[at + child], cx[at + child] = c, v
        root = child


@njit(cache=True, _nrt=False)
def sort_pairs(ci, cx, at, n):
    """Sort ``ci[at:at+n]`` ascending, moving ``cx`` alike, in place (no allocation: this runs
    where reference counting is off).  The columns of a row are distinct, so any sort gives
    the order a stable one would.  Short rows: insertion sort; longer: heap sort."""
    if n <= RADIX_MIN:
        for i in range(at + 1, at + n):
            c, v = ci[i], cx[i]
            j = i - 1
            while j >= at and ci[j] > c:
                ci[j + 1] = ci[j]
                cx[j + 1] = cx[j]
                j -= 1
            ci[j + 1] = c
            cx[j + 1] = v
        return
    for root in range(n // 2 - 1, -1, -1):
        _sift(ci, cx, at, root, n)
    for end in range(n - 1, 0, -1):
        ci[at], ci[at + end] = ci[at + end], ci[at]
        cx[at], cx[at + end] = cx[at + end], cx[at]
        _sift(ci, cx, at, 0, end)


