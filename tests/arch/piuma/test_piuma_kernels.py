"""Engine pieces of the PIUMA model against plain-NumPy/Python references."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.piuma import _constants as K
from accel.arch.piuma._memory import dram, load, reserve, reserve_bank
from accel.arch.piuma._rowwise import hash_slot
from accel.arch.piuma.kernel_inputs import interleave_shift
from accel.arch.piuma.state import HASH_FIBONACCI, HASH_MODULO, PARAMS, DramPort


def _ring(n=1, slots=1 << 10):
    """A booking ring of n resources, bucket-major as the engine's (``reserve``)."""
    return np.zeros((slots, n)), np.full((slots, n), -1, np.int64)


def _mem(channels, stats, tags=None):
    """The DRAM port of ``channels`` channels around ``stats``."""
    tags = np.full((1, 1), -1, np.int64) if tags is None else tags
    return DramPort(tags, *_ring(channels, K.RING_DRAM), stats)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 40)), min_size=1, max_size=30))
def test_reserve_in_order_equals_next_free_time_queue(reqs):
    """Requests in time order: bucket booking == a FIFO server, to within one bucket."""
    used, epoch = _ring()
    free = 0.0
    t = 0.0
    bw = 4.0
    for gap, busy in reqs:
        t += gap
        fin = reserve(used, epoch, 0, 0, 1 << 10, t, float(busy), bw)
        start = max(t, free)
        free = start + busy
        assert fin >= t + busy
        assert fin <= free + bw  # never later than the FIFO queue plus one bucket
    # total booked busy time is conserved
    assert used[:, 0].sum() == sum(b for _, b in reqs)


def test_reserve_saturated_resource_serialises():
    used, epoch = _ring()
    fins = [reserve(used, epoch, 0, 0, 1 << 10, 0.0, 2.0, 4.0) for _ in range(8)]
    # 2 fit in the first bucket; the rest queue one bucket per 2 requests
    assert fins[:2] == [2.0, 2.0]
    assert fins[-1] == 16.0


def _params(**fields):
    """A ``state.PARAMS`` record with the given fields set (the rest zero, but the
    interleave shift, which ``params_record`` derives from the granule)."""
    P = np.zeros((), PARAMS)
    for name, v in fields.items():
        P[name] = v
    P["dram_interleave_shift"] = interleave_shift(int(P["dram_interleave_bytes"]))
    return P[()]


def test_hash_slot_matches_numpy():
    P = _params(hash_function=HASH_FIBONACCI)
    cols = np.arange(0, 5000, 7, dtype=np.int64)
    bits = 10
    fib = (cols.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)
    assert all(hash_slot(c, bits, P) == int(f) for c, f in zip(cols, fib, strict=True))
    P = _params(hash_function=HASH_MODULO)
    assert all(hash_slot(c, bits, P) == c % 1024 for c in cols)


def test_dram_words_and_channel_bandwidth():
    P = _params(dram_interleave_bytes=256, dram_channels=2, dram_cycles_per_word=0.5,
                dram_latency=100)
    st_ = np.zeros(K.N_STATS, np.int64)
    # 12 bytes at offset 4 touch two 8-byte words: 16 bytes moved
    done = dram(0.0, 1 << 20 | 4, 12, False, K.K_NONE, P, _mem(2, st_))
    assert st_[K.S_RB] == 16 and done == 100 + 2 * 0.5
    # a 1 KB read spans 4 interleave granules over 2 channels: 64 words per channel
    st_[:] = 0
    done = dram(1000.0, 1 << 21, 1024, True, K.K_PP, P, _mem(2, st_))
    assert st_[K.S_WB] == 1024 and st_[K.S_PPB] == 1024
    # 64 words x 0.5 cycles per channel, to within one booking bucket
    assert abs(done - (1000 + 64 * 0.5 + 100)) <= K.DRAM_BUCKET


def test_cached_load_hits_after_miss():
    P = _params(dram_interleave_bytes=256, dram_channels=1, dram_cycles_per_word=1.0,
                dram_latency=100, cache_sets=16, cache_line_bytes=64, cache_latency=3,
                max_outstanding=4)
    tags = np.full((1, 16), -1, np.int64)
    st_ = np.zeros(K.N_STATS, np.int64)
    d = _mem(1, st_, tags)
    t1 = load(0, 0.0, 4096, 8, True, K.K_NONE, P, d)
    assert st_[K.S_MISS] == 1 and st_[K.S_RB] == 64 and t1 > 100
    t2 = load(0, 500.0, 4100, 4, True, K.K_NONE, P, d)
    assert st_[K.S_HIT] == 1 and t2 == 503.0
    # uncached: only the touched words move, 4 outstanding per round trip
    st_[:] = 0
    t3 = load(0, 1000.0, 8192, 64, False, K.K_NONE, P, d)
    assert st_[K.S_RB] == 64 and t3 >= 1000 + 2 * 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20_000, allow_nan=False), st.integers(1, 9),
                          st.integers(0, 2)), min_size=1, max_size=60))
def test_packed_bank_ring_books_as_reserve_does(reqs):
    """``reserve_bank`` (one packed word per slot) gives ``reserve``'s times, bit for bit,
    for whole-cycle bookings in any time order, on any of a core's banks, past the ring's
    look-back too (times up to 5x its 4,096 cycles)."""
    used, epoch = _ring(3, K.RING_BANK)
    packed = np.full((2 * K.RING_BANK, 3), -1, np.int64)   # two cores' rows; core 1's used
    for t, busy, r in reqs:
        want = reserve(used, epoch, 0, r, K.RING_BANK, t, busy, K.BANK_BUCKET)
        assert reserve_bank(packed, K.RING_BANK, r, t, busy) == want
    assert (packed[:K.RING_BANK] == -1).all()   # core 0's rows untouched
