"""Named layouts of the PIUMA engine's state: one table per kind of state, no column numbers.

The Numba engine (``_kernels.py`` and the modules it calls) reads ``threads[t].row`` rather
than ``ts[t, 1]``.  The plain-Python reference engine (``reference.py``) keeps its own
state in small classes, so it shares nothing with the engine it checks.

* Per-thread and per-row state are NumPy structured arrays (``THREAD``, ``ROW``): Numba
  compiles ``threads[t].row`` to the same single load as a 2-D column index.
* The arrays a step function needs are grouped into a few named tuples (``Operands``,
  ``Output``, ``Memory``, ``Work``, ``Tables``, ``Arena``; the scheduler's own: ``Sched``),
  so a step takes ``(t, now, P, threads, ops, out, mem, work, tab)`` instead of thirty
  positionals.

A record's fields and a named tuple's members are part of the compiled signatures, and
the kernel modules import this one (``accel.arch._numba_cache`` keys their cache on what
they import), so an edit here can never meet a stale compiled kernel.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

I8, F8 = np.int64, np.float64

# ---- the machine's parameters (old 42-slot float vector ``P``): one record, read ``P.name`` --
# Integers are int64 fields and the two true fractions float64 ones, so no kernel casts a
# parameter back to an integer.  A structured record rather than a namedtuple or jitclass:
# Numba passes it to the ~60 step/load call sites as one pointer (a 42-member tuple would be
# copied into every call's IR, a jitclass is not cacheable), and ``P.name`` is one load.
PARAMS_FIELDS = (
    ("cores",                 I8),  # cores of the machine
    ("threads_per_core",      I8),  # mt_pipelines * threads_per_pipeline + st_pipelines
    ("mt_pipelines",          I8),  # multi-threaded pipelines per core
    ("threads_per_pipeline",  I8),  # threads of a multi-threaded pipeline
    ("st_pipelines",          I8),  # single-threaded pipelines per core
    ("issue_width",           I8),  # instructions per cycle per pipeline
    ("sync_quantum",          I8),  # lax-synchronisation window (cycles)
    ("spad_banks",            I8),  # scratchpad banks per core
    ("spad_latency",          I8),  # scratchpad access (cycles)
    ("atomic_cycles",         I8),  # bank busy time of one atomic
    ("remote_atomic_latency", I8),  # mesh round trip to another core's scratchpad
    ("cache_sets",            I8),  # lines of the direct-mapped per-core cache
    ("cache_line_bytes",      I8),
    ("cache_latency",         I8),
    ("dram_latency",          I8),
    ("dram_channels",         I8),
    ("dram_cycles_per_word",  F8),  # channel occupancy of one 8-byte word (1 / words per cycle)
    ("dram_interleave_bytes", I8),
    ("dram_interleave_shift", I8),  # log2 of the interleave granule in words, -1 if not a power of two
    ("max_outstanding",       I8),  # requests in flight per thread
    ("mul_cycles",            I8),
    ("hash_cycles",           I8),
    ("compare_cycles",        I8),
    ("scan_slots_per_cycle",  I8),
    ("hash_table_entries",    I8),  # v1/v2 per-thread table slots
    ("hash_function",         I8),  # HASH_FIBONACCI / HASH_MODULO
    ("collision_policy",      I8),  # PROBE_LINEAR / PROBE_QUADRATIC
    ("max_load",              F8),  # table fill fraction before a new key spills
    ("window_rows",           I8),
    ("token_rows",            I8),
    ("fragment_entries",      I8),
    ("max_fragments",         I8),
    ("distribution",          I8),  # _constants.DIST_*
    ("accumulator",           I8),  # _constants.ACC_*
    ("n_cols",                I8),  # columns of C (width of a dense accumulator)
    ("table_slots_max",       I8),  # slots of the largest table (v3: fragments x fragment size)
    ("pool_fragments",        I8),  # v3 fragments per core
    ("step_pps",              I8),
    ("step_columns",          I8),
    ("poll_cycles",           I8),
    ("dense_acc_cached",      I8),  # 1: dense accumulator through the cache
    ("step_slots",            I8),
    ("sorted_output",         I8),  # 1: write-back sorts each C row
    ("plan_max",              I8),  # rows whose plans hold up to this many records (``ROW.plan_rec``) are planned (``_rowplan``), 0: none
    ("plan_budget",           I8),  # ... and longer ones planned ahead (``_planahead``) while
                                    #   the records of those in flight stay within this many
    ("walk_timing",           I8),  # 1: smash-v1's probe walks timed whole (model.FIDELITY_FAST)
)
PARAMS = np.dtype(list(PARAMS_FIELDS))
HASH_FIBONACCI, HASH_MODULO = 0, 1
PROBE_LINEAR, PROBE_QUADRATIC = 0, 1

# ---- one hardware thread (columns of the old ``ts`` / ``tf`` arrays) ------------------------
THREAD_FIELDS = (
    # name           type  meaning
    ("state",        I8),  # step-machine state (``_kernels.TAKE`` ...)
    ("row",          I8),  # row of A being worked on (outer product: column k of A)
    ("j",            I8),  # next A nonzero of the unit (inner: next column; outer: next chunk)
    ("j_end",        I8),  # one past the unit's last A nonzero (outer: last chunk)
    ("q",            I8),  # next B nonzero of the current B row
    ("q_end",        I8),  # one past the current B row
    ("unit_next",    I8),  # next unit of the window/token batch the thread holds
    ("unit_end",     I8),  # one past the batch's last unit
    ("window",       I8),  # static distribution: next window index the thread is dealt
    ("table_slots",  I8),  # slots of the thread's hash table (v3: fragments x fragment size)
    ("fragments",    I8),  # v3: fragments taken from the core's pool (returned at write-back)
    ("phase",        I8),  # outer product: last phase the thread saw (resets its distribution)
    ("table_fill",   I8),  # keys inserted in the table (limit: max_load)
    ("spills",       I8),  # partial products spilled to the DRAM overflow list
    ("acc_count",    I8),  # entries of the inner-product thread's C row so far
    ("acc_base",     I8),  # functional accumulator list: its place in ``Arena.acc_c/acc_v``,
    ("acc_cap",      I8),  #   its capacity (0: none yet) ...
    ("acc_len",      I8),  #   and the (column, value) records appended to it for this row
    ("unit",         I8),  # the work unit whose table this is
    ("owner",        I8),  # thread whose table the current unit merges into
    ("counted",      I8),  # the unit's open-token decrement has been done
    ("plan_pos",     I8),  # a planned row's next record (chunk, at the fast fidelity: ``_rowplan``), else PLAN_UNDECIDED or PLAN_NOT
    ("plan_n",       I8),  #   and the row's entry count, from the plan
    ("pp_taken",     I8),  # partial products the thread has done (its pace: ``_planahead``)
    ("a_value",      F8),  # A[i, k] of the current B row's products
)
THREAD = np.dtype(list(THREAD_FIELDS))

# ---- one row of C in the row-wise engines (old ``rs`` / ``rt``) ----------------------------
ROW_FIELDS = (
    ("open",     I8),  # tokens of the row not yet finished (the open-token counter)
    ("owner",    I8),  # thread owning the row's table, -1 before the first token is taken
    ("units",    I8),  # tokens the row was cut into (1: a whole row)
    ("ready",    I8),  # the owner's table exists (v3 sizes it first)
    ("t_ready",  F8),  # time the owner's table was ready
    ("t_last",   F8),  # time the last token finished
    ("pp",       I8),  # partial products of the row
    ("plan_rec", I8),  # records a plan of the row takes (``_rowplan.plan_records``)
)
ROW = np.dtype(list(ROW_FIELDS))

# ---- machine-wide counters (old ``G``): one record, a 0-d array indexed ``shared[()]`` ------
SHARED_FIELDS = (
    ("next_unit", I8),  # the token counter: next unit handed out by fetch-add
    ("phase",     I8),  # outer product: current phase (0 offsets, 1 multiply, 2 merge)
    ("acc_top",   I8),  # first free record of the accumulator-list arena (``_acclist``)
    ("plan_live", I8),  # records of the rows longer than ``plan_max`` planned and in flight
)
SHARED = np.dtype(list(SHARED_FIELDS))

# ---- the scheduler's counters: one record, a 0-d array indexed ``counts[()]`` -----------------
COUNTS_FIELDS = (
    ("n_alive",  I8),  # threads not yet done
    ("n_wait",   I8),  # threads waiting at the phase barrier (outer product)
    ("steps",    I8),  # step-function calls (engine steps)
    ("wait_max", F8),  # latest arrival at the barrier so far
    ("horizon",  F8),  # end of the last lock-step window run (a scheduler call resumes after it)
    ("resume_p", I8),  # a call that stopped inside a window (to grow the arena): its pipeline, else -1
    ("resume_t", I8),  # ... and the thread that pipeline had picked, else -1
    ("room_need", I8),  # ... and, when it stopped for room in a list, the records needed
)
COUNTS = np.dtype(list(COUNTS_FIELDS))

# ---- grouped arrays -------------------------------------------------------------------------
Ring = namedtuple("Ring", "used epoch")
"""Booking rings of a set of resources (``_kernels.reserve``): busy time per time bucket,
and which bucket a ring slot currently holds."""

Operands = namedtuple("Operands", "ap ai ax bp bi bx xp xi xx xpos off")
"""A and B in CSR; X is B^T (inner) or A^T (outer); ``xpos`` maps an A nonzero to its slot
in X and ``off`` gives each outer-product chunk its place among the partial products."""

Output = namedtuple("Output", "cp ci cx cfill keep")
"""C's row pointers (``cp``, from the symbolic pass: they place each row in the simulated
DRAM), the entry count written per row, and the rows the host keeps to check against SciPy:
``keep[row]`` is the row's offset in ``ci``/``cx``, or -1 (a large C is checked on a sample
of rows, so it is never held whole: memory follows the machine's working set)."""

DramPort = namedtuple("DramPort", "tags used epoch stats")
"""What a load or store touches: per-core cache tags, the DRAM channels' booking ring
(``used``, ``epoch``) and the statistics.  Kept narrow on purpose: ``load`` has ~60 call
sites and every array passed costs compile time at each (a wider group cost ~25 % more)."""

Memory = namedtuple("Memory", "regions port banks token stats")
"""Address-region bases, the DRAM port, the scratchpad banks' packed booking ring
(``_memory.reserve_bank``), the token counter's ring, and the statistics counters (the
same array as ``port.stats``)."""

Work = namedtuple("Work", "u_row u_j0 u_j1 rows shared")
"""Row-wise work units (row, first and last A nonzero), per-row state, shared counters."""

Tables = namedtuple("Tables", "keys vals filled frag pool free out_c out_v seen")
"""Functional state: the hash-table slots in scratchpad (keys, values; one row per
fragment), the logical slots each owner has filled, in insert order (``filled``, laid out
as the keys: the owner's k-th insert is at logical index k), each owner's fragment list
(``frag``: logical slot h of thread t's table lives in row ``frag[t, h >> log2(fragment
size)]``), the per-core count of free fragments with the free ones' rows (``free[c,
:pool[c]]``, a stack) and an inner-product thread's C row.  v3 draws its fragments from
the per-core pool, so the host holds one scratchpad's worth of slots per core (8 x 4 MB /
16 B x 16 B = 33 MB) rather than every thread's largest table (528 x 32768 x 16 B =
277 MB, which the host's 32 MB L3 cannot keep); v1/v2's fixed tables are one fragment per
thread, and one more where the host plans a row (``_rowplan``, whose dense accumulator is
a row of ``out_v``, stamps and sums side by side, whose probe counts are a row of
``out_c`` and whose column tags at the fast fidelity are ``seen``).  ``filled`` is the host's, not the machine's: a
write-back visits the row's live slots only, where the machine scans every slot (and is
timed so), which on a graph of many short rows (a road network: ~9 keys in 2,048 slots)
made the host's scan 40 % of the run.  The outer product's partial products are
recomputed from A and B when a row is merged, not held (their DRAM traffic is timed, their
values are A.B's)."""

Sched = namedtuple("Sched", "pfirst pn rr pt busy ready debt pend pcode alive waiting busy_work "
                             "finish counts")
"""The scheduler's state (``_kernels``): per pipeline its first thread, thread count,
round-robin pointer, local time and busy cycles; per thread its ready time, the issue slots
it still owes (``debt``) and the ready time / code after them, liveness, barrier wait,
issue slots used and finish time; and the ``COUNTS`` record.  Allocated by the host, so
no scheduler compiles an allocation."""

Stage = namedtuple("Stage", "loc rec meta ci cx")
"""Rows planned ahead (``_planahead``) in ``N_STAGE`` buffers: per row of A, where its plan is
(``loc``: buffer x rows-per-buffer + entry, -1: none); per buffer its records (``rec``, as
``_rowplan`` lays them out), a line per planned row (``meta``: ``STAGE_FIELDS``) and the
kept rows' entries (``ci``/``cx``)."""
N_STAGE = 12   # a plan stays published 11 rounds (RATES, in _planahead)
M_ROW, M_REC, M_WORDS, M_N, M_FILL, M_C = range(6)   # ``Stage.meta`` columns
STAGE_FIELDS = 6

Arena = namedtuple("Arena", "acc_c acc_v")
"""The arena of the row owners' accumulator lists: the (column, value) records of a dense
accumulator or of a table's DRAM spills, merged at write-back (``_acclist``).  Apart from
``Tables`` because it is the one group the scheduler replaces (when the arena grows): a
variable reassigned in a loop has its arrays' reference counts moved at every step, so
it holds two arrays, not seven."""


def new_threads(n: int) -> np.ndarray:
    """Zeroed state of n threads; static windows are dealt starting at the thread's index."""
    th = np.zeros(n, THREAD)
    th["window"] = np.arange(n)
    return th


def new_rows(units: np.ndarray, pp: np.ndarray | None = None) -> np.ndarray:
    """Per-row state of the row-wise engines given each row's token count (and partial
    products)."""
    rows = np.zeros(units.size, ROW)
    if pp is not None:
        rows["pp"] = pp
        rows["plan_rec"] = pp   # a record a product (``_rowplan.plan_records``)
    rows["open"] = units
    rows["owner"] = -1
    rows["units"] = units
    return rows
