"""The kill and Dask guarantees again, on a real machine model (PIUMA, real R-MAT SpGEMM)
rather than the toy: a SIGKILLed sweep resumes to exactly one row per point with the
metrics of an uninterrupted run, and a Dask LocalCluster gives the local pool's rows.

The points run ``piuma-gated`` (PIUMA's model behind the test barrier): the kill lands
when exactly ``FINISHED`` rows are committed and both workers hold a point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sweep_support import HERE, committed_rows, metrics_by_key
from toy_machine.gate import Gate

from accel.sweep import parse_spec, run_sweep
from accel.sweep.points import design_points

SPEC = {
    "name": "piuma-robust",
    "machine": "piuma-gated",
    "base": "piuma",
    "workloads": ["rmat:9"],
    "parameters": {
        "algorithm": ["smash-v1", "smash-v2", "smash-v3", "inner", "outer"],
        "threads_per_pipeline": [4, 8, 16],
        "hash_table_entries": [1024, 2048],
    },
    "objectives": {"cycles": "min", "dram_bytes": "min"},
}
FINISHED = 7
_LAUNCH = ("import sys; sys.path.insert(0, {here!r}); import toy_machine; toy_machine.register(); "
           "from accel.cli import main; sys.exit(main({argv!r}))")


@pytest.mark.timeout(600)
def test_real_model_sigkill_resume_and_dask(tmp_path, write_spec, cli):
    gate = Gate(tmp_path / "gate")
    spec = {**SPEC, "parameters": {**SPEC["parameters"], "gate": str(gate)}}
    spec_path = write_spec(spec)
    total = len(design_points(parse_spec(spec)))

    killed = tmp_path / "killed.sqlite"
    gate.allow(FINISHED)
    argv = ["sweep", str(spec_path), "--db", str(killed), "--workers", "2", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH.format(here=str(HERE), argv=argv)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        gate.await_arrivals(FINISHED + 2, alive=lambda: proc.poll() is None)
        deadline = time.monotonic() + 60
        while committed_rows(killed) < FINISHED:
            assert proc.poll() is None and time.monotonic() < deadline, committed_rows(killed)
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)   # coordinator and workers, mid-sweep
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert committed_rows(killed) == FINISHED

    gate.open()
    s = run_sweep(parse_spec(spec), killed, workers=2)
    assert s.already_done == FINISHED and s.computed == total - FINISHED and s.failed == 0
    clean = tmp_path / "clean.sqlite"
    rc, _, err = cli("sweep", spec_path, "--db", clean, "--workers", "2", "--quiet")
    assert rc == 0, err
    assert metrics_by_key(killed) == metrics_by_key(clean)   # none lost, none duplicated

    dask = tmp_path / "dask.sqlite"
    rc, _, err = cli("sweep", spec_path, "--db", dask, "--dask-local", "2", "--quiet")
    assert rc == 0, err
    assert metrics_by_key(dask) == metrics_by_key(clean)
