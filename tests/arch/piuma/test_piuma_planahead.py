"""Rows planned ahead (``_planahead``): plans made by a second host thread, handed over at
barriers between engine calls, give the run of the table path, cycle for cycle and bit for
bit, and are really taken (a planner whose plans the engine never used would pass the
first check vacuously)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accel.arch.piuma import _kernels
from accel.arch.piuma._planahead import (
    AHEAD_OFF,
    AHEAD_SYNC,
    AHEAD_THREAD,
    PlanAhead,
    predict,
)
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import simulate_spgemm
from accel.workloads.graphs import rmat

from .test_piuma_plan import CASES, _mid, _same


class _Counting(PlanAhead):
    """A PlanAhead that counts the plans the engine took: only a take clears a row's
    ``loc`` during an engine call, so each call's takes are the live entries it began with
    less those left."""

    runs: list[dict] = []

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.taken = 0
        self.live = 0
        self.planned_rows: list[int] = []
        _Counting.runs.append(self.__dict__)

    def _round(self):
        super()._round()
        self.planned_rows += self.todo[:self.count[self.fill]].tolist()

    def _live(self):
        return int((self.stage.loc >= 0).sum())

    def barrier(self):
        self.taken += self.live - self._live()
        super().barrier()
        self.live = self._live()

    def close(self):
        super().close()
        self.taken += self.live - self._live()


@pytest.fixture
def counting(monkeypatch):
    _Counting.runs = []
    monkeypatch.setattr(_kernels, "PlanAhead", _Counting)
    return _Counting.runs


@pytest.fixture(scope="module")
def graph():
    return rmat(8, 8, seed=5)


# one core's 66 threads: 528 would each take one of the graph's rows before any barrier
ONE_CORE = dict(cores=1)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("mode", [AHEAD_SYNC, AHEAD_THREAD])
def test_plans_made_ahead_run_as_the_table_path(graph, case, mode, counting):
    """Plans from the planner (every row, or beside in-line plans of the light rows) give
    the table path's run; with rounds on the host, most rows' plans are taken from it."""
    algo, over = CASES[case]
    cfg = dataclasses.replace(PRESETS["piuma"], **over, **ONE_CORE)
    table = simulate_spgemm(graph, graph, cfg, algo, plan_max=0)
    for limit in (1 << 16, _mid(graph)):
        got = simulate_spgemm(graph, graph, cfg, algo, plan_max=limit, plan_ahead=mode,
                              steps_per_call=40)
        _same(got, table)
    assert len(counting) == 2
    if mode == AHEAD_SYNC:   # on a thread, how many plans come in time depends on the host
        for run in counting:
            assert run["taken"] > 0.3 * graph.shape[0], run["taken"]


def test_off_runs_without_a_planner(graph, counting):
    simulate_spgemm(graph, graph, PRESETS["piuma"], "smash-v1", plan_ahead=AHEAD_OFF,
                    steps_per_call=40)
    assert counting == []


def test_a_small_run_plans_in_line(graph, counting):
    """Left to itself, a run below AHEAD_MIN products starts no planner."""
    simulate_spgemm(graph, graph, PRESETS["piuma"], "smash-v1")
    assert counting == []


def test_budget_keeps_long_rows_to_the_table_path(graph, monkeypatch, counting):
    """With no budget for rows beyond ``plan_max``, their plans go untaken (fewer plans are
    taken than with one) and the run is still the table path's."""
    cfg = dataclasses.replace(PRESETS["piuma"], **ONE_CORE)
    table = simulate_spgemm(graph, graph, cfg, "smash-v1", plan_max=0)
    limit = _mid(graph)
    for budget in (None, 0):
        if budget is not None:
            monkeypatch.setattr("accel.arch.piuma.model.PLAN_BUDGET", budget)
        got = simulate_spgemm(graph, graph, cfg, "smash-v1", plan_max=limit,
                              plan_ahead=AHEAD_SYNC, steps_per_call=40)
        _same(got, table)
    assert counting[1]["taken"] < counting[0]["taken"]


def test_a_row_planned_twice_sums_afresh(counting):
    """A plan retired untaken is made again later; its dense accumulator must not mistake
    the columns of its first plan for this one's (a stamp per plan, not per row: with the
    row's number this run's C was wrong)."""
    g = rmat(11)
    cfg = PRESETS["piuma"]
    table = simulate_spgemm(g, g, cfg, "smash-v1", plan_max=0)
    # calls of a few steps: a round's plans (MIN_ROUND products at least) outlast
    # the N_STAGE - 1 rounds a plan stays published, so some are retired untaken
    got = simulate_spgemm(g, g, cfg, "smash-v1", plan_max=7, plan_ahead=AHEAD_SYNC,
                          steps_per_call=20)
    _same(got, table)
    rows = counting[0]["planned_rows"]
    assert len(rows) > len(set(rows))   # some row was planned twice


def _fresh_machine(g, cfg, T):
    """What ``predict`` reads, for ``T`` threads that have taken nothing yet."""
    from accel.arch.piuma import kernel_inputs as ki
    from accel.arch.piuma import state

    a = g.to_scipy()
    ap, ai = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    ax = a.data.astype(np.float64)
    blen = np.diff(ap)
    pp = np.array([blen[ai[ap[i]:ap[i + 1]]].sum() for i in range(a.shape[0])], np.int64)
    u_row, j0, j1, rows = ki.work_units(ap, ai, blen, pp, 0)
    P = ki.params_record(cfg, (0, 0, 0), a.shape[1], cfg.hash_table_entries)
    e = np.zeros(1, np.int64)
    ops = state.Operands(ap, ai, ax, ap, ai, ax, e, e, np.zeros(1), e, e)
    work = state.Work(u_row, j0, j1, rows, np.zeros((), state.SHARED))
    return state.new_threads(T), work, ops, P, pp


def test_predict_walks_each_threads_windows():
    """Static windows: every row with products once, each thread's in its windows' order;
    published rows are left out; a thread's rows start where its pace puts it after the
    lag and stop a pace's stretch later (RATES)."""
    g = rmat(7, 8, seed=1)
    cfg = PRESETS["piuma"]
    T = 4
    threads, work, ops, P, pp = _fresh_machine(g, cfg, T)
    M = pp.size
    loc = np.full(M, -1, np.int64)
    todo = np.zeros(M, np.int64)
    fast = np.full(T, float(1 << 40))
    n = predict(threads, work, ops, loc, P, fast, 0, 1.0, 1 << 40, todo)
    got = list(todo[:n])
    assert sorted(got) == [r for r in range(M) if pp[r] > 0]
    wr = cfg.window_rows
    mine = [[r for r in got if (r // wr) % T == t] for t in range(T)]
    for t in range(T):   # thread t is dealt windows t, t + T, ...
        assert mine[t] == sorted(mine[t])
    # a published row is not planned again
    loc[todo[:3]] = 0
    n2 = predict(threads, work, ops, loc, P, fast, 0, 1.0, 1 << 40, todo)
    assert list(todo[:n2]) == got[3:]
    loc[:] = -1
    # thread 0 takes its first two rows before the round publishes (lag 1 at its pace);
    # the others, taking nothing, are not walked
    rate = np.zeros(T)
    rate[0] = float(pp[mine[0][:2]].sum())
    n3 = predict(threads, work, ops, loc, P, rate, 1, (1 << 40) / rate[0], 1 << 40, todo)
    assert list(todo[:n3]) == mine[0][2:]
    # ... and with no lag and a stretch one row long, only each thread's first row
    rate = np.array([float(pp[m[0]]) for m in mine])
    n4 = predict(threads, work, ops, loc, P, rate, 0, 1.0, 1 << 40, todo)
    assert sorted(todo[:n4]) == sorted(m[0] for m in mine)


def test_the_engine_never_waits_for_a_round(graph, counting):
    """A barrier that finds the planner's round still running leaves it running (nothing
    published, no new round) rather than wait; the next one hands it over."""
    import threading

    cfg = dataclasses.replace(PRESETS["piuma"], **ONE_CORE)
    simulate_spgemm(graph, graph, cfg, "smash-v1", plan_ahead=AHEAD_SYNC, steps_per_call=40)
    ahead = _Counting.__new__(_Counting)
    ahead.__dict__.update(counting[0])   # a planner as that run left it
    go = threading.Event()
    ahead.worker = threading.Thread(target=go.wait, daemon=True)
    ahead.worker.start()
    before = (list(ahead.published), ahead.n_todo, ahead.stage.loc.copy())
    ahead.barrier()
    assert (list(ahead.published), ahead.n_todo) == before[:2]
    assert np.array_equal(ahead.stage.loc, before[2])
    assert ahead.worker is not None
    go.set()
    ahead.close()
    assert ahead.worker is None


def test_the_warm_up_run_makes_a_round(counting):
    """``accel cache warm`` compiles the planner's kernels by running it, so its small run
    must plan rows (a first round that planned none left ``plan_batch`` to compile on a
    user's first large run: 12 s)."""
    from accel.arch.piuma.warm import warm

    warm()
    assert [run for run in counting if run["planned_rows"]]
