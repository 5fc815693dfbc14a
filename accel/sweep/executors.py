"""Executors: evaluate chunks of design points on local processes or a Dask cluster.

The coordinator resolves every workload once and hands executors *chunks*: a list of
(key, config, workload id, simulate options) that share one workload.  Workers only
run :func:`evaluate_chunk` and return plain dicts; they never touch the store.

* ``LocalExecutor``: ``fork``-context worker processes, ``workers`` = cores by default
  (at most ``MAX_WORKERS_PER_CORE`` per core).  The resolved workloads are placed in a
  module global *before* the fork, so children inherit them without pickling; a worker
  lives until it is replaced, so a Numba kernel is loaded once per worker.  A point
  that runs past ``point_timeout`` or kills its worker is recorded failed with the
  reason and the worker replaced; workers die with their coordinator (PDEATHSIG, and
  a parent-pid poll while idle).
* ``DaskExecutor``: ``Client(scheduler)`` for an existing cluster, or a
  ``distributed.LocalCluster`` on 127.0.0.1 (``--dask-local N``).  Workloads are
  scattered once (broadcast) and passed as futures, so each worker receives each
  workload once.  A Dask task never runs a point itself: it forks a child for its chunk
  (``_guarded_chunk``) and watches it as the local executor watches its workers, so a
  point past ``point_timeout`` or one that kills its process is recorded failed and the
  Dask worker lives on; a task that fails anyway (its worker lost) records its chunk's
  points failed instead of ending the sweep.
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import numbers
import os
import signal
import time
import traceback
from collections import deque
from collections.abc import Iterator
from typing import Any

from accel.errors import AccelError, DoesNotFit
from accel.sweep.routing import evaluate

Task = tuple[str, Any, str, dict]   # (key, config object, workload content id, options)
Chunk = tuple[str, list[Task]]      # (workload content id, tasks)

_WORKLOADS: dict[str, Any] = {}     # content id -> Workload, inherited by forked workers


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {msg[0] if msg else ''}"
    if not isinstance(exc, AccelError):  # a model bug: say where it happened
        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            text += f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})"
    return text[:500]


def evaluate_chunk(machine, tasks: list[Task], workload=None) -> list[dict]:
    """Evaluate each task; a point that raises is returned as failed, the rest go on."""
    out = []
    for key, config, wid, options in tasks:
        wl = workload if workload is not None else _WORKLOADS[wid]
        t0 = time.perf_counter()
        try:
            metrics = evaluate(machine, wl, config, options)
            bad = [k for k, v in metrics.items()
                   if isinstance(v, numbers.Real) and not math.isfinite(float(v))]
            if bad:  # a NaN/inf metric is a failed point, never an "ok" row with a NaN in it
                raise ArithmeticError(f"metric {bad[0]!r} is {metrics[bad[0]]!r} (not finite)")
            out.append({"key": key, "status": "ok", "metrics": metrics, "error": None,
                        "seconds": time.perf_counter() - t0})
        except DoesNotFit as exc:   # the board cannot hold the design: infeasible, not broken
            from accel.sweep.fit import misfit_metrics

            out.append({"key": key, "status": "ok", "metrics": misfit_metrics(exc),
                        "error": _one_line(exc), "seconds": time.perf_counter() - t0})
        except Exception as exc:  # noqa: BLE001 - recorded per point, the sweep continues
            out.append({"key": key, "status": "failed", "metrics": {}, "error": _one_line(exc),
                        "seconds": time.perf_counter() - t0})
    return out


def _warm(machine) -> None:
    """Import the model once so its Numba kernels load up front."""
    try:
        machine.model_module()
    except Exception:  # noqa: BLE001 - an import problem surfaces per point instead
        pass


# --- local worker processes -------------------------------------------------------------
DEFAULT_POINT_TIMEOUT = 600.0   # s per design point; the slowest demo point takes ~10 s
MAX_WORKERS_PER_CORE = 4        # more processes than this only add memory and contention
MAX_WORKERS_ABS = 256
_PARENT_POLL_SECONDS = 1.0      # a worker notices a dead coordinator within this
IDLE_YIELD_SECONDS = 0.2        # executors yield [] this often while no result arrives


def max_workers() -> int:
    return min(MAX_WORKERS_ABS, MAX_WORKERS_PER_CORE * (os.cpu_count() or 1))


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when its coordinator dies, even while
    the worker is deep inside a Numba kernel that never returns to Python."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the poll below still works
        pass


def _worker_main(conn, machine, parent: int) -> None:
    """Worker loop: receive a chunk, send one result per point, repeat; exit on None or
    when the coordinator is gone (checked every second while idle)."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the coordinator's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent:
        os._exit(0)
    _warm(machine)
    try:
        while True:
            if not conn.poll(_PARENT_POLL_SECONDS):
                if os.getppid() != parent:
                    break
                continue
            tasks = conn.recv()
            if tasks is None:
                break
            if isinstance(tasks, tuple):   # ("workload", id, Workload): one made after the fork
                _WORKLOADS[tasks[1]] = tasks[2]
                continue
            for task in tasks:
                conn.send(("start", task[0]))   # the point's clock starts now, not at dispatch
                conn.send(evaluate_chunk(machine, [task])[0])
    except BaseException:  # noqa: BLE001 - EOF, a dead pipe, a stray signal: just leave
        pass
    os._exit(0)


def check_workers(workers: int | None) -> int | None:
    """``--workers``: None (= cores) or 1..max_workers(); the message names the bound."""
    if workers is None:
        return None
    limit = max_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise AccelError(f"--workers must be an integer in 1..{limit}, got {workers}")
    if workers > limit:
        raise AccelError(f"--workers {workers} is more than {limit} (the limit: "
                         f"{MAX_WORKERS_PER_CORE} per core on this {os.cpu_count()}-core machine)")
    return workers


MAX_POINT_TIMEOUT = 7 * 86400.0  # a week: beyond that it is a typo, not a design point


def check_point_timeout(seconds: float | None) -> float | None:
    """``--point-timeout``: seconds in (0, a week]; None disables the limit (API only)."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or \
            not math.isfinite(seconds) or not 0 < seconds <= MAX_POINT_TIMEOUT:
        raise AccelError(f"--point-timeout must be seconds in (0, {MAX_POINT_TIMEOUT:g}], got {seconds}")
    return float(seconds)


class _Slot:
    """One worker process and the points it still owes for its current chunk."""

    def __init__(self, ctx, machine):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, machine, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.known = set(_WORKLOADS)   # workloads the worker inherited
        self.owed: list[Task] = []
        self.since = 0.0   # when the point now running started (monotonic)

    def give(self, tasks: list[Task]) -> None:
        self.owed = list(tasks)
        self.since = time.monotonic()
        wid = tasks[0][2]
        if wid not in self.known:   # resolved after this worker was forked: send it once
            self.conn.send(("workload", wid, _WORKLOADS[wid]))
            self.known.add(wid)
        self.conn.send(tasks)

    def stop(self, grace: float = 0.0) -> None:
        if self.proc.is_alive() and grace > 0:
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(grace)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _failed(task: Task, reason: str, seconds: float) -> dict:
    return {"key": task[0], "status": "failed", "metrics": {}, "error": reason[:500],
            "seconds": seconds}


class LocalExecutor:
    """``workers`` forked processes, each handed one chunk at a time.

    Each point's wall time is watched: past ``point_timeout`` seconds its worker is
    killed and replaced and the point is recorded failed ("timed out"); a worker that
    dies (segfault, OOM killer) costs only the point it was running.  Results stream
    back one point at a time, so the coordinator can commit each as it arrives."""

    kind = "local"

    def __init__(self, workers: int, point_timeout: float | None = DEFAULT_POINT_TIMEOUT):
        self.workers = check_workers(workers)
        self.point_timeout = check_point_timeout(point_timeout)
        self._slots: list[_Slot] = []   # idle workers kept between runs (until close)
        self._machine = None

    def close(self) -> None:
        """Stop the workers kept between runs."""
        for slot in self._slots:
            slot.stop(grace=0.5 if not slot.owed else 0.0)
        self._slots = []

    def run(self, machine, chunks: list[Chunk], workloads: dict[str, Any]) -> Iterator[list[dict]]:
        """Evaluate ``chunks``; the workers stay up after a complete run (a search's next
        generation, the grid's rest after its warm-up point reuse them and what they
        have loaded and memoised), and are stopped at once if the run is abandoned."""
        if self._machine != machine:
            self.close()
            self._machine = machine
        _WORKLOADS.update(workloads)   # inherited by workers forked from now on, never pickled
        ctx = mp.get_context("fork")
        queue: deque[list[Task]] = deque(tasks for _wid, tasks in chunks if tasks)
        slots = self._slots
        try:
            while len(slots) < min(self.workers, len(queue)):
                slots.append(_Slot(ctx, machine))
            while True:
                for i, slot in enumerate(slots):
                    if not slot.owed and queue:
                        try:
                            slot.give(queue.popleft())
                        except OSError:  # it died while idle: replace it, keep the chunk
                            queue.appendleft(slot.owed)
                            slot.stop()
                            slots[i] = _Slot(ctx, machine)
                busy = [s for s in slots if s.owed]
                if not busy:
                    break
                timeout = IDLE_YIELD_SECONDS
                if self.point_timeout is not None:
                    now = time.monotonic()
                    timeout = max(0.01, min(timeout, min(s.since + self.point_timeout - now
                                                         for s in busy)))
                waitables = [s.conn for s in busy] + [s.proc.sentinel for s in busy]
                ready = set(mp_connection.wait(waitables, timeout))
                if not ready:
                    yield []   # idle: the coordinator may commit what it holds
                for i, slot in enumerate(slots):
                    if not slot.owed:
                        continue
                    out, dead = self._drain(slot, ready)
                    if out:
                        yield out
                    now = time.monotonic()
                    reason = None
                    if dead:
                        code = slot.proc.exitcode
                        how = (f"killed by signal {-code}" if code is not None and code < 0
                               else f"exit code {code}")
                        reason = f"WorkerDied: the worker process died ({how}) on this point"
                    elif self.point_timeout is not None and now - slot.since > self.point_timeout:
                        reason = (f"Timeout: no result after {self.point_timeout:g} s "
                                  "(--point-timeout); worker replaced")
                    if reason is not None and slot.owed:
                        lost = slot.owed[0]
                        rest = slot.owed[1:]
                        seconds = now - slot.since
                        slot.owed = []
                        slot.stop()
                        if rest:
                            queue.appendleft(rest)
                        slots[i] = _Slot(ctx, machine)
                        yield [_failed(lost, reason, seconds)]
        except BaseException:   # interrupted, or the consumer stopped: no worker lives on
            self.close()
            raise

    @staticmethod
    def _drain(slot: _Slot, ready: set) -> tuple[list[dict], bool]:
        """Every result the worker has sent; ``dead`` if its process is gone."""
        out: list[dict] = []
        dead = False
        if slot.conn in ready or slot.proc.sentinel in ready:
            try:
                while slot.owed and slot.conn.poll():
                    r = slot.conn.recv()
                    if isinstance(r, tuple):   # ("start", key): the worker began a point
                        slot.since = time.monotonic()
                        continue
                    out.append(r)
                    slot.owed = [t for t in slot.owed if t[0] != r["key"]]
                    slot.since = time.monotonic()
            except (EOFError, OSError):
                dead = True
            if slot.owed and not slot.proc.is_alive():
                dead = True
        return out, dead


def _guarded_chunk(machine, tasks: list[Task], workload, point_timeout: float | None
                   ) -> list[dict]:
    """On a Dask worker: evaluate ``tasks`` in a forked child, one point at a time, with the
    local workers' protocol ("start", then the result).  Past ``point_timeout`` seconds on
    a point the child is killed and the point recorded failed; a child that dies (signal,
    OOM killer) costs its point.  Either way a new child takes the rest.  ``os.fork``, not
    ``multiprocessing``: Dask worker processes are daemonic and may not start
    ``Process``es; the workload is set in the module global before the fork, so the child
    inherits it and the kernels ``_warm`` loaded."""
    wid = tasks[0][2]
    _WORKLOADS[wid] = workload
    _warm(machine)
    out: list[dict] = []
    todo = list(tasks)
    try:
        while todo:
            parent, child = mp.Pipe()
            pid = os.fork()
            if pid == 0:   # the child: evaluate, report, leave without running Dask's atexit
                try:
                    parent.close()
                    _die_with_parent()
                    for task in todo:
                        child.send(("start", task[0]))
                        child.send(evaluate_chunk(machine, [task])[0])
                finally:
                    os._exit(0)
            child.close()
            since, reason = time.monotonic(), None
            try:
                while todo:
                    left = None if point_timeout is None else since + point_timeout - time.monotonic()
                    if left is not None and left <= 0:
                        reason = (f"Timeout: no result after {point_timeout:g} s "
                                  "(--point-timeout); worker replaced")
                        break
                    if not parent.poll(left):
                        continue
                    try:
                        r = parent.recv()
                    except (EOFError, OSError):
                        reason = "died"
                        break
                    since = time.monotonic()
                    if not isinstance(r, tuple):
                        out.append(r)
                        todo = [t for t in todo if t[0] != r["key"]]
            finally:
                if todo:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                _, status = os.waitpid(pid, 0)
                parent.close()
            if todo:
                if reason == "died":
                    how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                           else f"exit code {os.WEXITSTATUS(status)}")
                    reason = f"WorkerDied: the worker process died ({how}) on this point"
                out.append(_failed(todo[0], reason or "WorkerDied", time.monotonic() - since))
                todo = todo[1:]
    finally:
        _WORKLOADS.pop(wid, None)
    return out


class DaskExecutor:
    """Chunks on a Dask cluster: an existing one (``scheduler``) or a LocalCluster of
    ``local_workers`` processes on 127.0.0.1 (at most ``max_workers()``, as --workers).

    The client (and a local cluster) lives from the first ``run`` until ``close``, so
    the warm-up point and the rest (and a search's generations) share one cluster.  A
    local cluster's processes ignore SIGINT (Ctrl-C is the coordinator's: it stops the
    cluster in order, workers first, and no worker prints a KeyboardInterrupt), and
    their logs are kept to critical messages: a point's failure is recorded with its
    row, and shutdown chatter (a closed comm, a missed heartbeat) is not an error."""

    kind = "dask"

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None,
                 point_timeout: float | None = DEFAULT_POINT_TIMEOUT):
        self.point_timeout = check_point_timeout(point_timeout)
        if scheduler is None and not local_workers:
            raise AccelError("Dask executor needs --scheduler tcp://HOST:PORT or --dask-local N")
        if local_workers is not None:
            limit = max_workers()
            if isinstance(local_workers, bool) or not isinstance(local_workers, int) or \
                    not 1 <= local_workers <= limit:
                raise AccelError(f"--dask-local must be an integer in 1..{limit} (the limit: "
                                 f"{MAX_WORKERS_PER_CORE} per core on this {os.cpu_count()}-core "
                                 f"machine), got {local_workers}")
        if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
            raise AccelError(f"--scheduler must look like tcp://HOST:PORT, got {scheduler!r}")
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.workers = local_workers or 0
        self._client = self._cluster = None

    def _connect(self):
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)   # inherited by the processes
            try:
                # No dashboard; the scheduler still serves its HTTP health routes, by
                # default on 0.0.0.0:8787, so a second sweep (or any Dask on this host)
                # made it warn "Port 8787 is already in use" on stderr.  Loopback and a
                # free port instead: nothing to collide with, nothing exposed.
                self._cluster = LocalCluster(
                    n_workers=self.local_workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None, silence_logs=logging.CRITICAL,
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
                self._client = Client(self._cluster)
            finally:
                signal.signal(signal.SIGINT, old)
            return self._client
        try:
            self._client = Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise AccelError(f"cannot connect to Dask scheduler {self.scheduler}: {exc}") from None
        return self._client

    def run(self, machine, chunks: list[Chunk], workloads: dict[str, Any]) -> Iterator[list[dict]]:
        from distributed import as_completed as dask_completed

        client = self._connect()
        futures: dict = {}
        try:
            self.workers = len(client.scheduler_info().get("workers", {})) or self.workers
            needed = {wid for wid, _ in chunks}
            scattered = {wid: client.scatter(workloads[wid], broadcast=True, hash=False)
                         for wid in needed}
            futures = {client.submit(_guarded_chunk, machine, tasks, scattered[wid],
                                     self.point_timeout, pure=False): tasks
                       for wid, tasks in chunks}
            done = dask_completed(list(futures))
            while not done.is_empty():
                if not done.has_ready():
                    time.sleep(0.02)
                    yield []   # idle: the coordinator may commit what it holds
                    continue
                f = next(done)
                try:
                    rows = f.result()
                except Exception as exc:  # noqa: BLE001 - its worker lost (KilledWorker) or
                    # the task itself failed: its points are recorded failed, the sweep goes on
                    reason = f"WorkerDied: Dask task lost ({_one_line(exc)})"
                    rows = [_failed(t, reason, 0.0) for t in futures[f]]
                yield rows
        except BaseException:
            self.close()   # interrupted: stop the cluster now, in order
            raise
        finally:
            pending = [f for f in futures if not f.done()]
            if pending and self._client is not None:
                self._client.cancel(pending)

    def close(self) -> None:
        """Stop in order: the client's tasks, then a local cluster's workers, then its
        scheduler; quietly (a comm closed by the shutdown itself is not an error)."""
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is None:
            return
        quiet = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
        levels = [lg.level for lg in quiet]
        for lg in quiet:
            lg.setLevel(logging.CRITICAL)
        try:
            if cluster is not None:
                try:
                    client.retire_workers(close_workers=True)   # workers leave first
                except Exception:  # noqa: BLE001 - already gone: nothing to retire
                    pass
            client.close()
            if cluster is not None:
                cluster.close()
        finally:
            for lg, level in zip(quiet, levels, strict=True):
                lg.setLevel(level)


def chunked(tasks_by_workload: dict[str, list[Task]], workers: int, per_task_overhead: int = 16
            ) -> list[Chunk]:
    """Split tasks into chunks: a few per worker each, so progress stays smooth."""
    total = sum(len(t) for t in tasks_by_workload.values())
    size = max(1, min(64, total // max(1, workers * per_task_overhead)))
    out: list[Chunk] = []
    for wid, tasks in tasks_by_workload.items():
        for i in range(0, len(tasks), size):
            out.append((wid, tasks[i:i + size]))
    return out
