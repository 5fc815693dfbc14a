"""Sweep tests: a tiny in-test machine (``toy``) and helpers to run the CLI in-process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import toy_machine  # noqa: E402

toy_machine.register()

TOY_SPEC = {
    "name": "toy-small",
    "machine": "toy",
    "base": "toy-small",
    "workloads": ["toy:16x64x24"],
    "parameters": {
        "rows": {"range": {"start": 2, "stop": 16, "factor": 2}},
        "cols": [4, 8, 16],
        "nm": ["dense", "2:4", "1:4", "2:8"],
        "clock_mhz": {"range": {"start": 100, "stop": 300, "step": 100}},
    },
    "constraints": ["rows * cols <= 128"],
    "objectives": {"cycles": "min", "pes": "min"},
}


@pytest.fixture
def write_spec(tmp_path):
    def _write(data: dict, name: str = "spec.yaml") -> Path:
        p = tmp_path / name
        p.write_text(yaml.safe_dump(data, sort_keys=False))
        return p
    return _write


@pytest.fixture
def cli(capsys):
    """Run `accel ...` in-process; returns (rc, stdout, stderr)."""
    from accel.cli import main

    def _run(*argv: str):
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err
    return _run


def committed_rows(db) -> int:
    """Rows already committed to a store another process may be writing (0 if none yet)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        n = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        conn.close()
        return n
    except sqlite3.Error:  # not created yet
        return 0


def metrics_by_key(db) -> dict[str, dict]:
    from accel.sweep.store import Store

    with Store(db, create=False) as st:
        rows = st.conn.execute("SELECT key, status, metrics FROM results").fetchall()
    return {k: (s, json.loads(m)) for k, s, m in rows}
