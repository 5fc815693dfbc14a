"""Fixtures shared by the whole suite.

The workload cache (accel.workloads.builtin) points at a per-session temporary folder,
so tests never read a stale entry from the user's ~/.cache and never write to it, while
every test of one session shares the MiniLM extractions it builds.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_workload_cache(tmp_path_factory):
    old = os.environ.get("ACCEL_CACHE_DIR")
    os.environ["ACCEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("accel-cache"))
    yield
    if old is None:
        os.environ.pop("ACCEL_CACHE_DIR", None)
    else:
        os.environ["ACCEL_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def workload_dir(tmp_path_factory):
    """A session-scoped folder for workload files that several tests read."""
    return tmp_path_factory.mktemp("workloads")


@pytest.fixture(scope="session")
def minilm_weights():
    """Module name -> W (out, in) of the real MiniLM checkpoint (read-only arrays)."""
    from accel.workloads.checkpoint import load_linear_weights

    return load_linear_weights("minilm-l6")


@pytest.fixture(scope="session")
def minilm_workload():
    """Memoised ``resolve("minilm-l6", ...)`` at a short sequence length (32 tokens)."""
    from accel.workloads.builtin import resolve

    memo = {}

    def get(prune="dense", training=False, seq_len=32, batch=1):
        key = (prune, training, seq_len, batch)
        if key not in memo:
            memo[key] = resolve("minilm-l6", prune=prune, training=training, seq_len=seq_len,
                                batch=batch)
        return memo[key]

    return get
