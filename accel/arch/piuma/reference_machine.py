"""Parts of the plain-Python reference machine (``reference.py``): time-bucket booking,
the memory system, CSR operands as lists, the state of a thread, a row and a row's table,
and the cutting of rows into work units."""

from __future__ import annotations

from collections import Counter

from accel.arch.piuma.config import PiumaConfig
from accel.workloads.formats import Unstructured

OK, DONE, BARRIER = "ok", "done", "barrier"   # how a step ends
EMPTY = -1
DRAM_BUCKET, BANK_BUCKET = 16.0, 4.0          # cycles per booking bucket (see BookingRing)
RING_DRAM, RING_BANK = 1 << 16, 1 << 10       # buckets a resource remembers
POOL_WORD, OPEN_TOKENS_WORD = 0, 1            # scratchpad words of a core's shared counters


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
