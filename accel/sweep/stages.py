"""The stages of a sweep run (see :mod:`accel.sweep.runner`), shared by the grid and
by a search (:mod:`accel.sweep.search`): the store read-only, workloads, rows, the
warm-up point, the store opened, the rest evaluated and committed by a ``Recorder``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accel.configs import _suggest, check_number, config_dict
from accel.errors import AccelError, ConfigError, Interrupted, Stop, WorkloadError
from accel.sweep import fit as fitting
from accel.sweep import routing
from accel.sweep.executors import Task, chunked
from accel.sweep.spec import SweepSpec
from accel.sweep.store import Store, StoreError, blank_sqlite, point_key


@dataclass
class SweepSummary:
    spec: str
    machine: str
    db: str
    points: int          # design points after constraints / sampling (or evaluated by a search)
    rows: int            # (point, workload) pairs, after de-duplicating identical designs
    already_done: int    # rows found in the store (resume)
    computed: int        # rows evaluated by this run
    failed: int          # of those, how many raised
    seconds: float       # wall time of the evaluation, after the first point (see warmup)
    rate: float          # rows evaluated per second of that time (0 when nothing to do)
    executor: str
    workers: int
    warmup_seconds: float = 0.0  # the first point, run before the others: kernels compile
                                 # (first run) or load from the cache, before workers fork
    discarded: int = 0   # rows of an existing store that --fresh discarded (0: none)
    strategy: str = "grid"
    infeasible: int = 0  # of the rows computed, how many do not fit the spec's device (fit:)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Callbacks:
    """Progress hooks: ``total(n)`` once (every row this run computes, the warm-up point
    included), ``progress(k)`` as rows finish, ``warmup(machine)`` before the first."""

    total: Callable[[int], None] | None = None
    progress: Callable[[int], None] | None = None
    warmup: Callable[[str], None] | None = None


# --- stage 1: the store, read-only --------------------------------------------------------
def inspect_store(db: Path, fresh: bool) -> tuple[set[str], set[str], int]:
    """(keys done, keys done ok, rows a --fresh would discard) of the store at ``db``;
    nothing is written.  A path that cannot become a store, a damaged store, or (without
    --fresh) one of another version is refused here, before any work."""
    if db.is_dir():
        raise StoreError(f"--db {db} is a directory, expected a .sqlite file path")
    if not (db.exists() or db.is_symlink()) or blank_sqlite(db):
        from accel.files import check_output_dir

        check_output_dir(db.parent, "--db", StoreError)  # an unwritable folder: say so now
        return set(), set(), 0
    if fresh:
        return set(), set(), Store.replaceable(db)
    with Store(db, readonly=True) as st:
        st.check_integrity()
        return st.done_keys(include_failed=True), st.done_keys(include_failed=False), 0


# --- stage 2: workloads ---------------------------------------------------------------
def resolve_workloads(spec: SweepSpec, machine, splits: list) -> tuple[dict, dict]:
    """(workload id -> Workload, (workload spec, knobs) -> workload id), each distinct
    (workload, knobs) resolved once; a missing workload or bad knob is an error now."""
    workloads: dict[str, object] = {}
    wid_of: dict[tuple, str] = {}
    for _preset, _cfg, knobs, _opt in splits:
        for wspec in spec.workloads:
            k = (wspec, tuple(sorted(knobs.items())))
            if k in wid_of:
                continue
            for kname, kval in knobs.items():  # same rule as the CLI's flags
                check_number(kname, kval, f"parameters.{kname}")
            try:
                wl = routing.resolve_workload(machine, wspec, knobs)
            except (ValueError, TypeError, OverflowError) as exc:  # a knob the builder rejects
                raise WorkloadError(f"workload {wspec!r} with {knobs}: {type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0][:100] if str(exc) else ''}") from None
            wid_of[k] = routing.workload_id(wl)
            workloads[wid_of[k]] = wl
    return workloads, wid_of


# --- stage 3: rows --------------------------------------------------------------------
@dataclass
class Plan:
    """The rows of a run: metadata per key, and what is pending, invalid or done."""

    rows_meta: dict[str, dict] = field(default_factory=dict)
    pending: dict[str, list[Task]] = field(default_factory=dict)   # workload id -> tasks
    invalid: list[dict] = field(default_factory=list)              # failed rows, not evaluated
    already: int = 0
    keys_of_point: list[list[str]] = field(default_factory=list)   # point index -> row keys

    @property
    def n_rows(self) -> int:
        return len(self.rows_meta)

    def n_pending(self) -> int:
        return sum(len(t) for t in self.pending.values())


def plan_rows(spec: SweepSpec, machine, points: list[dict], splits: list, wid_of: dict,
              done: set[str], version: str, first_index: int = 0) -> Plan:
    plan = Plan()
    for i, (point, (preset, overrides, knobs, options)) in enumerate(
            zip(points, splits, strict=True), start=first_index):
        try:
            cfg = machine.build_config(preset or spec.base, overrides)
            cdict, err = config_dict(cfg), None
        except AccelError as exc:  # this combination is not a valid machine: record it
            cfg, cdict, err = None, {"invalid": point}, f"{type(exc).__name__}: {exc}"
        keys = []
        for wspec in spec.workloads:
            wid = wid_of[(wspec, tuple(sorted(knobs.items())))]
            key = point_key(spec.machine, cdict, wid, options, version)
            keys.append(key)
            if key in plan.rows_meta:
                continue  # two points that resolve to the same design: evaluate once
            meta = {"key": key, "spec": spec.name, "point": i, "machine": spec.machine,
                    "workload": wspec, "workload_id": wid, "model_version": version,
                    "params": point, "config": cdict, "options": options}
            plan.rows_meta[key] = meta
            if key in done:
                plan.already += 1
            elif err is not None:
                plan.invalid.append({**meta, "status": "failed", "error": err, "metrics": {}})
            else:
                plan.pending.setdefault(wid, []).append((key, cfg, wid, options))
        plan.keys_of_point.append(keys)
    return plan


def take_first(pending: dict[str, list[Task]]) -> list:
    """The first pending task as a one-task chunk, removed from ``pending``."""
    if not pending:
        return []
    wid0 = next(iter(pending))
    first = [(wid0, [pending[wid0].pop(0)])]
    if not pending[wid0]:
        del pending[wid0]
    return first


# --- committing rows ------------------------------------------------------------------
class Recorder:
    """Receives results, checks the objectives on the first ok one, and commits rows in
    batches.  Before a store is open (the warm-up) rows are held; ``flush`` commits."""

    max_rows = 256       # rows per transaction at most
    max_seconds = 0.25   # commit when the last commit is this old (executors yield [] when
                         # idle, every IDLE_YIELD_SECONDS): a SIGKILL loses under half a second

    def __init__(self, spec: SweepSpec, rows_meta: dict[str, dict],
                 on_progress: Callable[[int], None] | None = None):
        self.rows_meta = rows_meta
        self.on_progress = on_progress
        self.unchecked = [o.metric for o in spec.objectives if o.metric not in spec.parameters]
        self.machine = spec.machine
        self.fit = spec.fit
        self.store: Store | None = None
        self.buffer: list[dict] = []
        self.saved = self.computed = self.failed = self.infeasible = 0
        self._since = time.monotonic()

    def add(self, results: list[dict], count: bool = True) -> None:
        self.check_objectives(results)
        rows = [self.with_fit({**self.rows_meta[r["key"]], **r}) for r in results]
        self.buffer += rows
        if count:
            self.computed += len(results)
            self.failed += sum(r["status"] == "failed" for r in rows)
            self.infeasible += sum((r.get("metrics") or {}).get("feasible") == 0 for r in rows)
        if self.on_progress and results:
            self.on_progress(len(results))
        if len(self.buffer) >= self.max_rows or time.monotonic() - self._since >= self.max_seconds:
            self.flush()

    def with_fit(self, row: dict) -> dict:
        """An ok row with the spec's fit metrics added (accel.sweep.fit): an infeasible
        design is stored like any other, marked and with its margins."""
        if row.get("status") != "ok":
            return row
        metrics = row.get("metrics") or {}
        if self.fit is None:
            # a design its model could not run (DoesNotFit) with no fit check to mark it:
            # a failed point with the model's message, as any model error
            return {**row, "status": "failed", "metrics": {}} if fitting.MODEL_FAIL in metrics else row
        return {**row, "metrics": {**metrics, **fitting.check(self.fit, metrics, row["config"])}}

    def check_objectives(self, results: list[dict]) -> None:
        """Objectives name metrics; which metrics a machine reports is known once a point
        has been evaluated, so the first ok result is checked."""
        ok = next((r for r in results if r["status"] == "ok"
                   and fitting.MODEL_FAIL not in (r.get("metrics") or {})), None)
        if self.unchecked and ok is not None:
            missing = [m for m in self.unchecked if m not in ok["metrics"]]
            if missing:
                raise ConfigError(f"objectives: {self.machine} reports no metric {missing[0]!r}"
                                  f"{_suggest(missing[0], sorted(ok['metrics']))}")
            self.unchecked = []

    def flush(self) -> None:
        if self.store is not None and self.buffer:
            rows, self.buffer = self.buffer, []
            self.store.write(rows)
            self.saved += len(rows)
        self._since = time.monotonic()


def drain(stream, recorder: Recorder) -> None:
    """Feed every result of an executor stream to ``recorder``; the workers are stopped
    when this returns or raises, not whenever the generator is collected."""
    try:
        for results in stream:
            recorder.add(results)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


# --- stages 4-6 -----------------------------------------------------------------------
def warm_up(executor, machine, first: list, workloads: dict, recorder: Recorder,
            on_warmup: Callable[[str], None] | None) -> float:
    """Evaluate the first pending point alone (seconds it took); its rows stay in the
    recorder until the store is open."""
    if not first:
        return 0.0
    if on_warmup:
        on_warmup(machine.name)
    t0 = time.perf_counter()
    drain(executor.run(machine, first, workloads), recorder)
    return time.perf_counter() - t0


def open_store(db: Path, fresh: bool, spec: SweepSpec) -> Store:
    """The destructive step (``--fresh``), only once everything is validated."""
    store = Store(db, fresh=fresh)
    store.set_meta(f"spec:{spec.name}", {
        "machine": spec.machine, "base": spec.base, "workloads": list(spec.workloads),
        "parameters": {k: list(v) for k, v in spec.parameters.items()},
        "constraints": [c.text for c in spec.constraints],
        "objectives": [{"metric": o.metric, "goal": o.goal} for o in spec.objectives],
        "search": spec.search_meta(), "source": spec.source,
        "fit": spec.fit.to_meta() if spec.fit is not None else None})
    store.refit(spec.name, lambda metrics, config: fitting.refit(spec.fit, metrics, config))
    return store


def evaluate_rest(executor, machine, pending: dict, workloads: dict, recorder: Recorder) -> float:
    t0 = time.perf_counter()
    chunks = chunked(pending, max(1, executor.workers))
    if chunks:
        drain(executor.run(machine, chunks, workloads), recorder)
    return time.perf_counter() - t0


def interrupted(exc: BaseException, recorder: Recorder, db: Path, already: int, n_rows: int
                ) -> Interrupted:
    signum = exc.signum if isinstance(exc, Stop) else 2
    try:
        if recorder.store is not None:
            recorder.store.refresh_view()
    except (KeyboardInterrupt, Stop, AccelError, OSError, sqlite3.Error):
        pass
    return Interrupted(f"{'terminated' if signum == 15 else 'interrupted'}: {recorder.saved} rows "
                       f"saved to {db} ({already + recorder.saved} of {n_rows} done); rerun the "
                       "same command to resume", signum)


def evaluate_plan(spec: SweepSpec, db: Path, fresh: bool, machine, executor, plan: Plan,
                  workloads: dict, callbacks: Callbacks, store: Store | None = None,
                  warm: bool = True) -> dict:
    """Stages 4-6 for one plan; returns the summary's run statistics.  ``store``: an
    open store to write to (a search's later generations) instead of opening one;
    ``warm``: run the first point alone first (kernels compile or load once)."""
    recorder = Recorder(spec, plan.rows_meta, callbacks.progress)
    first = take_first(plan.pending) if warm else []
    if callbacks.total and (first or plan.pending or plan.invalid):
        callbacks.total(len(first) + plan.n_pending() + len(plan.invalid))
    created = store is None and (not db.exists() or fresh or blank_sqlite(db))
    try:
        try:
            warmup = warm_up(executor, machine, first, workloads, recorder, callbacks.warmup)
            recorder.store = store if store is not None else open_store(db, fresh, spec)
            recorder.computed += len(plan.invalid)
            recorder.failed += len(plan.invalid)
            recorder.add(plan.invalid, count=False)
            recorder.flush()
            seconds = evaluate_rest(executor, machine, plan.pending, workloads, recorder)
            recorder.flush()
        except (KeyboardInterrupt, Stop) as exc:   # Ctrl-C, or the CLI's SIGINT/SIGTERM
            recorder.flush()   # the executor has stopped the workers: commit every row received
            raise interrupted(exc, recorder, db, plan.already, plan.n_rows) from None
        except ConfigError:
            if created and recorder.store is not None:   # a bad objective: leave no file
                recorder.store.close()
                recorder.store = None
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
            raise
        except StoreError as exc:   # e.g. the disk filled up mid-sweep: say what is kept
            if recorder.store is None:
                raise
            raise StoreError(f"{exc}; {recorder.saved} rows of this run were saved "
                             "before it; rerun to resume") from None
        if store is None:
            recorder.store.refresh_view()
    finally:
        if store is None and recorder.store is not None:
            recorder.store.close()
    rest = recorder.computed - len(first) - len(plan.invalid)
    return {"computed": recorder.computed, "failed": recorder.failed,
            "infeasible": recorder.infeasible, "seconds": round(seconds, 3),
            "rate": round(rest / seconds, 2) if rest > 0 and seconds > 0 else 0.0,
            "executor": executor.kind, "workers": executor.workers,
            "warmup_seconds": round(warmup, 3)}
