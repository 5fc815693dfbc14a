"""A PIUMA run reports its progress by stopping and resuming the scheduler between
lock-step windows; the resumed run must be the same run, cycle for cycle."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from accel.arch.piuma import _kernels
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import ALGORITHMS, simulate_spgemm
from accel.arch.registry import CliContext
from accel.workloads.graphs import rmat


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_a_run_in_many_scheduler_calls_is_the_same_run(monkeypatch, algo):
    g = rmat(8, 8, seed=3)
    whole = simulate_spgemm(g, g, PRESETS["piuma"], algo)
    monkeypatch.setattr(_kernels, "STEPS_PER_CALL", 97)   # many calls, odd boundaries
    bars = []

    @contextmanager
    def progress(what, total):
        bars.append({"what": what, "total": total, "done": 0, "calls": 0})

        def advance(n=1):
            bars[-1]["done"] += n
            bars[-1]["calls"] += 1
        yield advance

    parts = simulate_spgemm(g, g, PRESETS["piuma"], algo, progress=progress)
    assert parts.cycles == whole.cycles and parts.engine_steps == whole.engine_steps
    assert np.array_equal(parts.thread_finish, whole.thread_finish)
    assert np.array_equal(parts.thread_work, whole.thread_work)
    assert parts.hash_probes == whole.hash_probes and parts.bank_wait_cycles == whole.bank_wait_cycles
    assert parts.correct and (parts.C != whole.C).nnz == 0
    [bar] = bars
    assert algo in bar["what"]
    # every partial product is reported once, in more than a handful of steps
    assert bar["done"] == bar["total"] == whole.flops // 2
    assert bar["calls"] > 5


def test_the_cli_context_is_also_the_plain_note_function():
    said = []
    ctx = CliContext(note=said.append, progress=None)
    ctx("compiling")
    assert said == ["compiling"]
