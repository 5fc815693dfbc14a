"""Plain-Python reference engine of the PIUMA model: the same machine, written to be read.

No Numba and no NumPy in the engine itself (only the wrapper builds NumPy/SciPy results): operands become Python lists, every thread is
a generator that runs its algorithm as straight-line code and ``yield``s at the end of
each step, and the memory system is a few small classes.  It is slow (about 10^4 engine
steps a second) and meant for small inputs (``rmat:6``), where a test holds it equal to
the Numba engine (``_kernels.py``) cycle for cycle and in every counter ``Result`` reports.

The machine (model.py's docstring has the algorithms, _kernels.py's the engine):

* A *step* of a thread issues a short dependent chain of instructions.  It is what one
  resumption of the thread's generator does, up to its next ``yield (issue slots, ready
  time, outcome)``; the scheduler sends the step's start time in.
* Each pipeline issues round-robin from its ready threads.  Pipelines advance in windows
  of ``sync_quantum`` cycles, one after the other inside a window.  A step of more than
  ``step_slots`` issue slots is issued in pieces of that size, interleaved with the other
  threads of its pipeline.
* DRAM channels, scratchpad banks and the token counter are booked in time buckets
  (``BookingRing``), so requests queue only behind work booked in the same window.

Floating-point times are combined in the same order as in the Numba engine, because a
different rounding would move a booking into a neighbouring bucket now and then.
"""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np
import scipy.sparse as sp

from accel.arch.piuma.config import ENTRY_BYTES, PiumaConfig
from accel.arch.piuma.model import ALGORITHMS, Result, _same, check_csr
from accel.configs import config_dict
from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured

MAX_REFERENCE_NNZ = 20_000   # larger inputs belong to the Numba engine (this one is ~1000x slower)

OK, DONE, BARRIER = "ok", "done", "barrier"   # how a step ends
EMPTY = -1
FIB = 0x9E3779B97F4A7C15                      # Knuth's multiplicative hashing constant
MASK64 = (1 << 64) - 1
DRAM_BUCKET, BANK_BUCKET = 16.0, 4.0          # cycles per booking bucket (see BookingRing)
RING_DRAM, RING_BANK = 1 << 16, 1 << 10       # buckets a resource remembers
POOL_WORD, OPEN_TOKENS_WORD = 0, 1            # scratchpad words of a core's shared counters
# DRAM regions in address order; each is 4 KB aligned with a 4 KB gap after it
REGIONS = ("ap", "ai", "ax", "bp", "bi", "bx", "xp", "xi", "xx", "ci", "cx", "ppi", "ppx",
           "off", "acc", "spill")


def ceil_log2(n: int) -> int:
    return (n - 1).bit_length() if n > 1 else 0


class BookingRing:
    """Busy time of ``n`` resources, booked in buckets of ``width`` cycles.

    A request at time t fills t's bucket and spills into later buckets when it is full.
    Each resource remembers ``slots`` buckets: a ring slot holds the latest bucket with
    its number modulo ``slots``, so a request into a bucket that has been overwritten
    by a later one finds no record and is not delayed."""

    def __init__(self, n: int, slots: int, width: float):
        self.slots, self.width = slots, width
        self.held = [{} for _ in range(n)]   # ring slot -> [bucket, busy time booked]

    def book(self, r: int, t: float, busy: float) -> float:
        bucket = int(t / self.width)
        left, first = busy, True
        ring = self.held[r]
        while True:
            cell = ring.get(bucket % self.slots)
            if cell is None or cell[0] != bucket:
                if cell is not None and cell[0] > bucket:
                    return t + busy
                cell = ring[bucket % self.slots] = [bucket, 0.0]
            room = self.width - cell[1]
            if room >= left:
                cell[1] += left
                return t + busy if first else max(t + busy, bucket * self.width + cell[1])
            if room > 0:
                cell[1] = self.width
                left -= room
            bucket += 1
            first = False


class MemorySystem:
    """DRAM of 8-byte words behind per-core direct-mapped caches, scratchpad banks, and
    the token counter in core 0's scratchpad.  Counts traffic in ``stats``."""

    def __init__(self, cfg: PiumaConfig, regions: dict[str, int]):
        self.cfg, self.base = cfg, regions
        self.channels = BookingRing(cfg.dram_channels, RING_DRAM, DRAM_BUCKET)
        self.banks = BookingRing(cfg.cores * cfg.spad_banks, RING_BANK, BANK_BUCKET)
        self.counter = BookingRing(1, RING_BANK, BANK_BUCKET)
        self.sets = cfg.cache_bytes // cfg.cache_line_bytes
        self.tags = [{} for _ in range(cfg.cores)]   # cache set -> line held
        self.cycles_per_word = 1.0 / cfg.dram_words_per_cycle
        self.stats = Counter()

    def dram(self, now, addr, nbytes, write, kind=None):
        """One request of the 8-byte words [addr, addr+nbytes) touches; its finish time."""
        cfg = self.cfg
        granule = cfg.dram_interleave_bytes >> 3
        first, end = addr >> 3, (addr + nbytes + 7) >> 3
        done = now
        w = first
        while w < end:   # a run of words inside one interleave granule goes to one channel
            stop = min(end, (w // granule + 1) * granule)
            channel = (w // granule) % cfg.dram_channels
            fin = self.channels.book(channel, now, (stop - w) * self.cycles_per_word)
            done = max(done, fin + cfg.dram_latency)
            w = stop
        moved = (end - first) * 8
        self.stats["written" if write else "read"] += moved
        if kind is not None:
            self.stats[kind] += moved
        return done

    def load(self, core, now, region, offset, nbytes, cached, kind=None):
        if nbytes <= 0:
            return now
        cfg = self.cfg
        addr = self.base[region] + offset
        per_trip = cfg.max_outstanding
        if not cached:   # only the touched words, max_outstanding of them per round trip
            words = ((addr + nbytes + 7) >> 3) - (addr >> 3)
            done = now
            for trip in range((words + per_trip - 1) // per_trip):
                start = (addr & ~7) + trip * per_trip * 8
                size = min(per_trip * 8, (words - trip * per_trip) * 8)
                done = max(done, self.dram(now + trip * cfg.dram_latency, start, size, False,
                                           kind))
            return done
        line = cfg.cache_line_bytes
        tags = self.tags[core]
        done = now + cfg.cache_latency
        misses = 0
        for ln in range(addr // line, (addr + nbytes - 1) // line + 1):
            if tags.get(ln % self.sets) == ln:
                self.stats["hits"] += 1
                continue
            tags[ln % self.sets] = ln
            start = now + cfg.cache_latency + (misses // per_trip) * cfg.dram_latency
            done = max(done, self.dram(start, ln * line, line, False, kind))
            misses += 1
            self.stats["misses"] += 1
        return done

    def store(self, now, region, offset, nbytes, kind=None):
        """Posted (the thread does not wait), write-through, no allocate."""
        if nbytes > 0:
            self.dram(now, self.base[region] + offset, nbytes, True, kind)

    def scratchpad(self, core, word, now, busy):
        """An access of ``busy`` bank cycles to ``word`` of core's scratchpad; data-ready time."""
        fin = self.banks.book(core * self.cfg.spad_banks + word % self.cfg.spad_banks, now, busy)
        self.stats["bank_wait"] += int(fin - now - busy)
        return fin - busy + self.cfg.spad_latency

    def fetch_add(self, now):
        """The remote fetch-add on the token counter: when its result is back."""
        atomic = self.cfg.atomic_cycles
        fin = self.counter.book(0, now, atomic)
        self.stats["tokens"] += 1
        return fin - atomic + self.cfg.remote_atomic_latency


class Csr:
    """A CSR matrix as Python lists: ``ptr``, ``idx`` (sorted per row) and ``val``."""

    def __init__(self, ptr, idx, val, n_cols):
        self.ptr, self.idx, self.val, self.n_cols = ptr, idx, val, n_cols

    @classmethod
    def of(cls, m: Unstructured) -> Csr:
        return cls([int(x) for x in m.indptr], [int(x) for x in m.indices],
                   [float(x) for x in m.data], m.shape[1])

    def row(self, i):
        return range(self.ptr[i], self.ptr[i + 1])

    def transpose(self) -> tuple[Csr, list[int]]:
        """The transpose (rows sorted), and where each of our nonzeros went in it."""
        count = [0] * (self.n_cols + 1)
        for k in self.idx:
            count[k + 1] += 1
        for k in range(self.n_cols):
            count[k + 1] += count[k]
        fill = count[:-1]
        idx, val, where = [0] * len(self.idx), [0.0] * len(self.idx), [0] * len(self.idx)
        for i in range(len(self.ptr) - 1):   # rows in order: each column's rows come sorted
            for j in self.row(i):
                p = fill[self.idx[j]]
                fill[self.idx[j]] += 1
                idx[p], val[p], where[j] = i, self.val[j], p
        return Csr(count, idx, val, len(self.ptr) - 1), where


class Thread:
    """What a hardware thread holds between steps besides its program position."""

    def __init__(self, t, core):
        self.t, self.core = t, core
        self.window = t                 # static distribution: next window it is dealt
        self.batch_next = self.batch_end = 0   # units of the token/window it holds
        self.table = None               # the table it owns (row-wise owners)


class RowTable:
    """A row owner's accumulator: a hash table in scratchpad (v1/v2: fixed size, v3: built
    from fragments) plus the functional sum of whatever left it (dense accumulator, DRAM
    overflow list), in the order the columns first arrived."""

    def __init__(self, unit, slots):
        self.unit, self.slots = unit, slots
        self.keys = [EMPTY] * slots
        self.vals = [0.0] * slots
        self.fill = 0
        self.spills = 0
        self.fragments = 0
        self.overflow = {}              # column -> value (insertion ordered)

    def add_overflow(self, col, v):
        if col in self.overflow:
            self.overflow[col] += v
        else:
            self.overflow[col] = v


class RowState:
    """A row of C in the row-wise engines: its tokens, owner and readiness."""

    def __init__(self, units):
        self.open = self.units = units
        self.owner = None
        self.ready = False
        self.t_ready = 0.0
        self.t_last = 0.0


def work_units(A: Csr, B: Csr, token_pps: int):
    """Row-wise work units (row, first A nonzero, end): a row, or a heavy row's A nonzeros
    cut after the nonzero at which the running product count reaches each multiple of
    ``token_pps``.  Also each row's unit count."""
    units, per_row = [], []
    for i in range(len(A.ptr) - 1):
        first, end = A.ptr[i], A.ptr[i + 1]
        running, total = [], 0
        for j in range(first, end):
            total += B.ptr[A.idx[j] + 1] - B.ptr[A.idx[j]]
            running.append(total)
        if token_pps <= 0 or total <= token_pps:   # a light row (an empty one too) is one unit
            units.append((i, first, end))
            per_row.append(1)
            continue
        cuts = {0, end - first}
        for goal in range(token_pps, total, token_pps):
            reached = next(x for x, r in enumerate(running) if r >= goal)
            cuts.add(min(reached + 1, end - first))
        cuts = sorted(cuts)
        units += [(i, first + lo, first + hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
        per_row.append(len(cuts) - 1)
    return units, per_row


class Engine:
    """One SpGEMM C = A.B on the machine: thread programs and the scheduler."""

    def __init__(self, A: Csr, B: Csr, cfg: PiumaConfig, algorithm: str):
        self.A, self.B, self.cfg = A, B, cfg
        self.algorithm = algorithm
        self.M, self.N = len(A.ptr) - 1, B.n_cols
        self.static = algorithm == "smash-v1"          # v1 deals windows; the rest use tokens
        self.accumulator = {"smash-v3": "fragments", "gustavson-dense": "dense"}.get(algorithm,
                                                                                    "hash")
        self.B_len = [B.ptr[k + 1] - B.ptr[k] for k in range(len(B.ptr) - 1)]
        self.products = sum(self.B_len[k] for k in A.idx)
        # the structure of C (a symbolic pass: bookkeeping, not timed)
        self.C_cols = [sorted({c for j in A.row(i) for c in B.idx[B.ptr[A.idx[j]]:
                                                                 B.ptr[A.idx[j] + 1]]})
                       for i in range(self.M)]
        self.cp = [0]
        for cols in self.C_cols:
            self.cp.append(self.cp[-1] + len(cols))
        self.C_rows = [None] * self.M    # (columns, values) each row was written with
        self.bad_rows = 0
        one = Csr([0], [0], [0.0], 0)   # the model hands unused X operands over as one word
        self.X, self.X_of_A = one, None
        if algorithm == "inner":
            self.X, _ = B.transpose()
        elif algorithm == "outer":
            self.X, self.X_of_A = A.transpose()
            # each nonzero (k, i) of X = A^T owns a chunk of B_len[k] partial products
            self.chunk_at, at = [], 0
            for k in range(len(self.X.ptr) - 1):
                for _ in self.X.row(k):
                    self.chunk_at.append(at)
                    at += self.B_len[k]
            self.pp_cols = [0] * self.products
            self.pp_vals = [0.0] * self.products
        T = cfg.threads
        x_words = len(self.X.ptr) if algorithm in ("inner", "outer") else 1
        sizes = [len(A.ptr) * 8, len(A.idx) * 4, len(A.val) * 8, len(B.ptr) * 8,
                 len(B.idx) * 4, len(B.val) * 8, x_words * 8,
                 (len(self.X.idx) if x_words > 1 else 1) * 4,
                 (len(self.X.val) if x_words > 1 else 1) * 8,
                 self.cp[-1] * 4, self.cp[-1] * 8, self.products * 4, self.products * 8,
                 max(1, len(A.idx)) * 8, T * self.N * 16, T * self.N * ENTRY_BYTES]
        base, regions = 1 << 20, {}
        for name, nbytes in zip(REGIONS, sizes, strict=True):
            regions[name] = base
            base += (nbytes + 4095) // 4096 * 4096 + 4096
        self.mem = MemorySystem(cfg, regions)
        self.threads = [Thread(t, t // cfg.threads_per_core) for t in range(T)]
        self.next_token = 0      # the token counter
        self.phase = 0           # outer product: 0 offsets, 1 multiply, 2 merge
        self.pool = [cfg.pool_fragments] * cfg.cores   # v3: free fragments per core
        if algorithm in ("inner", "outer"):
            self.units, self.rows = [], []
        else:
            self.units, per_row = work_units(A, B, 0 if self.static else cfg.token_pps)
            self.rows = [RowState(u) for u in per_row]

    # ---------------------------------------------------------------- shared pieces
    def next_unit(self, th: Thread, now, n_units):
        """(unit or None, ready time): from the batch held, a dealt window, or a token."""
        cfg = self.cfg
        if th.batch_next < th.batch_end:
            th.batch_next += 1
            return th.batch_next - 1, now
        if self.static:
            start = th.window * cfg.window_rows
            if start >= n_units:
                return None, now
            th.window += len(self.threads)
            th.batch_next, th.batch_end = start + 1, min(start + cfg.window_rows, n_units)
            return start, now
        ready = self.mem.fetch_add(now)
        start = self.next_token
        if start >= n_units:
            return None, ready
        self.next_token = start + cfg.token_rows
        th.batch_next, th.batch_end = start + 1, min(start + cfg.token_rows, n_units)
        return start, ready

    def sort_slots(self, n):
        compares = n * ceil_log2(n)
        self.mem.stats["compares"] += compares
        return compares * self.cfg.compare_cycles

    def write_row(self, row, cols, vals):
        if len(cols) != self.cp[row + 1] - self.cp[row]:
            self.bad_rows += 1
        self.C_rows[row] = (list(cols), list(vals))

    def remote(self, core, other_core):
        return self.cfg.remote_atomic_latency if other_core != core else 0.0

    def hash_slot(self, col, bits):
        if self.cfg.hash_function == "fibonacci":
            return ((col * FIB) & MASK64) >> (64 - bits)
        return col & ((1 << bits) - 1)

    # ---------------------------------------------------------------- row-wise threads
    def rowwise(self, th: Thread):
        """SMASH v1/v2/v3 and the dense-accumulator baseline: take a row (or a token of a
        heavy row), fetch each A nonzero's B row, merge the products into the row owner's
        table, and (owner) write the row back once every token of it is done."""
        cfg, A, B, mem, t, core = self.cfg, self.A, self.B, self.mem, th.t, th.core
        now = yield
        while True:
            u, ready = self.next_unit(th, now, len(self.units))
            if u is None:
                yield 1, ready, DONE
                return
            row, j_first, j_end = self.units[u]
            rs = self.rows[row]
            done = mem.load(core, ready, "ap", row * 8, 16, False)
            if rs.owner is None:   # the first thread on the row owns its table
                rs.owner = th
                th.table = RowTable(u, cfg.hash_table_entries)
                if self.accumulator != "fragments":
                    rs.ready, rs.t_ready = True, done
                now = yield 3, done, OK
                if self.accumulator == "fragments":
                    now = yield from self.size_table(th, row, now)
            else:
                now = yield 3, done, OK
            owner = rs.owner
            table, o, o_core = owner.table, owner.t, owner.core
            for j in range(j_first, j_end):
                k = A.idx[j]
                t1 = max(mem.load(core, now, "ai", j * 4, 4, False),
                         mem.load(core, now, "ax", j * 8, 8, False))
                t2 = mem.load(core, t1, "bp", k * 8, 16, True)
                q, q_end = B.ptr[k], B.ptr[k + 1]
                t3 = t2
                if q_end > q:
                    t3 = max(mem.load(core, t2, "bi", q * 4, (q_end - q) * 4, True),
                             mem.load(core, t2, "bx", q * 8, (q_end - q) * 8, True))
                a = A.val[j]
                now = yield 5, t3, OK
                while q < q_end:   # products, step_pps per step, each waits for its atomic
                    if not rs.ready:   # the v3 owner is still sizing its table: spin
                        now = yield 1, now + cfg.remote_atomic_latency, OK
                        continue
                    stop = min(q_end, q + cfg.step_pps)
                    tdone = max(now, rs.t_ready) if o != t else now
                    if self.accumulator == "dense":
                        issue, tdone = self.dense_products(core, o, table, a, q, stop, tdone)
                    else:
                        issue, tdone = self.hash_products(core, o, o_core, table, a, q, stop,
                                                          tdone)
                    mem.stats["products"] += stop - q
                    q = stop
                    now = yield issue, tdone, OK
            now = yield 1, now, OK   # the step that finds the unit's end
            if rs.units > 1:         # count the token done at the owner's open-token counter
                rs.open -= 1
                mem.stats["atomics"] += 1
                fin = (mem.scratchpad(o_core, OPEN_TOKENS_WORD, now, cfg.atomic_cycles)
                       + self.remote(core, o_core))
                rs.t_last = max(rs.t_last, fin)
                if o != t:           # a helper is free again
                    now = yield 3, fin, OK
                    continue
                now = fin
                while rs.open > 0:   # the owner polls the counter in its own scratchpad
                    now = yield 1, now + cfg.poll_cycles, OK
                now = max(now, rs.t_last)
            now = yield self.write_back(th, row, now)

    def size_table(self, th: Thread, row, now):
        """v3 owner: bound the row's products, take enough fragments from the core's pool."""
        cfg, A, mem, core = self.cfg, self.A, self.mem, th.core
        frag = cfg.fragment_entries
        while True:
            j0, j1 = A.ptr[row], A.ptr[row + 1]
            t1 = mem.load(core, now, "ai", j0 * 4, (j1 - j0) * 4, False)
            done, bound = t1, 0
            for j in range(j0, j1):
                k = A.idx[j]
                bound += self.B_len[k]
                start = t1 + ((j - j0) // cfg.max_outstanding) * cfg.dram_latency
                done = max(done, mem.load(core, start, "bp", k * 8, 16, True))
            bound = min(bound, self.N)
            per_fragment = int(frag * cfg.max_load)
            need = (bound + per_fragment - 1) // max(1, per_fragment)
            n = 1
            while n < need and n < cfg.max_fragments:
                n *= 2
            while n > self.pool[core] and n > 1:
                n //= 2
            issue = 2 * (j1 - j0) + 4
            if self.pool[core] < n:   # pool empty: retry after a DRAM round trip
                mem.stats["pool_waits"] += 1
                now = yield issue, done + cfg.dram_latency, OK
                continue
            self.pool[core] -= n
            mem.stats["atomics"] += 1
            done = max(done, mem.scratchpad(core, POOL_WORD, done, cfg.atomic_cycles))
            th.table.slots, th.table.fragments = n * frag, n
            th.table.keys, th.table.vals = [EMPTY] * (n * frag), [0.0] * (n * frag)
            rs = self.rows[row]
            rs.ready, rs.t_ready = True, done
            return (yield issue, done, OK)

    def dense_products(self, core, o, table, a, q, stop, tdone):
        """Read-modify-write of the owner's dense accumulator entry (stamp + value) in DRAM."""
        cfg, mem, B = self.cfg, self.mem, self.B
        issue = 0
        for x in range(q, stop):
            col = B.idx[x]
            offset = (o * self.N + col) * 16
            t1 = mem.load(core, tdone + cfg.mul_cycles, "acc", offset, 16, cfg.dense_acc_cached,
                          "accumulator")
            mem.store(t1, "acc", offset, 16, "accumulator")
            table.add_overflow(col, a * B.val[x])
            tdone = t1 + 1
            issue += cfg.mul_cycles + 3
        return issue, tdone

    def hash_products(self, core, o, o_core, table, a, q, stop, tdone):
        """Hash each product's column into the owner's table with atomic compare-and-adds at
        the slot's bank (open addressing); a product that finds no room spills to DRAM."""
        cfg, mem, B = self.cfg, self.mem, self.B
        E = table.slots
        bits = ceil_log2(E)
        base = (o % cfg.threads_per_core) * self.max_table
        cap = int(E * cfg.max_load)
        far = self.remote(core, o_core)
        issue = 0
        for x in range(q, stop):
            col, v = B.idx[x], a * B.val[x]
            h = self.hash_slot(col, bits)
            probes, spilled = 0, False
            tdone = tdone + cfg.mul_cycles + cfg.hash_cycles
            while True:
                probes += 1
                tdone = mem.scratchpad(o_core, base + h, tdone, cfg.atomic_cycles) + far
                if table.keys[h] == col:
                    table.vals[h] += v
                    break
                if table.keys[h] == EMPTY:
                    if table.fill < cap:
                        table.keys[h], table.vals[h] = col, v
                        table.fill += 1
                        mem.stats["inserts"] += 1
                    else:
                        spilled = True
                    break
                if probes >= E:
                    spilled = True
                    break
                step = probes if cfg.collision_policy == "quadratic" else 1
                h = (h + step) & (E - 1)
            mem.stats["atomics"] += probes
            mem.stats["probes"] += probes
            mem.stats["collisions"] += probes > 1
            issue += cfg.mul_cycles + cfg.hash_cycles + probes
            if spilled:   # to the owner's DRAM overflow list
                mem.stats["spills"] += 1
                mem.store(tdone, "spill", (o * self.N + table.spills % self.N) * 16, 16,
                          "partial")
                table.spills += 1
                table.add_overflow(col, v)
                issue += 1
        return issue, tdone

    @property
    def max_table(self):
        """Scratchpad slots set aside per thread (v3: the largest fragment table)."""
        cfg = self.cfg
        if self.accumulator == "fragments":
            return cfg.fragment_entries * cfg.max_fragments
        return cfg.hash_table_entries

    def write_back(self, th: Thread, row, now):
        """The owner compacts its table into row ``row`` of C; one step."""
        cfg, mem, core, t = self.cfg, self.mem, th.core, th.t
        table = th.table
        issue, done = 2, now
        if self.accumulator == "dense":
            n = len(table.overflow)
            issue += n + (self.sort_slots(n) if cfg.sorted_output else 0)
            for x, col in enumerate(table.overflow):   # read back each touched entry
                done = max(done, mem.load(core, now + x, "acc", (t * self.N + col) * 16 + 8, 8,
                                          cfg.dense_acc_cached, "accumulator"))
            entries = table.overflow
        else:
            issue += table.slots // cfg.scan_slots_per_cycle
            live = [(table.keys[h], table.vals[h]) for h in range(table.slots)
                    if table.keys[h] != EMPTY]
            if table.spills == 0:   # the table holds the row
                entries = dict(live)
            else:                   # merge the table into the spilled products
                for col, v in live:
                    table.add_overflow(col, v)
                entries = table.overflow
                done = mem.load(core, now, "spill", t * self.N * 16,
                                min(table.spills, self.N) * 16, False, "partial")
                issue += table.spills + self.sort_slots(table.spills)
            if cfg.sorted_output:
                issue += self.sort_slots(len(entries))
            if self.accumulator == "fragments":   # give the fragments back to the pool
                self.pool[core] += table.fragments
                mem.stats["atomics"] += 1
                done = max(done, mem.scratchpad(core, POOL_WORD, now, cfg.atomic_cycles))
        cols = sorted(entries)
        self.write_row(row, cols, [entries[c] for c in cols])
        mem.store(done, "ci", self.cp[row] * 4, len(cols) * 4)
        mem.store(done, "cx", self.cp[row] * 8, len(cols) * 8)
        th.table = None
        return issue + 2, done, OK

    # ---------------------------------------------------------------- inner product
    def inner(self, th: Thread):
        """Take a row of A, then intersect it with every column of B (rows of X = B^T),
        ``step_columns`` dot products a step."""
        cfg, A, mem, core = self.cfg, self.A, self.mem, th.core
        now = yield
        while True:
            row, ready = self.next_unit(th, now, self.M)
            if row is None:
                yield 1, ready, DONE
                return
            t1 = mem.load(core, ready, "ap", row * 8, 16, False)
            j0, j1 = A.ptr[row], A.ptr[row + 1]
            done = max(mem.load(core, t1, "ai", j0 * 4, (j1 - j0) * 4, False),
                       mem.load(core, t1, "ax", j0 * 8, (j1 - j0) * 8, False))
            if j1 == j0:
                self.write_row(row, [], [])
                now = yield 4, done, OK
                continue
            now = yield 4, done, OK
            cols, vals = [], []
            first = 0
            while True:
                stop = min(self.N, first + cfg.step_columns)
                issue, done = self.dot_products(core, row, first, stop, cols, vals, now)
                first = stop
                if stop == self.N:
                    self.write_row(row, cols, vals)
                    now = yield issue, done, OK
                    break
                now = yield issue, done, OK

    def dot_products(self, core, row, first, stop, cols, vals, now):
        cfg, A, X, mem = self.cfg, self.A, self.X, self.mem
        done, issue = now, 0
        for j in range(first, stop):
            t1 = mem.load(core, done, "xp", j * 8, 16, True)
            q0, q1 = X.ptr[j], X.ptr[j + 1]
            issue += 3
            done = t1
            if q1 == q0:
                continue
            t2 = mem.load(core, t1, "xi", q0 * 4, (q1 - q0) * 4, True)
            a, b, a_end = A.ptr[row], q0, A.ptr[row + 1]
            compares, hits, s = 0, 0, 0.0
            while a < a_end and b < q1:   # two-pointer merge of the sorted index lists
                compares += 1
                if A.idx[a] == X.idx[b]:
                    s += A.val[a] * X.val[b]
                    hits += 1
                    a += 1
                    b += 1
                elif A.idx[a] < X.idx[b]:
                    a += 1
                else:
                    b += 1
            mem.stats["compares"] += compares
            issue += compares * cfg.compare_cycles + hits * cfg.mul_cycles
            done = t2 + compares * cfg.compare_cycles
            if hits:
                done = max(done, mem.load(core, t2, "xx", q0 * 8, (q1 - q0) * 8, True))
                mem.stats["products"] += hits
                n = len(cols)
                cols.append(j)
                vals.append(s)
                mem.store(done, "ci", (self.cp[row] + n) * 4, 4)
                mem.store(done, "cx", (self.cp[row] + n) * 8, 8)
        return issue, done

    # ---------------------------------------------------------------- outer product
    def outer(self, th: Thread):
        """OuterSPACE style, three phases with a barrier between them: chunk offsets;
        column k of A times row k of B into partial products in DRAM; per row of C, read
        its chunks back, sort and merge."""
        cfg, B, X, mem, core = self.cfg, self.B, self.X, self.mem, th.core
        K = len(X.ptr) - 1
        now = yield
        for phase in (0, 1):
            while True:
                k, ready = self.next_unit(th, now, K)
                if k is None:
                    now = yield 1, ready, BARRIER
                    th.window, th.batch_next, th.batch_end = th.t, 0, 0   # a fresh deal
                    break
                t1 = max(mem.load(core, ready, "xp", k * 8, 16, True),
                         mem.load(core, ready, "bp", k * 8, 16, True))
                p0, p1 = X.ptr[k], X.ptr[k + 1]
                lb = self.B_len[k]
                if phase == 0:   # per nonzero of column k: its chunk's offset
                    mem.store(t1, "off", p0 * 8, (p1 - p0) * 8)
                    now = yield 4 + 2 * (p1 - p0), t1, OK
                    continue
                if p1 == p0 or lb == 0:
                    now = yield 4, t1, OK
                    continue
                # row k of B streamed once (uncached)
                q0 = B.ptr[k]
                t2 = max(mem.load(core, t1, "bi", q0 * 4, lb * 4, False),
                         mem.load(core, t1, "bx", q0 * 8, lb * 8, False))
                now = yield 6, t2, OK
                for p in range(p0, p1):   # one chunk A[i,k] * B[k,:] a step
                    t1 = max(mem.load(core, now, "xi", p * 4, 4, False),
                             mem.load(core, now, "xx", p * 8, 8, False),
                             mem.load(core, now, "off", p * 8, 8, False))
                    o = self.chunk_at[p]
                    for x in range(lb):
                        self.pp_cols[o + x] = B.idx[q0 + x]
                        self.pp_vals[o + x] = X.val[p] * B.val[q0 + x]
                    mem.stats["products"] += lb
                    done = t1 + lb * cfg.mul_cycles
                    mem.store(done, "ppi", o * 4, lb * 4, "partial")
                    mem.store(done, "ppx", o * 8, lb * 8, "partial")
                    now = yield 3 + lb * cfg.mul_cycles + 2, done, OK
        while True:
            row, ready = self.next_unit(th, now, self.M)
            if row is None:
                yield 1, ready, DONE
                return
            now = yield self.merge_row(core, row, ready)

    def merge_row(self, core, row, ready):
        cfg, A, mem = self.cfg, self.A, self.mem
        t1 = mem.load(core, ready, "ap", row * 8, 16, False)
        j0, j1 = A.ptr[row], A.ptr[row + 1]
        t2 = mem.load(core, t1, "ai", j0 * 4, (j1 - j0) * 4, False)
        done, products = t2, []
        for j in range(j0, j1):
            lb = self.B_len[A.idx[j]]
            p = self.X_of_A[j]
            o = self.chunk_at[p]
            start = t2 + ((j - j0) // cfg.max_outstanding) * cfg.dram_latency
            t3 = mem.load(core, start, "off", p * 8, 8, False)
            done = max(done, mem.load(core, t3, "ppi", o * 4, lb * 4, False, "partial"),
                       mem.load(core, t3, "ppx", o * 8, lb * 8, False, "partial"))
            products += zip(self.pp_cols[o:o + lb], self.pp_vals[o:o + lb], strict=True)
        total = len(products)
        issue = 6 + 2 * (j1 - j0) + self.sort_slots(total) + total * cfg.compare_cycles
        mem.stats["compares"] += total
        merged = {}
        for col, v in sorted(products, key=lambda cv: cv[0]):   # stable: sums in list order
            if col in merged:
                merged[col] += v
            else:
                merged[col] = v
        self.write_row(row, list(merged), list(merged.values()))
        done = done + issue
        mem.store(done, "ci", self.cp[row] * 4, len(merged) * 4)
        mem.store(done, "cx", self.cp[row] * 8, len(merged) * 8)
        return issue, done, OK

    # ---------------------------------------------------------------- scheduler
    def run(self):
        """Issue every thread's steps on its pipeline until all are done."""
        cfg = self.cfg
        program = {"inner": self.inner, "outer": self.outer}.get(self.algorithm, self.rowwise)
        T = len(self.threads)
        programs = []
        for th in self.threads:
            g = program(th)
            next(g)   # to its first ``now = yield``
            programs.append(g)
        pipes = []    # (first thread, threads): multi-threaded pipelines, then single-threaded
        for c in range(cfg.cores):
            first = c * cfg.threads_per_core
            pipes += [(first + m * cfg.threads_per_pipeline, cfg.threads_per_pipeline)
                      for m in range(cfg.mt_pipelines)]
            pipes += [(first + cfg.mt_pipelines * cfg.threads_per_pipeline + s, 1)
                      for s in range(cfg.st_pipelines)]
        inf = 1e300
        ready, finish = [0.0] * T, [0.0] * T
        owed, owed_ready, owed_code = [0] * T, [0.0] * T, [OK] * T
        alive, waiting = [True] * T, [False] * T
        self.thread_work = [0] * T
        self.busy = [0] * len(pipes)
        clock = [0.0] * len(pipes)
        next_rr = [f for f, _ in pipes]
        n_alive, n_waiting, last_arrival = T, 0, 0.0
        horizon = 0.0
        self.steps = 0
        cap = cfg.step_slots
        while n_alive > 0:
            horizon += cfg.sync_quantum
            for p, (f, n) in enumerate(pipes):
                while clock[p] < horizon:
                    chosen, soonest = None, inf
                    for s in range(n):   # round-robin from the thread after the last issued
                        t = f + (next_rr[p] - f + s) % n
                        if not alive[t]:
                            continue
                        if ready[t] <= clock[p]:
                            chosen = t
                            break
                        soonest = min(soonest, ready[t])
                    if chosen is None:
                        if soonest >= inf:
                            clock[p] = inf
                            break
                        clock[p] = soonest   # idle until a thread's data returns
                        continue
                    t = chosen
                    next_rr[p] = f + (t - f + 1) % n
                    now = clock[p]
                    if owed[t] > 0:   # the next piece of a long step
                        issue = min(owed[t], cap)
                        owed[t] -= issue
                        rdy, code = (owed_ready[t], owed_code[t]) if owed[t] == 0 else (now, OK)
                    else:
                        issue, rdy, code = programs[t].send(now)
                        self.steps += 1
                        self.thread_work[t] += issue
                        if issue > cap:
                            owed[t], owed_ready[t], owed_code[t] = issue - cap, rdy, code
                            issue, rdy, code = cap, now, OK
                    cycles = (issue + cfg.issue_width - 1) // cfg.issue_width
                    self.busy[p] += cycles
                    clock[p] = now + cycles
                    ready[t] = max(rdy, clock[p])
                    if code == DONE:
                        alive[t] = False
                        n_alive -= 1
                        finish[t] = ready[t]
                    elif code == BARRIER:
                        waiting[t] = True
                        ready[t] = inf
                        n_waiting += 1
                        last_arrival = max(last_arrival, clock[p])
                    if n_waiting > 0 and n_waiting == n_alive:   # all arrived: next phase
                        release = last_arrival + cfg.remote_atomic_latency
                        for u in range(T):
                            if waiting[u]:
                                waiting[u] = False
                                ready[u] = release
                        n_waiting, last_arrival = 0, 0.0
                        self.next_token = 0
                        self.phase += 1
                        clock[:] = [release if c >= inf else c for c in clock]
        self.thread_finish = finish


def simulate_reference(a: Unstructured, b: Unstructured, config: PiumaConfig,
                       algorithm: str = "smash-v1", name: str = "spgemm") -> Result:
    """``model.simulate_spgemm`` on the plain-Python engine (small inputs only)."""
    if algorithm not in ALGORITHMS:
        raise WorkloadError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    config.validate()
    check_csr(a, "A")
    check_csr(b, "B")
    if a.shape[1] != b.shape[0]:
        raise WorkloadError(f"inner dimensions differ: A is {a.shape}, B is {b.shape}")
    if a.nnz + b.nnz > MAX_REFERENCE_NNZ:
        raise WorkloadError(f"the reference engine is for small inputs: {a.nnz + b.nnz} "
                            f"nonzeros > {MAX_REFERENCE_NNZ}")
    t0 = time.perf_counter()
    eng = Engine(Csr.of(a), Csr.of(b), config, algorithm)
    eng.run()
    M, N = eng.M, eng.N
    rows = [r if r is not None else ([], []) for r in eng.C_rows]
    C = sp.csr_matrix(([v for _, vals in rows for v in vals], [c for cols, _ in rows for c in cols],
                       np.cumsum([0] + [len(cols) for cols, _ in rows])), shape=(M, N))
    ref = a.to_scipy().astype(np.float64) @ b.to_scipy().astype(np.float64)
    ref.sort_indices()
    correct = (eng.bad_rows == 0 and all(r is not None for r in eng.C_rows) and _same(C, ref))
    st = eng.mem.stats
    cycles = math.ceil(max(eng.thread_finish)) if eng.thread_finish else 0
    return Result(
        algorithm=algorithm, workload=name, config=config_dict(config), cycles=cycles,
        seconds=cycles / (config.clock_ghz * 1e9), flops=2 * eng.products,
        partial_products=st["products"], partial_product_bytes=st["partial"],
        accumulator_bytes=st["accumulator"], dram_bytes_read=st["read"],
        dram_bytes_written=st["written"], hash_probes=st["probes"],
        hash_collisions=st["collisions"], hash_spills=st["spills"], atomics=st["atomics"],
        bank_wait_cycles=st["bank_wait"], cache_hits=st["hits"], cache_misses=st["misses"],
        tokens=st["tokens"], thread_work=np.asarray(eng.thread_work, np.int64),
        thread_finish=np.asarray(eng.thread_finish, np.float64),
        pipeline_utilisation=sum(eng.busy) / (len(eng.busy) * cycles) if cycles else 0.0,
        correct=correct, nnz_c=eng.cp[-1], engine_steps=eng.steps,
        sim_wall_s=time.perf_counter() - t0, C=C)
