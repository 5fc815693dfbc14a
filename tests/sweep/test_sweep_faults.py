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

The faults strike at a known moment: the points run ``piuma-gated`` (PIUMA's own model
behind the test's barrier, ``toy_machine.gate``), so each test lets an exact number of
points finish, sees which worker process holds which waiting point, and only then
kills or interrupts.  Counts are exact; nothing is skipped on a lost race.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sweep_support import HERE, committed_rows
from toy_machine.gate import Gate

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


def gated(gate: Gate, **changes) -> dict:
    """SPEC on ``piuma-gated``, every point waiting at ``gate``."""
    spec = {**SPEC, **changes, "machine": "piuma-gated"}
    spec["parameters"] = {**spec["parameters"], "gate": str(gate)}
    return spec


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


def _in_background(fn):
    """Run ``fn()`` in a thread; returns a joiner that re-raises its exception."""
    import threading

    box: dict = {}

    def go():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()

    def join(timeout=300):
        t.join(timeout)
        assert not t.is_alive(), "the sweep did not end"
        if "error" in box:
            raise box["error"]
        return box["result"]
    return t, join


def _strike_second_point(tmp_path, action, **run_kwargs):
    """The warm-up point passes; the pool's two workers each hold a point at the gate;
    ``action(pid)`` strikes the first of them; then the gate opens."""
    gate = Gate(tmp_path / "gate")
    gate.allow(1)
    db = tmp_path / "s.sqlite"
    thread, join = _in_background(
        lambda: run_sweep(parse_spec(gated(gate)), db, workers=2, **run_kwargs))
    gate.await_arrivals(3, alive=thread.is_alive)   # the warm-up point and two waiting
    pid, _label = gate.waiting()[0]
    action(pid)
    gate.open()
    return join(), db, pid


def test_point_that_never_ends_is_failed_within_the_timeout(tmp_path):
    limit = 20.0  # far above a point's ~1 s (first point includes loading the kernels)
    t0 = time.monotonic()
    s, db, pid = _strike_second_point(tmp_path, lambda p: os.kill(p, signal.SIGSTOP),
                                      point_timeout=limit)
    took = time.monotonic() - t0
    assert s.rows == TOTAL and len(rows(db)) == TOTAL
    timed_out = [r for r in rows(db) if r[1] == "failed"]
    assert len(timed_out) == 1 and "Timeout" in timed_out[0][2]
    # the stopped point cost the limit plus a margin, the rest ran on the other worker
    assert took < limit + 45
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid)  # killed, replaced


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def test_sigkill_of_one_worker_costs_one_point(tmp_path):
    s, db, _pid = _strike_second_point(tmp_path, lambda p: os.kill(p, signal.SIGKILL))
    got = rows(db)
    assert s.rows == TOTAL and len(got) == TOTAL and s.failed == 1
    failed = [r for r in got if r[1] == "failed"]
    assert len(failed) == 1   # the worker held a point at the gate: exactly that one is lost
    assert "WorkerDied" in failed[0][2] and "signal 9" in failed[0][2]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


_LAUNCH = ("import sys; sys.path.insert(0, {here!r}); import toy_machine; toy_machine.register(); "
           "from accel.cli import main; sys.exit(main({argv!r}))")


def _start(spec_path: Path, db: Path, *extra: str) -> subprocess.Popen:
    argv = ["sweep", str(spec_path), "--db", str(db), "--workers", "2", "--quiet", *extra]
    return subprocess.Popen([sys.executable, "-c", _LAUNCH.format(here=str(HERE), argv=argv)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_committed(proc, db, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while committed_rows(db) < n:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, f"{committed_rows(db)} of {n} rows committed"
        time.sleep(0.01)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_interrupt_saves_rows_exits_130_143_and_resume_loses_nothing(tmp_path, sig, code, word):
    gate = Gate(tmp_path / "gate")
    spec = gated(gate)
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    db = tmp_path / "int.sqlite"
    finished = 5
    gate.allow(finished)
    proc = _start(spec_path, db)
    try:
        gate.await_arrivals(finished + 2, alive=lambda: proc.poll() is None)  # two held
        _wait_committed(proc, db, finished)   # every finished row is committed while idle
        proc.send_signal(sig)               # the coordinator only, as a shell's kill does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert committed_rows(db) == finished
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {word}: {finished} rows saved"), err
    assert "Traceback" not in err
    before = {k for k, _, _ in rows(db)}
    gate.open()
    import toy_machine

    toy_machine.register()
    s = run_sweep(parse_spec(spec), db, workers=2)
    after = rows(db)
    assert s.already_done == finished and s.computed == TOTAL - finished and s.failed == 0
    assert len(after) == TOTAL == len({k for k, _, _ in after}) and before <= {k for k, _, _ in after}


@pytest.mark.timeout(600)
def test_sigkill_of_coordinator_leaves_no_worker_after_10_s(tmp_path):
    gate = Gate(tmp_path / "gate")
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(yaml.safe_dump(gated(gate)))
    db = tmp_path / "k.sqlite"
    gate.allow(1)
    proc = _start(spec_path, db)
    try:
        gate.await_arrivals(3, alive=lambda: proc.poll() is None)   # both workers hold a point
        workers = [pid for pid, _ in gate.waiting()]
        assert len(workers) == 2 and set(workers) <= set(_children(proc.pid))
        os.kill(proc.pid, signal.SIGKILL)   # the coordinator only
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            alive = [p for p in workers if Path(f"/proc/{p}").exists() and not _zombie(p)]
            time.sleep(0.05)
        assert not alive, f"workers outlived their coordinator by 10 s: {alive}"
    finally:
        gate.open()
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
