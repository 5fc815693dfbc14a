"""Memory system of the PIUMA engine: DRAM channels of 8-byte words, per-core caches,
scratchpad banks, all booked in time buckets (``reserve``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.piuma._constants import (
    BANK_BUCKET,
    DRAM_BUCKET,
    INTERNAL,
    K_ACC,
    K_PP,
    READ,
    RING_BANK,
    RING_DRAM,
    S_ACCB,
    S_BANKWAIT,
    S_HIT,
    S_MISS,
    S_PPB,
    S_RB,
    S_WB,
    WRITE,
)


# =========================================== memory system ==================================
@njit(cache=True, _nrt=False, inline="always")
def mod(x, m):
    """x % m for x >= 0: a mask when m is a power of two (the usual bank and channel
    counts), sparing the integer division on the path every hash probe takes."""
    if m & (m - 1) == 0:
        return x & (m - 1)
    return x % m


@njit(cache=True, _nrt=False, inline="always")
def reserve(used, epoch, row0, r, S, t, busy, bw):
    """Book ``busy`` cycles of resource r at time t; returns when the booking completes.

    Each resource keeps a ring of ``S`` time buckets of ``bw`` cycles with the busy time
    already booked in each.  A request fills its bucket and spills into later ones when
    full, so requests that arrive out of time order (lax synchronisation, look-ahead chains)
    queue only behind work booked in the *same* time window, never behind far-future
    bookings.  Bucket s of resource r is ``[row0 + s, r]``: the resources of a group (a
    core's banks, the DRAM channels) sit side by side per bucket, so a thread's chain of
    bookings, which walks forward in time over a few of them, walks forward in memory
    (resource-major, each resource's current bucket sat a whole ring apart, on the same
    host cache set as every other's)."""
    b = np.int64(t / bw)  # t >= 0: truncation is the floor, without a float-modulo call
    left = busy
    first = True
    while True:
        s = row0 + (b & (S - 1))
        if epoch[s, r] != b:
            if epoch[s, r] > b:  # beyond the ring's look-back: no contention recorded
                return t + busy
            epoch[s, r] = b
            used[s, r] = 0.0
        avail = bw - used[s, r]
        if avail >= left:
            used[s, r] += left
            if first:
                return t + busy
            return max(t + busy, b * bw + used[s, r])
        if avail > 0:
            used[s, r] = bw
            left -= avail
        b += 1
        first = False


# A scratchpad bank's booking ring holds whole cycles: each slot packs the bucket it holds
# and the cycles booked in it as ``bucket << BANK_USED_BITS | used``, one word where
# ``reserve`` keeps two arrays.  Bank bookings are atomics of ``atomic_cycles`` (an integer)
# in buckets of BANK_BUCKET (4) cycles, so ``used`` is a whole number <= 4 and both forms
# give the same times, bit for bit; the packed one reads one host cache line a booking,
# where the probe loop makes ~1 booking per partial product.
BANK_USED_BITS = 4
assert BANK_BUCKET < 1 << BANK_USED_BITS, "a bank bucket's cycles must fit the packed field"


@njit(cache=True, _nrt=False, inline="always")
def reserve_bank(ring, row0, r, t, busy):
    """``reserve`` of bank r's ring (rows ``row0`` ...) in the packed form above.  The usual
    case, a booking that fits the bucket it arrives in, takes one test: whether the slot
    still holds an older bucket is a select, not a branch of its own (a probe walk books a
    new slot at each probe; rmat:14 smash-v1 ran at 0.94-0.99x the time, 4 interleaved
    pairs).  Anything else walks the buckets (``_reserve_bank_walk``)."""
    b = np.int64(t / BANK_BUCKET)
    s = row0 + (b & (RING_BANK - 1))
    v = ring[s, r]
    held = v >> BANK_USED_BITS
    used = (v & ((1 << BANK_USED_BITS) - 1)) if held == b else 0
    if held <= b and used + busy <= BANK_BUCKET:
        ring[s, r] = (b << BANK_USED_BITS) | (used + busy)
        return t + busy
    return _reserve_bank_walk(ring, row0, r, t, busy)


@njit(cache=True, _nrt=False)
def _reserve_bank_walk(ring, row0, r, t, busy):
    """``reserve_bank`` of a booking that does not fit its bucket (or meets a slot beyond
    the ring's look-back): bucket by bucket, as ``reserve``."""
    bw = np.int64(BANK_BUCKET)
    b = np.int64(t / BANK_BUCKET)
    left = np.int64(busy)
    first = True
    while True:
        s = row0 + (b & (RING_BANK - 1))
        v = ring[s, r]
        held = v >> BANK_USED_BITS
        if held != b:
            if held > b:  # beyond the ring's look-back: no contention recorded
                return t + busy
            v = b << BANK_USED_BITS
        used = v & ((1 << BANK_USED_BITS) - 1)
        avail = bw - used
        if avail >= left:
            ring[s, r] = v + left
            if first:
                return t + busy
            return max(t + busy, b * BANK_BUCKET + np.float64(used + left))
        if avail > 0:
            ring[s, r] = (b << BANK_USED_BITS) | bw
            left -= avail
        b += 1
        first = False


@njit(cache=True, _nrt=False)
def dram(now, addr, nbytes, is_write, kind, P, port):
    """Serve one contiguous request of 8-byte words; returns its completion time."""
    return transfer(now, addr, nbytes, is_write, kind, P, port)


@njit(cache=True, _nrt=False, inline="always")
def transfer(now, addr, nbytes, is_write, kind, P, port):
    """``dram``'s body, inlined where a loop makes one request per partial product (a
    spill) or per cache line or round (``load``, ``store``): a call passes the port's four
    arrays by value, ~40 words pushed a request."""
    st = port.stats
    w0 = addr >> 3
    w1 = (addr + nbytes + 7) >> 3
    inter = P.dram_interleave_bytes >> 3
    shift = P.dram_interleave_shift
    nch = P.dram_channels
    cpw = P.dram_cycles_per_word
    done = now
    w = w0
    while w < w1:  # split at channel-interleave boundaries
        g = w >> shift if shift >= 0 else w // inter   # w >= 0: a shift when inter is 2^shift
        wend = min(w1, (g + 1) * inter)
        ch = mod(g, nch)
        fin = reserve(port.used, port.epoch, 0, ch, RING_DRAM, now, (wend - w) * cpw, DRAM_BUCKET)
        done = max(done, fin + P.dram_latency)
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
def load(core, now, addr, nbytes, cached, kind, P, port):
    """Load [addr, addr+nbytes); cached loads go through the core's direct-mapped cache."""
    if nbytes <= 0:
        return now
    outst = P.max_outstanding
    rtt = P.dram_latency
    if not cached:
        words = ((addr + nbytes + 7) >> 3) - (addr >> 3)
        rounds = (words + outst - 1) // outst
        done = now
        per = outst * 8
        for r in range(rounds):  # each round: up to max_outstanding words in flight
            a = (addr & ~np.int64(7)) + r * per
            nb = min(per, (words - r * outst) * 8)
            done = max(done, transfer(now + r * rtt, a, nb, READ, kind, P, port))
        return done
    tags = port.tags
    st = port.stats
    line = P.cache_line_bytes
    sets = P.cache_sets
    done = now + P.cache_latency
    first = addr // line
    last = (addr + nbytes - 1) // line
    # a line a step, with no division: the set is a mask when ``sets`` is a power of two,
    # and the misses' round (misses // outst) a counter
    rounds = 0
    in_round = 0
    for ln in range(first, last + 1):
        s = mod(ln, sets)
        if tags[core, s] == ln:
            st[S_HIT] += 1
        else:
            tags[core, s] = ln
            t0 = now + P.cache_latency + rounds * rtt
            done = max(done, transfer(t0, ln * line, line, READ, kind, P, port))
            in_round += 1
            if in_round == outst:
                rounds += 1
                in_round = 0
            st[S_MISS] += 1
    return done


@njit(cache=True, _nrt=False, **INTERNAL)
def store(now, addr, nbytes, kind, P, port):
    """Posted store of the 8-byte words touched (write-through, no allocate)."""
    if nbytes > 0:
        transfer(now, addr, nbytes, WRITE, kind, P, port)


@njit(cache=True, _nrt=False, inline="always")
def spad(core, word, now, occupancy, P, mem):
    """One scratchpad access at the bank of ``word``; conflicting accesses serialise."""
    nb = P.spad_banks
    fin = reserve_bank(mem.banks, core * RING_BANK, mod(word, nb), now, occupancy)
    mem.stats[S_BANKWAIT] += np.int64(fin - now - occupancy)
    return fin - occupancy + P.spad_latency
