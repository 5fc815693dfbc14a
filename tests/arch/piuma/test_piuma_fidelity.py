"""The fast fidelity (``model.FIDELITY_FAST``): probe walks timed whole, a step's spills posted
as one store.  What it must keep from the exact engine (the functional result and every
count but the bank waits; DRAM bytes as far as the times they change allow), where it must equal it cycle for cycle (no bank conflict, no
spill: then the two timings are the same sum), and that it is one deterministic model
whichever rows a planner had ready."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from accel.arch.piuma._acclist import acc_append, acc_grow, acc_release, acc_room
from accel.arch.piuma._planahead import AHEAD_OFF, AHEAD_SYNC
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import (
    FAST_FROM,
    FIDELITY_EXACT,
    FIDELITY_FAST,
    simulate_spgemm,
    walk_timing,
)
from accel.arch.piuma.state import SHARED, Arena, new_threads
from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured
from accel.workloads.graphs import rmat

BASE = PRESETS["piuma"]
SMALL = dataclasses.replace(BASE, hash_table_entries=64, max_load=0.5)   # full tables, spills
QUAD = dataclasses.replace(SMALL, collision_policy="quadratic")


@pytest.fixture(scope="module")
def g10():
    return rmat(10, 16, seed=1)


@pytest.mark.parametrize("cfg", [BASE, SMALL, QUAD], ids=["preset", "64-slot", "quadratic"])
def test_fast_keeps_the_work_and_the_product_and_moves_cycles_little(g10, cfg):
    exact = simulate_spgemm(g10, g10, cfg, "smash-v1", fidelity=FIDELITY_EXACT)
    fast = simulate_spgemm(g10, g10, cfg, "smash-v1", fidelity=FIDELITY_FAST)
    assert (exact.fidelity, fast.fidelity) == ("exact", "fast")
    for k in ("partial_products", "hash_probes", "hash_collisions", "hash_spills", "atomics",
              "partial_product_bytes", "nnz_c"):
        assert getattr(fast, k) == getattr(exact, k), k
    # the order a core's threads reach its cache, so its hits, follows the times
    for k in ("dram_bytes_read", "dram_bytes_written"):
        assert getattr(fast, k) == pytest.approx(getattr(exact, k), rel=1e-2), k
    assert fast.correct and exact.correct
    assert (fast.C != exact.C).nnz == 0
    assert fast.bank_wait_cycles == 0   # no bank is booked
    assert fast.cycles == pytest.approx(exact.cycles, rel=2e-3)


def test_fast_equals_exact_without_bank_conflicts_or_spills():
    """One row on one thread: its probes are 4 cycles apart and book 2 of a 4-cycle bucket,
    so the exact engine finds no bank conflict; the table never fills, so nothing spills.
    Then each product costs mul + hash + probes x spad_latency in both timings."""
    rng = np.random.default_rng(3)
    n = 400
    b = sp.random(n, n, density=0.02, format="csr", random_state=rng)
    a = sp.csr_matrix((np.ones(30), (np.zeros(30, int), rng.choice(n, 30, replace=False))),
                      shape=(n, n))
    A, B = (Unstructured(m.shape, m.indptr, m.indices, m.data) for m in (a, b))
    cfg = dataclasses.replace(BASE, hash_table_entries=256, max_load=1.0)   # collisions
    exact = simulate_spgemm(A, B, cfg, "smash-v1", fidelity=FIDELITY_EXACT)
    fast = simulate_spgemm(A, B, cfg, "smash-v1", fidelity=FIDELITY_FAST)
    assert exact.hash_spills == 0 and exact.bank_wait_cycles == 0 and exact.hash_collisions > 0
    assert fast.cycles == exact.cycles
    assert np.array_equal(fast.thread_finish, exact.thread_finish)


@pytest.mark.parametrize("cfg", [BASE, SMALL], ids=["preset", "64-slot"])
def test_fast_is_one_model_whichever_rows_were_planned(g10, cfg):
    """Planned rows, rows on the table path, and rows a planner had ready time the same."""
    runs = [simulate_spgemm(g10, g10, cfg, "smash-v1", plan_max=pm, plan_ahead=ah,
                            fidelity=FIDELITY_FAST)
            for pm, ah in ((65536, AHEAD_OFF), (0, AHEAD_OFF), (300, AHEAD_OFF),
                           (65536, AHEAD_SYNC))]
    for r in runs[1:]:
        assert r.cycles == runs[0].cycles
        assert np.array_equal(r.thread_finish, runs[0].thread_finish)
        assert r.dram_bytes_written == runs[0].dram_bytes_written


def test_fidelity_applies_to_owner_only_tables_and_is_checked(g10):
    assert not walk_timing("auto", FAST_FROM - 1) and walk_timing("auto", FAST_FROM)
    assert walk_timing("fast", 0) and not walk_timing("exact", 1 << 40)
    with pytest.raises(WorkloadError, match="unknown fidelity 'quick'"):
        simulate_spgemm(g10, g10, BASE, "smash-v1", fidelity="quick")
    # helpers probe a table remotely (v2 tokens, v3 fragments), v2 with whole rows takes
    # them as the times say: those stay exact
    for algo in ("smash-v2", "smash-v3", "inner", "gustavson-dense"):
        r = simulate_spgemm(g10, g10, BASE, algo, fidelity=FIDELITY_FAST)
        assert r.fidelity == "exact"
        assert r.cycles == simulate_spgemm(g10, g10, BASE, algo).cycles


def test_a_full_arena_of_garbage_is_compacted_in_place():
    """``acc_grow`` with at least half the arena garbage keeps the arrays (no new arena to
    fault in) and every live list's records."""
    threads = new_threads(3)
    shared = np.zeros((), SHARED)
    arena = Arena(np.zeros(1 << 16, np.int64), np.zeros(1 << 16, np.float64))
    want = {}
    for t, n in ((0, 60000), (1, 500), (2, 700)):
        assert acc_room(t, n, threads, arena, shared[()])
        for i in range(n):
            acc_append(t, 10 * t + i, float(i), arena, threads)
        want[t] = n
    acc_release(0, threads)   # a big list gives its place up: garbage below the others
    del want[0]
    need = (1 << 16) - int(shared[()]["acc_top"]) + 1
    assert not acc_room(1, need, threads, arena, shared[()])
    grown = acc_grow(1, need, threads, arena, shared)
    assert grown.acc_c.ctypes.data == arena.acc_c.ctypes.data   # the same arrays
    for t, n in want.items():
        b = threads[t]["acc_base"]
        assert threads[t]["acc_len"] == n
        assert list(grown.acc_c[b:b + n]) == [10 * t + i for i in range(n)]
        assert list(grown.acc_v[b:b + n]) == [float(i) for i in range(n)]
    assert threads[1]["acc_cap"] - threads[1]["acc_len"] >= need
