"""Dask executor: quiet success and an orderly stop (issues 24 item 8, 25 class 8).

Three ``--dask-local 2`` sweeps in a row print no traceback; SIGINT of a Dask sweep
exits 130 with exactly one line, the finished rows kept, and no worker traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from sweep_support import HERE, TOY_SPEC, committed_rows
from toy_machine.gate import Gate

_LAUNCH = ("import sys; sys.path.insert(0, {here!r}); import toy_machine; toy_machine.register(); "
           "from accel.cli import main; sys.exit(main({argv!r}))")


def _sweep(argv: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _LAUNCH.format(here=str(HERE), argv=argv)],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


@pytest.mark.timeout(600)
def test_three_dask_sweeps_in_a_row_print_no_traceback(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(TOY_SPEC))
    for i in range(3):
        proc = _sweep(["sweep", str(spec), "--db", str(tmp_path / f"d{i}.sqlite"),
                       "--dask-local", "2"])
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "Error" not in err, err
        assert "design points evaluated (0 failed)" in out


@pytest.mark.timeout(600)
def test_sigint_stops_a_dask_sweep_in_order(tmp_path):
    gate = Gate(tmp_path / "gate")
    # a Dask task returns its chunk's rows together: few points, so each chunk is one point
    spec_data = {**TOY_SPEC, "parameters": {"rows": [2, 4, 8, 16], "cols": [4, 8],
                                            "gate": str(gate)}}
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_data))
    db = tmp_path / "d.sqlite"
    finished = 3
    gate.allow(finished)
    proc = _sweep(["sweep", str(spec), "--db", str(db), "--dask-local", "2", "--quiet"])
    try:
        gate.await_arrivals(finished + 2, alive=lambda: proc.poll() is None)
        deadline = time.monotonic() + 60
        while committed_rows(db) < finished:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C in a terminal: the whole group
        _, err = proc.communicate(timeout=120)
    finally:
        gate.open()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: interrupted: {finished} rows saved"), err
    assert committed_rows(db) == finished


@pytest.mark.timeout(600)
def test_a_busy_port_8787_draws_no_warning(tmp_path):
    """The local cluster's scheduler serves its HTTP routes on a free loopback port: with
    8787 taken (another Dask, another sweep) stderr stays empty of port warnings."""
    import socket

    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(TOY_SPEC))
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("0.0.0.0", 8787))
        except OSError:
            pass            # already taken by something else: the condition under test
        busy.listen()
        proc = _sweep(["sweep", str(spec), "--db", str(tmp_path / "d.sqlite"),
                       "--dask-local", "1"])
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "already in use" not in err and "Warning" not in err, err

