"""Sweeps that survive their parts, on the real PIUMA model (R-MAT SpGEMM):

* a NaN design point is recorded failed with its reason, the others run;
* a point that never ends (its worker stopped with SIGSTOP) is recorded failed within
  --point-timeout plus a margin, and its worker replaced;
* SIGKILL of one worker costs exactly that worker's point;
* SIGINT of the coordinator exits 130 keeping every finished row, SIGTERM exits 143,
  and the rerun completes with no row lost or duplicated;
* SIGKILL of the coordinator leaves no live worker after 10 s;
* --retry-failed evaluates failed points again on resume;
* a read-only store can still be exported and reported.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import committed_rows

from accel.sweep import parse_spec, run_sweep
from accel.sweep.executors import DEFAULT_POINT_TIMEOUT

SPEC = {
    "name": "piuma-faults",
    "machine": "piuma",
    "base": "piuma",
    "workloads": ["rmat:8"],
    "parameters": {
        "algorithm": ["smash-v1", "smash-v2", "inner", "outer"],
        "threads_per_pipeline": [4, 8, 16],
    },
    "objectives": {"cycles": "min"},
}
TOTAL = 12


def rows(db) -> list[tuple[str, str, str | None]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT key, status, error FROM results").fetchall()
    finally:
        conn.close()


def test_nan_point_is_failed_with_its_reason_and_json_stays_valid(tmp_path):
    spec = {**SPEC, "parameters": {"clock_ghz": [1.0, float("nan"), 2.0]}, "workloads": ["rmat:6"]}
    db = tmp_path / "nan.sqlite"
    s = run_sweep(parse_spec(spec), db, workers=2)
    assert s.rows == 3 and s.failed == 1
    got = rows(db)
    failed = [r for r in got if r[1] == "failed"]
    assert len(got) == 3 and len(failed) == 1
    assert "clock_ghz" in failed[0][2] and "finite" in failed[0][2]
    conn = sqlite3.connect(db)
    try:  # the view parses every JSON column: a bare NaN anywhere would break it
        view = conn.execute("SELECT clock_ghz, status FROM points ORDER BY point").fetchall()
        for (params,) in conn.execute("SELECT params FROM results"):
            json.loads(params, parse_constant=lambda c: pytest.fail(f"{c} in stored JSON"))
    finally:
        conn.close()
    assert [v[1] for v in view] == ["ok", "failed", "ok"]


def _after_first_row(db, action, timeout=120.0):
    """Run ``action(worker_process)`` on one live worker once a row is committed."""
    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # > 1: the first row is the warm-up point, run alone before the pool starts
            # (accel.sweep.runner); its worker may still be exiting when it is committed
            if committed_rows(db) > 1:
                kids = [p for p in mp.active_children() if p.is_alive()]
                if kids:
                    action(kids[0])
                    return
            time.sleep(0.005)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_point_that_never_ends_is_failed_within_the_timeout(tmp_path):
    db = tmp_path / "hang.sqlite"
    limit = 20.0  # far above a point's ~1 s (first point includes loading the kernels)
    stopped: list[int] = []

    def stop(proc):
        os.kill(proc.pid, signal.SIGSTOP)   # hung: alive, never answers
        stopped.append(proc.pid)

    watcher = _after_first_row(db, stop)
    t0 = time.monotonic()
    s = run_sweep(parse_spec(SPEC), db, workers=2, point_timeout=limit)
    took = time.monotonic() - t0
    watcher.join(5)
    assert stopped, "the sweep ended before a worker could be stopped"
    assert s.rows == TOTAL and len(rows(db)) == TOTAL
    timed_out = [r for r in rows(db) if r[1] == "failed"]
    assert len(timed_out) == 1 and "Timeout" in timed_out[0][2]
    # the stopped point cost the limit plus a margin, the rest ran on the other worker
    assert took < limit + 45
    assert not Path(f"/proc/{stopped[0]}").exists() or _zombie(stopped[0])  # killed, replaced


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def test_sigkill_of_one_worker_costs_one_point(tmp_path):
    db = tmp_path / "oom.sqlite"
    killed: list[int] = []

    def kill(proc):
        os.kill(proc.pid, signal.SIGKILL)   # what the OOM killer does
        killed.append(proc.pid)

    watcher = _after_first_row(db, kill)
    s = run_sweep(parse_spec(SPEC), db, workers=2)
    watcher.join(5)
    assert killed
    got = rows(db)
    assert s.rows == TOTAL and len(got) == TOTAL
    failed = [r for r in got if r[1] == "failed"]
    # the worker may have been between points (then nothing is lost) or on one
    assert len(failed) <= 1
    assert all("WorkerDied" in r[2] and "signal 9" in r[2] for r in failed)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _start(spec_path: Path, db: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "accel.cli", "sweep", str(spec_path), "--db", str(db),
         "--workers", "2", "--quiet", *extra],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_rows(proc, db, n=1, timeout=240.0) -> None:
    deadline = time.monotonic() + timeout
    while committed_rows(db) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_interrupt_saves_rows_exits_130_143_and_resume_loses_nothing(tmp_path, sig, code, word):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(yaml.safe_dump({**SPEC, "workloads": ["rmat:9"]}))
    db = tmp_path / "int.sqlite"
    proc = _start(spec_path, db)
    try:
        _wait_rows(proc, db)
        if proc.poll() is not None:
            pytest.skip("sweep finished before the first commit could be observed")
        proc.send_signal(sig)               # the coordinator only, as a shell's kill does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    saved = committed_rows(db)
    if proc.returncode == 0:
        pytest.skip("every point finished before the signal landed")
    assert proc.returncode == code, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {word}: {saved} rows saved"), err
    assert "Traceback" not in err
    before = {k for k, _, _ in rows(db)}
    s = run_sweep(parse_spec({**SPEC, "workloads": ["rmat:9"]}), db, workers=2)
    after = rows(db)
    assert s.already_done == saved and s.computed == TOTAL - saved
    assert len(after) == TOTAL == len({k for k, _, _ in after}) and before <= {k for k, _, _ in after}


@pytest.mark.timeout(600)
def test_sigkill_of_coordinator_leaves_no_worker_after_10_s(tmp_path):
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(yaml.safe_dump({**SPEC, "workloads": ["rmat:9"]}))
    db = tmp_path / "k.sqlite"
    proc = _start(spec_path, db)
    try:
        # past the warm-up row: that point runs alone, and its worker may be gone before
        # the pool's workers are forked, so wait until workers are seen, not for one instant
        _wait_rows(proc, db, n=2)
        deadline = time.monotonic() + 60
        workers = _children(proc.pid)
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = _children(proc.pid)
        if proc.poll() is not None:
            pytest.skip("sweep finished before its workers could be observed")
        assert workers
        os.kill(proc.pid, signal.SIGKILL)   # the coordinator only
        proc.wait(timeout=30)
        time.sleep(10)
        alive = [p for p in workers if Path(f"/proc/{p}").exists() and not _zombie(p)]
        assert not alive, f"workers outlived their coordinator: {alive}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_retry_failed_reruns_only_failed_points(tmp_path):
    spec = {**SPEC, "parameters": {"clock_ghz": [1.0, 2.0]}, "workloads": ["rmat:6"]}
    db = tmp_path / "r.sqlite"
    run_sweep(parse_spec(spec), db, workers=1)
    conn = sqlite3.connect(db)
    key = conn.execute("SELECT key FROM results ORDER BY point LIMIT 1").fetchone()[0]
    conn.execute("UPDATE results SET status='failed', error='Timeout: test', metrics='{}' WHERE key=?",
                 (key,))
    conn.commit()
    conn.close()
    again = run_sweep(parse_spec(spec), db, workers=1)
    assert again.computed == 0                       # failed rows count as done by default
    retry = run_sweep(parse_spec(spec), db, workers=1, retry_failed=True)
    assert retry.computed == 1 and retry.failed == 0
    assert [r[1] for r in rows(db)] == ["ok", "ok"]


def test_read_only_store_can_be_exported_and_reported(tmp_path, cli):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    spec = {**SPEC, "parameters": {"clock_ghz": [1.0, 2.0]}, "workloads": ["rmat:6"]}
    ro = tmp_path / "ro"
    ro.mkdir()
    db = ro / "s.sqlite"
    run_sweep(parse_spec(spec), db, workers=1)
    before = db.read_bytes()
    os.chmod(db, 0o444)
    os.chmod(ro, 0o555)
    try:
        rc, _, err = cli("sweep", "export", db, "--out", tmp_path / "o.csv")
        assert rc == 0, err
        rc, _, err = cli("report", db, "--out", tmp_path / "rep")
        assert rc == 0, err
    finally:
        os.chmod(ro, 0o755)
        os.chmod(db, 0o644)
    assert db.read_bytes() == before and oct((tmp_path / "o.csv").stat().st_mode & 0o777) == "0o644"


def test_cli_and_executor_agree_on_the_point_timeout_default():
    from accel.cli import sweep as cli_sweep

    assert cli_sweep.DEFAULT_POINT_TIMEOUT == DEFAULT_POINT_TIMEOUT


def test_demo_workers_0_exits_2(tmp_path, cli):
    rc, _, err = cli("demo", "--workers", "0", "--out", tmp_path / "d0")
    assert rc == 2 and err.startswith("error: --workers") and not (tmp_path / "d0").exists()
