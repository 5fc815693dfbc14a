"""The sweep coordinator: points -> resolved workloads and configs -> executor -> store.

Only this process writes the store.  Results are committed in batches (every
``FLUSH_ROWS`` rows or ``FLUSH_SECONDS`` seconds, whichever first), each batch in one
transaction, so a SIGKILL loses at most the batch in flight, which the rerun computes
again; the primary key makes a duplicate impossible.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from accel.configs import config_dict
from accel.errors import AccelError
from accel.sweep.executors import DaskExecutor, LocalExecutor, Task, chunked, evaluate_chunk
from accel.sweep.machines import get_adapter
from accel.sweep.points import design_points
from accel.sweep.spec import SweepSpec
from accel.sweep.store import Store, StoreError, point_key

FLUSH_ROWS = 200      # rows per transaction: large enough to amortise the fsync
FLUSH_SECONDS = 1.0   # ... but a killed sweep loses at most about a second of work


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


def make_executor(workers: int | None, scheduler: str | None, dask_local: int | None):
    if scheduler is not None and dask_local is not None:
        raise AccelError("use either --scheduler or --dask-local, not both")
    if scheduler is not None or dask_local is not None:
        return DaskExecutor(scheduler, dask_local)
    return LocalExecutor(workers if workers is not None else (os.cpu_count() or 1))


def run_sweep(spec: SweepSpec, db: str | os.PathLike | None = None, *, workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, fresh: bool = False,
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
    executor = make_executor(workers, scheduler, dask_local)
    points = design_points(spec)
    db = Path(db) if db is not None else default_db(spec)
    if db.is_dir():
        raise StoreError(f"--db {db} is a directory, expected a .sqlite file path")
    if db.exists() and not fresh:
        Store(db, create=False).close()  # incompatible store: refuse before any work
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
                wl = adapter.resolve_workload(wspec, knobs)
                wid = adapter.workload_id(wl)
                wid_of[k] = wid
                workloads[wid] = wl

    store = Store(db, fresh=fresh)
    try:
        store.set_meta(f"spec:{spec.name}", {
            "machine": spec.machine, "base": spec.base, "workloads": list(spec.workloads),
            "parameters": {k: list(v) for k, v in spec.parameters.items()},
            "constraints": [c.text for c in spec.constraints],
            "objectives": [{"metric": o.metric, "goal": o.goal} for o in spec.objectives],
            "source": spec.source})
        done = store.done_keys()
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
        warm_rows: list[dict] = []
        warmup = 0.0
        if pending:
            wid0 = next(iter(pending))
            first = pending[wid0].pop(0)
            if not pending[wid0]:
                del pending[wid0]
            if on_warmup:
                on_warmup(spec.machine)
            tw = time.perf_counter()
            warm_rows = evaluate_chunk(adapter, [first], workloads[wid0])
            warmup = time.perf_counter() - tw
            store.write([{**rows_meta[r["key"]], **r} for r in warm_rows])
        if on_total:
            on_total(sum(len(t) for t in pending.values()) + len(invalid))
        if invalid:
            store.write(invalid)
            if on_progress:
                on_progress(len(invalid))

        t0 = time.perf_counter()
        computed = len(warm_rows)
        failed = sum(r["status"] == "failed" for r in warm_rows)
        buffer: list[dict] = []
        last_flush = time.monotonic()

        def flush():
            nonlocal last_flush
            store.write(buffer)
            buffer.clear()
            last_flush = time.monotonic()

        chunks = chunked(pending, max(1, executor.workers))
        try:
            if chunks:
                for results in executor.run(adapter, chunks, workloads):
                    for r in results:
                        buffer.append({**rows_meta[r["key"]], **r})
                        failed += r["status"] == "failed"
                    computed += len(results)
                    if on_progress:
                        on_progress(len(results))
                    if len(buffer) >= FLUSH_ROWS or time.monotonic() - last_flush >= FLUSH_SECONDS:
                        flush()
        finally:
            flush()  # whatever finished before an interrupt is kept
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
