"""PIUMA at graph scale: the pieces that keep memory proportional to the machine's working
set (symbolic pass, accumulator lists, sampled check) against NumPy/SciPy."""

from __future__ import annotations

import numpy as np
import pytest

from accel.arch.piuma import model
from accel.arch.piuma._acclist import (
    MIN_ARENA,
    acc_append,
    acc_grow,
    acc_merge,
    acc_release,
    acc_room,
)
from accel.arch.piuma._symbolic import row_counts
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.state import SHARED, Arena, new_threads
from accel.workloads.graphs import rmat


@pytest.mark.parametrize("split_from", [1 << 40, 1])   # one host thread / two (halves)
def test_row_counts_equal_scipy_pattern_and_products(monkeypatch, split_from):
    from accel.arch.piuma import _symbolic

    monkeypatch.setattr(_symbolic, "SPLIT_FROM", split_from)
    monkeypatch.setattr(_symbolic, "host_cores", lambda: 2)
    g = rmat(8, 8, seed=2).to_scipy()
    ap, ai = g.indptr.astype(np.int64), g.indices.astype(np.int64)
    cp, pp = row_counts(ap, ai, ap, ai, g.shape[1])
    pat = (g.astype(bool).astype(np.int64) @ g.astype(bool).astype(np.int64)).tocsr()
    assert np.array_equal(cp, pat.indptr)
    blen = np.diff(ap)
    assert np.array_equal(pp, np.array([blen[ai[ap[i]:ap[i + 1]]].sum()
                                        for i in range(g.shape[0])]))


def test_acc_merge_sums_in_arrival_order_and_keeps_first_touch():
    rng = np.random.default_rng(5)
    cols = rng.integers(0, 50, 400).astype(np.int64)
    vals = rng.uniform(-1, 1, 400)
    ucols, usums, touch = acc_merge(cols, vals)
    assert np.array_equal(ucols, np.unique(cols))
    for c, s in zip(ucols, usums, strict=True):
        acc = 0.0
        first = True
        for x in np.nonzero(cols == c)[0]:   # the dense accumulator's order, bit for bit
            acc = vals[x] if first else acc + vals[x]
            first = False
        assert s == acc
    _, idx = np.unique(cols, return_index=True)
    assert np.array_equal(touch, cols[np.sort(idx)])


def _arena():
    return Arena(np.empty(0, np.int64), np.empty(0))


def _dense(seq):
    """What a dense accumulator makes of the (col, value) sequence: per-column sums in
    arrival order and the columns in first-touch order."""
    sums, touch = {}, []
    for c, v in seq:
        if c in sums:
            sums[c] = sums[c] + v
        else:
            sums[c] = v
            touch.append(c)
    return sums, touch


@pytest.mark.parametrize("n_cols", [10**6, 300])   # few repeats (lists move) / many (merged)
def test_acc_room_keeps_every_lists_sums_and_first_touch_order(n_cols):
    threads = new_threads(6)
    shared = np.zeros((), SHARED)
    tab = _arena()
    seqs = {t: [] for t in range(6)}
    rng = np.random.default_rng(1)
    widest = 0
    for step in range(300):   # lists grow, move, merge and are released in random order
        t = int(rng.integers(0, 6))
        if step % 37 == 36:
            acc_release(t, threads)
            seqs[t] = []
            continue
        n = int(rng.integers(1, 900))
        if not acc_room(t, n, threads, tab, shared[()]):   # the arena is full: a new one
            tab = acc_grow(t, n, threads, tab, shared)
        for _ in range(n):
            c, v = int(rng.integers(0, n_cols)), float(rng.uniform(-1, 1))
            acc_append(t, c, v, tab, threads)
            seqs[t].append((c, v))
        widest = max(widest, threads[t]["acc_cap"])
    for t in range(6):
        b, n = threads[t]["acc_base"], threads[t]["acc_len"]
        assert n <= threads[t]["acc_cap"]
        cols, sums, touch = acc_merge(tab.acc_c[b:b + n].copy(), tab.acc_v[b:b + n].copy())
        want, want_touch = _dense(seqs[t])
        assert list(cols) == sorted(want) and list(touch) == want_touch
        assert list(sums) == [want[c] for c in cols]   # bit for bit
    if n_cols == 10**6:
        assert tab.acc_c.size > MIN_ARENA   # it had to grow and compact the arena
    else:
        assert widest <= 4 * (n_cols + 900)  # merged: bounded by the distinct columns
    # live lists never overlap
    spans = sorted((threads[t]["acc_base"], threads[t]["acc_cap"]) for t in range(6)
                   if threads[t]["acc_cap"])
    assert all(b0 + c0 <= b1 for (b0, c0), (b1, _) in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("algo", ["smash-v1", "gustavson-dense", "outer"])
def test_sampled_check_times_the_same_and_still_checks(monkeypatch, algo):
    """A C too large to hold is checked on sampled rows; the timing does not depend on it."""
    g = rmat(8, 16, seed=1)
    full = model.simulate_spgemm(g, g, PRESETS["piuma"], algo)
    monkeypatch.setattr(model, "FULL_CHECK_ENTRIES", 0)
    monkeypatch.setattr(model, "SAMPLE_RANDOM", 20)
    part = model.simulate_spgemm(g, g, PRESETS["piuma"], algo)
    assert part.cycles == full.cycles and part.correct and full.correct
    assert part.C is None and full.C is not None
    assert 0 < part.checked_rows < full.checked_rows == g.shape[0]


def test_sampled_check_fails_on_a_wrong_row(monkeypatch):
    """The sample really is compared: a reference that differs in one kept row fails it."""
    g = rmat(7, 8, seed=1)
    monkeypatch.setattr(model, "FULL_CHECK_ENTRIES", 0)
    real = model._same

    def skewed(c, ref):
        ref = ref.copy()
        ref.data[0] += 1.0
        return real(c, ref)

    monkeypatch.setattr(model, "_same", skewed)
    assert not model.simulate_spgemm(g, g, PRESETS["piuma"], "smash-v1").correct


@pytest.mark.parametrize("algo", ["smash-v1", "smash-v3"])
def test_rows_not_kept_count_the_same_with_spills(monkeypatch, algo):
    """A row the host does not keep is counted, not built (table keys + distinct spilled
    columns): with small tables that spill, every statistic equals the run that keeps all."""
    from dataclasses import replace

    cfg = replace(PRESETS["piuma"], hash_table_entries=32, fragment_entries=16, max_fragments=2)
    g = rmat(8, 16, seed=3)
    full = model.simulate_spgemm(g, g, cfg, algo)
    assert full.hash_spills > 1000 and full.correct
    monkeypatch.setattr(model, "FULL_CHECK_ENTRIES", 0)
    monkeypatch.setattr(model, "SAMPLE_RANDOM", 20)
    part = model.simulate_spgemm(g, g, cfg, algo)
    assert part.correct and part.checked_rows < g.shape[0]
    assert part.to_dict() | {"sim_wall_s": 0, "checked_rows": 0} == \
        full.to_dict() | {"sim_wall_s": 0, "checked_rows": 0}


@pytest.mark.parametrize("n", [0, 1, 7, 64, 65, 3000])
@pytest.mark.parametrize("hi", [1, 5, 2**11, 2**11 + 3, 2**31 - 1])
def test_stable_argsort_is_numpys_stable_argsort(n, hi):
    """The engine's one sort (insertion below RADIX_MIN keys, LSD radix above) gives the
    unique stable order: ties (hi=1, 5) keep their input order, one and several digits."""
    from accel.arch.piuma._work import stable_argsort

    keys = np.random.default_rng(n + hi).integers(0, hi, n).astype(np.int64) - (hi > 4) * 3
    assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))


def test_host_malloc_tuning_is_taken_once_per_process():
    """glibc takes the allocator thresholds, once per process (simulate_spgemm sets them);
    the runs under them are checked against SciPy and the goldens as every run is."""
    import platform

    from accel.arch.piuma import host_malloc

    g = rmat(7, 8, seed=4)
    r = model.simulate_spgemm(g, g, PRESETS["piuma"], "smash-v1")
    assert r.correct
    ok = host_malloc.tune()
    assert ok or platform.libc_ver()[0] != "glibc"
    assert host_malloc.tune() is ok and host_malloc.tune.cache_info().misses == 1
    from numpy._core import multiarray
    assert multiarray._get_madvise_hugepage() is False   # NumPy's huge-page request is off
