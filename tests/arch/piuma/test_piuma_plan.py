"""Planned rows (``_rowplan``): a row's table work done on the host before the row is timed
gives the run of the table path, cycle for cycle and bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.piuma._rowplan import PLAN_MAX, put_record, record, record_words, sort_pairs
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import simulate_spgemm
from accel.arch.piuma.reference import simulate_reference
from accel.workloads.graphs import rmat

# v1 and whole-row v2 plan their rows; tiny tables make most products spill and collide
CASES = {
    "v1": ("smash-v1", {}),
    "v1-tiny-quadratic": ("smash-v1", dict(hash_table_entries=16, max_load=0.5,
                                           collision_policy="quadratic")),
    "v1-full-modulo-sorted": ("smash-v1", dict(hash_table_entries=32, max_load=1.0,
                                               hash_function="modulo", sorted_output=True)),
    "v2-whole-rows": ("smash-v2", dict(token_pps=0, hash_table_entries=64)),
}


def _same(a, b):
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("sim_wall_s")
    assert da == db
    assert np.array_equal(a.thread_work, b.thread_work)
    assert np.array_equal(a.thread_finish, b.thread_finish)
    for x, y in ((a.C.indptr, b.C.indptr), (a.C.indices, b.C.indices), (a.C.data, b.C.data)):
        assert np.array_equal(x, y)


@pytest.fixture(scope="module")
def graph():
    return rmat(8, 8, seed=5)


def _mid(graph):
    """A limit that plans some rows of ``graph`` and leaves others to the table path."""
    a = graph.to_scipy()
    pp = (a != 0).astype(np.int64) @ np.diff(a.indptr)   # partial products of each row of A.A
    mid = int(np.median(pp[pp > 0]))
    assert (pp > mid).sum() > 10 and ((pp > 0) & (pp <= mid)).sum() > 10
    return mid


@pytest.mark.parametrize("case", sorted(CASES))
def test_planned_rows_run_as_the_table_path(graph, case):
    """Every row planned, none, or the light ones only: the same run."""
    algo, over = CASES[case]
    cfg = dataclasses.replace(PRESETS["piuma"], **over)
    table = simulate_spgemm(graph, graph, cfg, algo, plan_max=0)
    assert table.correct
    for limit in (PLAN_MAX, _mid(graph)):
        _same(simulate_spgemm(graph, graph, cfg, algo, plan_max=limit), table)
    if over:
        assert table.hash_spills > 0 and table.hash_collisions > 0


def test_mixed_plan_equals_the_reference(graph):
    """Planned and table rows in one run against the plain-Python engine."""
    cfg = dataclasses.replace(PRESETS["piuma"], hash_table_entries=32, max_load=0.75)
    fast = simulate_spgemm(graph, graph, cfg, "smash-v1", plan_max=_mid(graph))
    ref = simulate_reference(graph, graph, cfg, "smash-v1")
    _same(fast, ref)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(2**31) + 1, 2**31 - 1).filter(lambda v: v != 0), min_size=1,
                max_size=9), st.integers(0, 3))
def test_records_pack_two_a_word(values, w0):
    """Probe counts, negated for spills, read back from their int32 halves."""
    words = np.full(w0 + record_words(len(values)), -1, np.int64)   # stale arena words
    for x, r in enumerate(values):   # in order, as plan_row writes them
        put_record(words, w0, x, r)
    assert [record(words, w0, x) for x in range(len(values))] == values
    assert (words[:w0] == -1).all()
    low = np.int64(values[0]) & 0xFFFFFFFF   # the layout: record 0 in word w0's low half
    assert words[w0] & 0xFFFFFFFF == low


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.integers(0, 5), st.integers(0, 2**32))
def test_sort_pairs_sorts_in_place(n, at, seed):
    """Insertion sort up to 64 entries, heap sort beyond: a row's distinct columns in
    order, each value with its column, the rest of the array untouched."""
    rng = np.random.default_rng(seed)
    cols = rng.choice(10 * n + 1, size=n, replace=False).astype(np.int64)
    ci = np.concatenate((np.full(at, -7), cols, [-9])).astype(np.int64)
    cx = np.concatenate((np.zeros(at), cols * 0.5, [3.0]))
    sort_pairs(ci, cx, at, n)
    assert ci[at:at + n].tolist() == sorted(cols.tolist())
    assert np.array_equal(cx[at:at + n], ci[at:at + n] * 0.5)
    assert (ci[:at] == -7).all() and ci[-1] == -9 and cx[-1] == 3.0


def _chunks_from_records(rec, row, ops, P):
    """The fast fidelity's chunks (``_rowplan`` CHUNKS), summed in plain Python from a
    plan's per-product records: a chunk a step, ``step_pps`` products of one B row."""
    step, lat, x, out = P["mul_cycles"] + P["hash_cycles"], P["spad_latency"], 0, []
    for j in range(ops.ap[row], ops.ap[row + 1]):
        k = ops.ai[j]
        for q in range(ops.bp[k], ops.bp[k + 1], P["step_pps"]):
            probes = coll = nsp = first = 0
            for i in range(min(ops.bp[k + 1], q + P["step_pps"]) - q):
                r = record(rec, 0, x)
                x += 1
                probes += abs(r)
                coll += abs(r) > 1
                if r < 0:
                    first = first if nsp else (i + 1) * step + probes * lat
                    nsp += 1
            out += [probes, coll, nsp, first]
    return out


@pytest.mark.parametrize("case", [c for c in sorted(CASES) if CASES[c][0] == "smash-v1"])
@pytest.mark.parametrize("step_pps", [128, 5])
def test_chunks_are_the_records_summed_per_step(graph, case, step_pps):
    """``plan_chunks`` gives every row the sums of ``plan_into``'s records over each step,
    the same entry count, fill and (a kept row) C entries; also across a wrap of its
    column tags (SEEN)."""
    from accel.arch.piuma._planahead import new_scratch
    from accel.arch.piuma._rowplan import (
        CHUNK_WORDS,
        EPOCH_MAX,
        plan_chunks,
        plan_into,
        plan_records,
    )
    from accel.arch.piuma._symbolic import row_counts
    from accel.arch.piuma.kernel_inputs import params_record
    from accel.arch.piuma.model import ALGORITHMS
    from accel.arch.piuma.state import Operands

    cfg = dataclasses.replace(PRESETS["piuma"], step_pps=step_pps, **CASES[case][1])
    a = graph.to_scipy().astype(np.float64)
    ap, ai = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    ops = Operands(ap, ai, a.data, ap, ai, a.data, *(np.zeros(1, np.int64),) * 5)
    E, N = cfg.hash_table_entries, a.shape[1]
    P = params_record(cfg, ALGORITHMS["smash-v1"], N, E)[()]
    _, row_pp = row_counts(ap, ai, ap, ai, N)
    sizes = plan_records(ap, ai, ap, row_pp, step_pps, True)
    keys, slots, ftab, dense, colp, seen = new_scratch(N, E)
    rec = np.zeros(int(row_pp.max()) + 2, np.int64)
    chunks = np.full(int(sizes.max()) // 2 + 1, -1, np.int64)
    ci0, cx0, ci1, cx1 = (np.zeros(N + 1, t) for t in (np.int64, np.float64) * 2)
    busy = np.flatnonzero(row_pp)
    seen[N] = EPOCH_MAX - 3   # the tags wrap a few plans in
    for n_row, row in enumerate(busy):
        room = int(a[row].dot(a).nnz) if n_row % 2 else 0   # every other row kept
        x, n, fill = plan_into(row, E, P, ops, keys, slots, ftab, 0, dense, colp, n_row, rec, 0,
                               ci0, cx0, 0, room)
        y, n1, fill1 = plan_chunks(row, E, P, ops, keys, slots, ftab, 0, dense, colp, seen,
                                   chunks, 0, ci1, cx1, 0, room)
        assert (n1, fill1) == (n, fill) and x == row_pp[row] and y == sizes[row]
        want = _chunks_from_records(rec, row, ops, P)
        assert chunks[:y // 2].tolist() == want and len(want) % CHUNK_WORDS == 0
        assert np.array_equal(ci0[:room], ci1[:room]) and np.array_equal(cx0[:room], cx1[:room])
    assert 0 < seen[N] < len(busy)   # wrapped
    assert (keys == -1).all()   # each plan leaves the scratch table empty
