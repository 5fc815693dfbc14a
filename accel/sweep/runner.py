"""The sweep coordinator: points -> resolved workloads and configs -> executor -> store.

``run_sweep`` is a sequence of named stages, each a function of :mod:`accel.sweep.stages`
(a spec with ``search:`` runs them a generation at a time, :mod:`accel.sweep.search`):

1. :func:`inspect_store`    -- what the store holds (read-only): refused if it is not a
   store, damaged or of another version (unless ``--fresh``); nothing is written;
2. :func:`resolve_workloads` -- every distinct (workload, knobs) once;
3. :func:`plan_rows`        -- one row per distinct (design, workload): pending, invalid
   (a combination that is not a valid machine) or already done;
4. :func:`warm_up`          -- the first pending point, in the executor, before anything
   is written: it compiles (or loads) the machine's kernels once, and its metrics check
   the spec's objectives; a spec that names a metric the machine does not report is
   refused here, so ``--fresh`` never discards a store for a spec that fails;
5. :func:`open_store`       -- the only destructive step (``--fresh``), after all of the
   above;
6. :func:`evaluate_rest`    -- the other points, rows committed by a :class:`Recorder`.

Only this process writes the store.  Rows are committed in small batches (at most
``Recorder.max_rows`` rows or ``Recorder.max_seconds`` of results), and every row
received is committed before ``run_sweep`` returns or raises: SIGINT/SIGTERM stop
dispatch, commit what finished, stop the workers and raise ``Interrupted`` (exit
130/143) saying how many rows were saved.  A SIGKILL loses at most the last batch's
seconds of results, which the rerun computes again; the primary key makes a duplicate
impossible.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from accel.errors import AccelError
from accel.sweep import routing
from accel.sweep.executors import DEFAULT_POINT_TIMEOUT, DaskExecutor, LocalExecutor
from accel.sweep.points import design_points
from accel.sweep.search import run_search
from accel.sweep.spec import SweepSpec
from accel.sweep.stages import (
    Callbacks,
    SweepSummary,
    evaluate_plan,
    inspect_store,
    plan_rows,
    resolve_workloads,
)

__all__ = ["SweepSummary", "default_db", "make_executor", "run_grid", "run_sweep"]


def default_db(spec: SweepSpec) -> Path:
    return Path("reports") / spec.name / "results.sqlite"


def make_executor(workers: int | None, scheduler: str | None, dask_local: int | None,
                  point_timeout: float | None = DEFAULT_POINT_TIMEOUT):
    if scheduler is not None and dask_local is not None:
        raise AccelError("use either --scheduler or --dask-local, not both")
    if scheduler is not None or dask_local is not None:
        if workers is not None:
            raise AccelError("--workers is for local workers; with Dask use --dask-local N")
        return DaskExecutor(scheduler, dask_local, point_timeout)
    return LocalExecutor(workers if workers is not None else (os.cpu_count() or 1), point_timeout)


def run_sweep(spec: SweepSpec, db: str | os.PathLike | None = None, *, workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, fresh: bool = False,
              point_timeout: float | None = DEFAULT_POINT_TIMEOUT, retry_failed: bool = False,
              on_total: Callable[[int], None] | None = None,
              on_progress: Callable[[int], None] | None = None,
              on_warmup: Callable[[str], None] | None = None) -> SweepSummary:
    """Evaluate the points of ``spec`` not yet in the store ``db`` (see the module doc).

    A spec with ``search:`` asks a search strategy for its points instead of the grid
    (:mod:`accel.sweep.search`)."""
    callbacks = Callbacks(on_total, on_progress, on_warmup)
    executor = make_executor(workers, scheduler, dask_local, point_timeout)
    db = Path(db) if db is not None else default_db(spec)
    machine = routing.machine(spec.machine)
    try:
        if spec.search is not None:
            return run_search(spec, db, machine, executor, fresh, retry_failed, callbacks)
        return run_grid(spec, db, machine, executor, fresh, retry_failed, callbacks)
    finally:
        executor.close()


def run_grid(spec: SweepSpec, db: Path, machine, executor, fresh: bool, retry_failed: bool,
             callbacks: Callbacks) -> SweepSummary:
    """Stages 1-6 over the spec's (constrained, optionally sampled) grid."""
    points = design_points(spec)
    done_all, done_ok, discard = inspect_store(db, fresh)
    version = machine.model_version()
    splits = [routing.split(machine, p) for p in points]
    workloads, wid_of = resolve_workloads(spec, machine, splits)
    plan = plan_rows(spec, machine, points, splits, wid_of,
                     done_ok if retry_failed else done_all, version)
    stats = evaluate_plan(spec, db, fresh, machine, executor, plan, workloads, callbacks)
    return SweepSummary(
        spec=spec.name, machine=spec.machine, db=str(db), points=len(points), rows=plan.n_rows,
        already_done=plan.already, discarded=discard if fresh else 0, **stats)
