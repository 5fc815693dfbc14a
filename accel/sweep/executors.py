"""Executors: evaluate chunks of design points on local processes or a Dask cluster.

The coordinator resolves every workload once and hands executors *chunks*: a list of
(key, config, workload id, simulate options) that share one workload.  Workers only
run :func:`evaluate_chunk` and return plain dicts; they never touch the store.

* ``LocalExecutor``: a ``fork``-context process pool, ``workers`` = cores by default.
  The resolved workloads are placed in a module global *before* the fork, so children
  inherit them without pickling; each worker process lives for the whole sweep, so a
  Numba kernel is compiled (or loaded from its on-disk cache) once per worker and
  reused for every point.  ``workers=1`` runs inline (no pool).
* ``DaskExecutor``: ``Client(scheduler)`` for an existing cluster, or a
  ``distributed.LocalCluster`` on 127.0.0.1 (``--dask-local N``).  Workloads are
  scattered once (broadcast) and passed as futures, so each worker receives each
  workload once.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from accel.errors import AccelError

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


def evaluate_chunk(adapter, tasks: list[Task], workload=None) -> list[dict]:
    """Evaluate each task; a point that raises is returned as failed, the rest go on."""
    out = []
    for key, config, wid, options in tasks:
        wl = workload if workload is not None else _WORKLOADS[wid]
        t0 = time.perf_counter()
        try:
            metrics = adapter.evaluate(wl, config, options)
            out.append({"key": key, "status": "ok", "metrics": metrics, "error": None,
                        "seconds": time.perf_counter() - t0})
        except Exception as exc:  # noqa: BLE001 - recorded per point, the sweep continues
            out.append({"key": key, "status": "failed", "metrics": {}, "error": _one_line(exc),
                        "seconds": time.perf_counter() - t0})
    return out


def _warm(adapter) -> None:
    """Worker initializer: import the model once so its Numba kernels load up front."""
    try:
        adapter.model_module()
    except Exception:  # noqa: BLE001 - an import problem surfaces per point instead
        pass


class LocalExecutor:
    kind = "local"

    def __init__(self, workers: int):
        if workers < 1:
            raise AccelError(f"--workers must be >= 1, got {workers}")
        self.workers = workers

    def run(self, adapter, chunks: list[Chunk], workloads: dict[str, Any]) -> Iterator[list[dict]]:
        _WORKLOADS.clear()
        _WORKLOADS.update(workloads)
        if self.workers == 1:
            for _wid, tasks in chunks:
                yield evaluate_chunk(adapter, tasks)
            return
        ctx = mp.get_context("fork")
        ex = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_warm,
                                 initargs=(adapter,))
        try:
            futures = [ex.submit(evaluate_chunk, adapter, tasks) for _wid, tasks in chunks]
            for f in as_completed(futures):
                yield f.result()
        finally:
            ex.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    kind = "dask"

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        if scheduler is None and not local_workers:
            raise AccelError("Dask executor needs --scheduler tcp://HOST:PORT or --dask-local N")
        if local_workers is not None and local_workers < 1:
            raise AccelError(f"--dask-local must be >= 1, got {local_workers}")
        if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
            raise AccelError(f"--scheduler must look like tcp://HOST:PORT, got {scheduler!r}")
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.workers = local_workers or 0

    def _client(self):
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None,
                                   silence_logs=logging.ERROR)
            return Client(cluster), cluster
        try:
            client = Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise AccelError(f"cannot connect to Dask scheduler {self.scheduler}: {exc}") from None
        return client, None

    def run(self, adapter, chunks: list[Chunk], workloads: dict[str, Any]) -> Iterator[list[dict]]:
        from distributed import as_completed as dask_completed

        client, cluster = self._client()
        try:
            self.workers = len(client.scheduler_info().get("workers", {})) or self.workers
            needed = {wid for wid, _ in chunks}
            scattered = {wid: client.scatter(workloads[wid], broadcast=True, hash=False)
                         for wid in needed}
            futures = [client.submit(evaluate_chunk, adapter, tasks, scattered[wid], pure=False)
                       for wid, tasks in chunks]
            for f in dask_completed(futures):
                yield f.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


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
