"""The wheel smoke test (.ci/wheel_smoke.py, run by .ci/run) reads the RTL block list from
the CLI's --help: its parser must find the commands a real --help lists."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "wheel_smoke.py"


def _script():
    spec = importlib.util.spec_from_file_location("wheel_smoke", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_commands_are_read_from_a_real_help():
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "accel.cli", "--help"], capture_output=True,
                         text=True, env=env, timeout=120).stdout
    names = _script().listed_commands(out)
    assert {"sim", "sweep", "demo", "rtl", "bdwp", "flightllm"} <= set(names), names
    assert "--help" not in names and "Usage:" not in names


def test_plain_help_and_no_commands():
    ws = _script()
    assert ws.listed_commands("Usage: x\n\nCommands:\n  a-b  one\n  c    two\n\n") == ["a-b", "c"]
    assert ws.listed_commands("Usage: x [OPTIONS]\n\nOptions:\n  --json  j\n") == []
