"""What accel writes stays valid whatever it is fed: JSON without NaN, text that rich
would read as markup printed verbatim, outputs mode 0644 replacing only regular files."""

from __future__ import annotations

import json
import math

import hostile_files as H
import numpy as np
import pytest
from cli_harness import run_cli

from accel.cli.common import to_json


def test_json_never_contains_nan_or_infinity():
    text = to_json({"a": float("nan"), "b": [np.float32("inf"), 1.5], "c": np.array([np.nan, 2.0])})
    assert json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(c))) == \
        {"a": None, "b": [None, 1.5], "c": [None, 2.0]}
    assert math.isfinite(json.loads(to_json({"x": 1e308}))["x"])


def test_markup_in_names_and_paths_is_printed_not_parsed(tmp_path):
    manifest = H.spgemm_manifest()
    manifest["name"] = "[/bold]evil[red"
    manifest["ops"][0]["name"] = "[/]A*A"
    manifest["provenance"] = {"source": "[link=file:///etc/passwd]x[/link][/]"}
    H.npz(manifest, H.spgemm_arrays())(tmp_path / "m.npz")
    rc, out, err = run_cli(["workload", "show", "m.npz"], tmp_path)
    assert rc == 0, err
    assert "[/]A*A" in out and "[/bold]evil[red" in out


def test_synth_output_is_0644_and_replaces_a_regular_file(tmp_path):
    (tmp_path / "o.npz").write_text("old")
    rc, _, err = run_cli(["workload", "synth", "rmat", "--scale", "4", "--out", "o.npz"], tmp_path)
    assert rc == 0, err
    assert (tmp_path / "o.npz").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.npz"]   # no temporary left


def test_read_only_commands_leave_a_store_byte_identical(tmp_path, assets):
    import shutil

    shutil.copy(assets / "good.sqlite", tmp_path / "s.sqlite")
    before = (tmp_path / "s.sqlite").read_bytes()
    rc, _, err = run_cli(["sweep", "export", "s.sqlite", "--out", "o.csv"], tmp_path)
    assert rc == 0, err
    rc, _, err = run_cli(["report", "s.sqlite", "--out", "rep"], tmp_path)
    assert rc == 0, err
    assert (tmp_path / "s.sqlite").read_bytes() == before
    assert not list(tmp_path.glob("s.sqlite-*"))        # not even WAL sidecars
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644


def test_store_write_failure_is_one_line(tmp_path, assets, monkeypatch):
    """Disk full mid-sweep (SQLite's error) becomes a StoreError, not a traceback."""
    import sqlite3

    import pytest

    from accel.sweep.store import Store, StoreError

    st = Store(tmp_path / "w.sqlite")

    class Full:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *a):
            if sql.startswith("BEGIN"):
                raise sqlite3.OperationalError("database or disk is full")
            return self.conn.execute(sql, *a)

        def close(self):
            self.conn.close()

    st.conn = Full(st.conn)
    with pytest.raises(StoreError, match="disk is full"):
        st.set_meta("x", 1)
    st.close()


def test_exit_codes_reach_the_shell(monkeypatch, capsys):
    """main() returns what the command meant: Exit(1) (a failed check) is 1, not 0;
    CheckFailed is 1; Interrupted (a sweep) and Stop (the CLI's SIGINT/SIGTERM handler
    anywhere else) are 130/143 with one error line."""
    import typer

    import accel.cli as cli
    from accel.errors import CheckFailed, Interrupted, Stop

    def app_raising(exc):
        app = typer.Typer()

        @app.command()
        def go() -> None:
            raise exc

        @app.command()
        def other() -> None:  # two commands: `go` is a subcommand, as in accel
            pass

        return app

    for exc, code in ((typer.Exit(1), 1), (CheckFailed("cosim mismatch"), 1),
                      (Interrupted("interrupted: 3 rows saved", 2), 130),
                      (Interrupted("terminated: 3 rows saved", 15), 143), (Stop(2), 130),
                      (Stop(15), 143),
                      (MemoryError(), 2), (OSError(28, "No space left on device"), 2)):
        monkeypatch.setattr(cli, "app", app_raising(exc))
        assert cli.main(["go"]) == code, exc
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert "Traceback" not in err and (code == 1 and isinstance(exc, typer.Exit) or
                                           len(lines) == 1 and lines[0].startswith("error:")), err


def test_sigterm_outside_a_sweep_exits_143_with_one_line(tmp_path):
    """Any command, not only sweeps: SIGTERM is 143 and one line, SIGINT 130."""
    import signal
    import subprocess
    import sys
    import time

    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        proc = subprocess.Popen([sys.executable, "-m", "accel.cli", "bdwp", "accuracy", "--json"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(4)   # importing and training: well inside the command
        if proc.poll() is not None:
            continue    # finished first (a fast machine): nothing to interrupt
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert proc.returncode == code and len(lines) == 1 and lines[0].startswith("error:"), err


def test_signal_inside_numba_compile_is_deferred_not_raised():
    """A SIGTERM that lands while Numba compiles (LLVM calling back into Python through
    ctypes) must not raise there -- ctypes drops the exception and LLVM's state breaks
    (seen as a segfault, exit -11).  The handler re-delivers the signal shortly after and
    raises only outside Numba/llvmlite frames."""
    import signal
    import sys
    import time

    from accel import cli
    from accel.errors import Stop

    got = []
    old = signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
    try:
        namespace = {"__name__": "numba.core.fake_compiler", "sys": sys}
        exec("def compiling():\n    return sys._getframe()\n", namespace)
        frame = namespace["compiling"]()
        assert cli._on_signal(signal.SIGUSR1, frame) is None       # deferred, not raised
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [signal.SIGUSR1]                             # delivered again
        with pytest.raises(Stop):
            cli._on_signal(signal.SIGUSR1, sys._getframe())        # ordinary code: raises
    finally:
        signal.signal(signal.SIGUSR1, old)
