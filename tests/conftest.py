"""Fixtures shared by the whole suite.

The workload cache (accel.workloads.builtin) points at a per-run temporary folder,
so tests never read a stale entry from the user's ~/.cache and never write to it, while
every test of one run (every xdist worker too) shares the MiniLM extractions it builds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests are reproducible where it matters: `make test` and CI load "ci"
# (derandomized: the same examples every run, so a failure is a bug, never a flake).
# Set HYPOTHESIS_PROFILE=explore locally for a wider, random search.
# Under pytest-xdist every worker imports this file, so every worker loads the same
# profile; database=None keeps workers from sharing (and racing on) .hypothesis/.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# An empty kernel cache stays empty: the kernels ``make install`` compiled into the
# checkout's accel/_prebuilt_kernels are not copied in (accel.arch._numba_cache.seed), so
# the tests of first-run compiles, warm-up and cache accounting see what they set up.
# The suite runs on the user cache, which ``make install`` seeded; the seeding tests
# turn the copy back on themselves.  Subprocesses inherit it.
os.environ["ACCEL_NO_PREBUILT"] = "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "heavy: long regressions (minutes of CPU); left out of `make test`, "
                   "run by `make test-all` and CI")


# The `heavy` tier: `make test-all` (and CI) run these, `make test` leaves them out.  Each
# took 1.5-6.5 min of one worker in a 2-worker run (Verilator builds on a loaded 2-core
# machine, `--durations`); every unit they cover keeps a cheaper test in `make test`:
# the INT8 array its 2:4 regression (dense, extreme and ragged tiles included), the FP16
# array its 4x4 fwd/bwd phases, the weight generator its CLI mask check, sweeps their
# toy-machine kill/resume/Dask tests (tests/sweep/test_sweep_faults, _kill_dask).
HEAVY = (
    "tests/hw/test_rtl_fp16.py::test_fp16_8x8_bdwp28_pipelined",
    "tests/hw/test_rtl_fp16.py::test_fp16_4x8_bdwp24_pipelined",
    "tests/hw/test_rtl_pipelined.py::test_minilm_runs_pipelined",
    "tests/hw/test_cli_rtl.py::test_cosim_fp16_training_bwd_data_cli",
    "tests/hw/test_cli_rtl.py::test_cosim_minilm_ffn_2to4",
    "tests/hw/test_rtl_weight_gen.py::test_weight_gen_minilm_bdwp28",
    "tests/hw/test_rtl_regression.py::test_minilm_tiles_sparse[2:8]",
    "tests/hw/test_rtl_regression.py::test_minilm_tiles_sparse[1:4]",
    "tests/sweep/test_sweep_robust_real.py::test_real_model_sigkill_resume_and_dask",
    "tests/arch/test_numba_cache.py::test_edit_to_a_called_module_constant_changes_timing_without_clearing",
)


def pytest_itemcollected(item):
    if item.nodeid in HEAVY:
        item.add_marker(pytest.mark.heavy)


# Tests that take a minute or more, longest first (`--durations` of a 2-worker run here;
# the Verilator ones longer still on a clean build cache).  xdist hands tests out in
# collection order, keeping each worker about three ahead, so a long test collected last
# ran alone at the end while the other worker idled: the README's slow commands (400 s)
# came last in the slow tier, which took 10.4 min where its work fits in ~8 per worker.
LONG_FIRST = (
    "tests/test_readme_commands.py::test_every_readme_command_runs_as_written",
    "tests/report/test_readme_results.py::test_readme_results_table_matches_the_models",
    "tests/hw/test_rtl_fp16.py::test_fp16_8x8_bdwp28_pipelined",
    "tests/hw/test_rtl_design_build.py::test_small_design_builds_exact_and_rebuilds_from_its_yaml",
    "tests/hw/test_rtl_fp16.py::test_fp16_4x8_bdwp24_pipelined",
    "tests/test_readme_commands.py::test_readme_commands_run_as_written",
    "tests/hw/test_rtl_design_build.py::test_model_rtl_disagreement_exits_1_naming_the_tile",
    "tests/sweep/test_sweep_robust_real.py::test_real_model_sigkill_resume_and_dask",
)


@pytest.hookimpl(trylast=True)   # after `-m` has deselected: reorder what runs
def pytest_collection_modifyitems(config, items):
    rank = {nodeid: i for i, nodeid in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))   # stable: the rest keep order


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest-xdist absent: the suite runs in one process
    LoadScopeScheduling = None

if LoadScopeScheduling is not None:
    class _EachTestOnItsOwn(LoadScopeScheduling):
        """``--dist loadgroup`` as this suite uses it: every test a unit of its own, handed
        out in collection order (``LONG_FIRST`` first) to whichever worker is free.  The
        Verilator tests need no worker of their own: two builds of one configuration
        serialise on its build folder's lock (``accel.hw.blocks.cosim_runner.build_lock``).
        xdist's own loadgroup groups by a suffix it writes into ``item._nodeid``, which
        pytest 9 no longer reads; the controller sees node ids only."""

        def _split_scope(self, nodeid: str) -> str:
            return nodeid

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadgroup":
            return _EachTestOnItsOwn(config, log)
        return None


def _shared_tmp(tmp_path_factory, name: str) -> Path:
    """A folder every xdist worker of this run shares (the plain session folder without
    xdist): workloads are written atomically, so workers can share their extractions."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent          # pytest-of-<user>/pytest-N/, the run's common root
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _session_workload_cache(tmp_path_factory):
    old = os.environ.get("ACCEL_CACHE_DIR")
    os.environ["ACCEL_CACHE_DIR"] = str(_shared_tmp(tmp_path_factory, "accel-cache"))
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
def tiny_llm_config():
    """Path (str) of a small LLaMA-style Hugging Face config.json (tests/data): an LLM
    workload that builds and simulates in milliseconds."""
    return str(Path(__file__).parent / "data" / "tiny-llama-config.json")


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


@pytest.fixture(scope="session")
def bad_workload_files(workload_dir):
    """name -> path of files `accel` must refuse: pickled, truncated, future schema."""
    import json
    import zipfile

    import numpy as np

    from accel.workloads import io
    from accel.workloads.formats import Dense
    from accel.workloads.ops import Gemm, Workload

    good = io.save(Workload("w", [Gemm("g", "fwd", 2, 3, 4,
                                       Dense((3, 4), np.ones((3, 4), np.float32)))]),
                   workload_dir / "good.npz")
    pickled = workload_dir / "pickled.npz"
    np.savez(pickled, **{"manifest.json": np.frombuffer(b"{}", np.uint8)},
             evil=np.array([{"a": 1}], dtype=object))
    truncated = workload_dir / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    future = workload_dir / "future.npz"
    with zipfile.ZipFile(good) as z, np.load(good) as data:
        arrays = {n[: -len(".npy")]: data[n[: -len(".npy")]] for n in z.namelist()}
    man = json.loads(arrays["manifest.json"].tobytes())
    man["schema_version"] = io.SCHEMA_VERSION + 1
    arrays["manifest.json"] = np.frombuffer(json.dumps(man).encode(), np.uint8)
    np.savez(future, **arrays)
    return {"good": good, "pickled": pickled, "truncated": truncated, "future": future}
