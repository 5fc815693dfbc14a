"""Robustness: SIGKILL mid-sweep then resume; Dask LocalCluster equals the local pool; on
Dask a point that never ends or kills its process is recorded failed and the sweep ends."""

from __future__ import annotations

import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sweep_support import HERE, TOY_SPEC, committed_rows, metrics_by_key
from toy_machine.gate import Gate

from accel.sweep import parse_spec, run_sweep
from accel.sweep.points import design_points

_LAUNCH = ("import sys; sys.path.insert(0, {here!r}); import toy_machine; toy_machine.register(); "
           "from accel.cli import main; sys.exit(main({argv!r}))")
FINISHED = 9


def test_sigkill_mid_sweep_then_resume(tmp_path, write_spec):
    """SIGKILL of the whole process group once exactly FINISHED rows are committed and
    both workers hold a point at the toy's barrier."""
    gate = Gate(tmp_path / "gate")
    spec_data = copy.deepcopy(TOY_SPEC)
    spec_data["parameters"]["gate"] = str(gate)
    spec = write_spec(spec_data)
    total = len(design_points(parse_spec(spec_data)))
    killed_db = tmp_path / "killed.sqlite"
    argv = ["sweep", str(spec), "--db", str(killed_db), "--workers", "2", "--quiet"]
    gate.allow(FINISHED)
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH.format(here=str(HERE), argv=argv)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        gate.await_arrivals(FINISHED + 2, alive=lambda: proc.poll() is None)
        deadline = time.monotonic() + 60
        while committed_rows(killed_db) < FINISHED:
            assert proc.poll() is None and time.monotonic() < deadline, committed_rows(killed_db)
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its pool workers
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    done_before = committed_rows(killed_db)
    assert done_before == FINISHED < total

    gate.open()
    s = run_sweep(parse_spec(spec_data), killed_db, workers=2)
    assert s.already_done == done_before and s.computed == total - done_before
    conn = sqlite3.connect(killed_db)
    keys = [k for (k,) in conn.execute("SELECT key FROM results")]
    per_point = conn.execute("SELECT COUNT(*), COUNT(DISTINCT point) FROM results").fetchone()
    conn.close()
    assert len(keys) == len(set(keys)) == total and per_point == (total, total)

    clean = tmp_path / "clean.sqlite"
    run_sweep(parse_spec(spec_data), clean, workers=2)
    assert metrics_by_key(killed_db) == metrics_by_key(clean)


@pytest.mark.timeout(300)
def test_dask_local_equals_local_pool(tmp_path, write_spec, cli):
    spec = write_spec(TOY_SPEC)
    local, dask = tmp_path / "local.sqlite", tmp_path / "dask.sqlite"
    rc, out, err = cli("sweep", spec, "--db", local, "--workers", "2", "--json", "--quiet")
    assert rc == 0, err
    rc, out, err = cli("sweep", spec, "--db", dask, "--dask-local", "2", "--json", "--quiet")
    assert rc == 0, err
    s = json.loads(out)
    assert s["executor"] == "dask" and s["workers"] == 2 and s["computed"] == s["rows"]
    assert metrics_by_key(local) == metrics_by_key(dask)


@pytest.mark.timeout(300)
def test_dask_hanging_and_dying_points_are_failed_not_fatal(tmp_path):
    """A real LocalCluster on loopback: the point at rows=4 sleeps an hour, the one at
    rows=8 SIGKILLs its process.  Each is recorded failed with its reason within the
    --point-timeout; the Dask workers survive and the other points are ok."""
    spec = copy.deepcopy(TOY_SPEC)
    spec["parameters"] = {"rows": [2, 4, 8, 16], "cols": [4], "nm": ["dense"],
                          "clock_mhz": [100], "hang_rows": 4, "die_rows": 8}
    spec["constraints"] = []
    db = tmp_path / "dask-faults.sqlite"
    t0 = time.monotonic()
    s = run_sweep(parse_spec(spec), db, dask_local=2, point_timeout=5.0)
    took = time.monotonic() - t0
    conn = sqlite3.connect(db)
    got = {json.loads(p)["rows"]: (st, err) for p, st, err in
           conn.execute("SELECT params, status, error FROM results")}
    conn.close()
    assert s.rows == 4 and s.failed == 2, s
    assert got[2][0] == got[16][0] == "ok"
    assert got[4][0] == "failed" and got[4][1].startswith("Timeout")
    assert got[8][0] == "failed" and "killed by signal 9" in got[8][1]
    assert took < 120, took              # the hour-long point cost about its 5 s
