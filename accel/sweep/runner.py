"""The sweep coordinator: points -> resolved workloads and configs -> executor -> store.

Only this process writes the store.  Each result is committed as it arrives (one
small transaction per message from a worker), so a SIGKILL loses only the points still
running, which the rerun computes again; the primary key makes a duplicate impossible.
SIGINT/SIGTERM stop dispatch, commit what finished, stop the workers and raise
``Interrupted`` (exit 130/143) saying how many rows were saved.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from accel.configs import _suggest, check_number, config_dict
from accel.errors import AccelError, ConfigError, Interrupted, Stop, WorkloadError
from accel.sweep.executors import DEFAULT_POINT_TIMEOUT, DaskExecutor, LocalExecutor, Task, chunked
from accel.sweep.machines import get_adapter
from accel.sweep.points import design_points
from accel.sweep.spec import SweepSpec
from accel.sweep.store import Store, StoreError, blank_sqlite, point_key


@dataclass
class SweepSummary:
    spec: str
    machine: str
    db: str
    points: int          # design points after constraints / sampling
    rows: int            # (point, workload) pairs, after de-duplicating identical designs
    already_done: int    # rows found in the store (resume)
    computed: int        # rows evaluated by this run
    failed: int          # of those, how many raised
    seconds: float       # wall time of the evaluation, after the first point (see warmup)
    rate: float          # rows evaluated per second of that time (0 when nothing to do)
    executor: str
    workers: int
    warmup_seconds: float = 0.0  # the first point, run in the coordinator: kernels compile
                                 # (first run) or load from the cache, before workers fork

    def to_dict(self) -> dict:
        return asdict(self)


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
    """Evaluate the points of ``spec`` not yet in the store ``db``.

    The first pending point is evaluated in this process before any worker starts
    (``on_warmup(machine)`` is called just before): it compiles the machine's Numba kernels
    on a first run, or loads them from the cache, once; forked workers inherit them.  So
    the progress total, ``seconds`` and ``rate`` cover the remaining points only and show
    the real rate; ``warmup_seconds`` says what the first point took."""
    adapter = get_adapter(spec.machine)
    executor = make_executor(workers, scheduler, dask_local, point_timeout)
    points = design_points(spec)
    db = Path(db) if db is not None else default_db(spec)
    if db.is_dir():
        raise StoreError(f"--db {db} is a directory, expected a .sqlite file path")
    if (db.exists() or db.is_symlink()) and not blank_sqlite(db):
        Store(db, readonly=True).close()  # incompatible store: refuse before any work
    else:
        from accel.files import check_output_dir

        check_output_dir(db.parent, "--db", StoreError)  # an unwritable folder: say so now
    # Resolve every distinct (workload, knobs) once, before touching the store, so a
    # missing workload or bad knob fails without creating or changing anything.
    version = adapter.model_version()
    splits = [adapter.split(p) for p in points]
    workloads: dict[str, object] = {}
    wid_of: dict[tuple, str] = {}
    for _preset, _cfg, knobs, _opt in splits:
        for wspec in spec.workloads:
            k = (wspec, tuple(sorted(knobs.items())))
            if k not in wid_of:
                for kname, kval in knobs.items():  # same rule as the CLI's flags
                    check_number(kname, kval, f"parameters.{kname}")
                try:
                    wl = adapter.resolve_workload(wspec, knobs)
                except (ValueError, TypeError, OverflowError) as exc:  # a knob the builder rejects
                    raise WorkloadError(f"workload {wspec!r} with {knobs}: {type(exc).__name__}: "
                                        f"{str(exc).splitlines()[0][:100] if str(exc) else ''}") from None
                wid = adapter.workload_id(wl)
                wid_of[k] = wid
                workloads[wid] = wl

    created = not db.exists() or fresh or blank_sqlite(db)
    store = Store(db, fresh=fresh)
    # objectives name metrics; which metrics a machine reports is known once a point
    # has been evaluated, so the first ok result is checked before anything is written
    unchecked = [o.metric for o in spec.objectives if o.metric not in spec.parameters]
    bad_objective = False
    try:
        store.set_meta(f"spec:{spec.name}", {
            "machine": spec.machine, "base": spec.base, "workloads": list(spec.workloads),
            "parameters": {k: list(v) for k, v in spec.parameters.items()},
            "constraints": [c.text for c in spec.constraints],
            "objectives": [{"metric": o.metric, "goal": o.goal} for o in spec.objectives],
            "source": spec.source})
        done = store.done_keys(include_failed=not retry_failed)
        pending: dict[str, list[Task]] = {}
        rows_meta: dict[str, dict] = {}
        invalid: list[dict] = []
        n_rows = already = 0
        for i, (point, (preset, overrides, knobs, options)) in enumerate(zip(points, splits, strict=True)):
            try:
                cfg = adapter.build_config(spec.base, preset, overrides)
                cdict, err = config_dict(cfg), None
            except AccelError as exc:  # this combination is not a valid machine: record it
                cfg, cdict, err = None, {"invalid": point}, f"{type(exc).__name__}: {exc}"
            for wspec in spec.workloads:
                wid = wid_of[(wspec, tuple(sorted(knobs.items())))]
                key = point_key(spec.machine, cdict, wid, options, version)
                if key in rows_meta:
                    continue  # two points that resolve to the same design: evaluate once
                n_rows += 1
                meta = {"key": key, "spec": spec.name, "point": i, "machine": spec.machine,
                        "workload": wspec, "workload_id": wid, "model_version": version,
                        "params": point, "config": cdict, "options": options}
                rows_meta[key] = meta
                if key in done:
                    already += 1
                elif err is not None:
                    invalid.append({**meta, "status": "failed", "error": err, "metrics": {}})
                else:
                    pending.setdefault(wid, []).append((key, cfg, wid, options))
        # The first pending point runs alone, before the bar: on a first run it compiles
        # the machine's kernels (into the on-disk cache every later worker loads), so the
        # bar's total and rate cover the other points only.  It goes through the executor
        # like any point (same timeout, same handling of a dying worker or a Ctrl-C).
        first: list = []
        if pending:
            wid0 = next(iter(pending))
            first = [(wid0, [pending[wid0].pop(0)])]
            if not pending[wid0]:
                del pending[wid0]
        warm_rows: list[dict] = []
        warmup = 0.0
        computed = failed = 0
        counting = False   # progress callbacks only once the bar exists
        stream = iter(())
        t0 = time.perf_counter()
        try:
            try:
                for phase in ("warm-up", "rest"):
                    if phase == "warm-up":
                        if not first:
                            continue
                        if on_warmup:
                            on_warmup(spec.machine)
                        chunks = first
                    else:
                        warmup = time.perf_counter() - t0 if first else 0.0
                        if on_total:
                            on_total(sum(len(t) for t in pending.values()) + len(invalid))
                        if invalid:
                            store.write(invalid)
                            if on_progress:
                                on_progress(len(invalid))
                        counting = True
                        t0 = time.perf_counter()
                        chunks = chunked(pending, max(1, executor.workers))
                    stream = executor.run(adapter, chunks, workloads) if chunks else iter(())
                    for results in stream:
                        ok = next((r for r in results if r["status"] == "ok"), None)
                        if unchecked and ok is not None:
                            missing = [m for m in unchecked if m not in ok["metrics"]]
                            if missing:
                                bad_objective = True
                                raise ConfigError(
                                    f"objectives: {spec.machine} reports no metric {missing[0]!r}"
                                    f"{_suggest(missing[0], sorted(ok['metrics']))}")
                            unchecked = []
                        rows = [{**rows_meta[r["key"]], **r} for r in results]
                        store.write(rows)   # committed as it arrives: a kill loses only running points
                        failed += sum(r["status"] == "failed" for r in results)
                        computed += len(results)
                        if not counting:
                            warm_rows += results
                        elif on_progress:
                            on_progress(len(results))
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()   # stops the workers now, not whenever the generator is collected
        except (KeyboardInterrupt, Stop) as exc:   # Ctrl-C, or the CLI's SIGINT/SIGTERM
            # the executor's finally has stopped the workers; every row received is committed
            signum = exc.signum if isinstance(exc, Stop) else 2
            saved = computed + len(invalid)
            try:
                store.refresh_view()
            except (KeyboardInterrupt, Stop, AccelError, OSError):
                pass
            raise Interrupted(f"{'terminated' if signum == 15 else 'interrupted'}: {saved} rows "
                              f"saved to {db} ({already + saved} of {n_rows} done); rerun the "
                              "same command to resume", signum) from None
        except StoreError as exc:   # e.g. the disk filled up mid-sweep: say what is kept
            raise StoreError(f"{exc}; {computed + len(invalid)} rows of this run were saved "
                             "before it; rerun to resume") from None
        seconds = time.perf_counter() - t0
        store.refresh_view()
        return SweepSummary(
            spec=spec.name, machine=spec.machine, db=str(db), points=len(points), rows=n_rows,
            already_done=already, computed=computed + len(invalid),
            failed=failed + len(invalid), seconds=round(seconds, 3),
            rate=round((computed - len(warm_rows)) / seconds, 2)
            if computed > len(warm_rows) and seconds > 0 else 0.0,
            executor=executor.kind, workers=executor.workers, warmup_seconds=round(warmup, 3))
    finally:
        store.close()
        if bad_objective and created:  # the run wrote nothing a user asked for: leave no file
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(db) + suffix).unlink(missing_ok=True)
