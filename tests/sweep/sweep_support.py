"""Shared helpers of the sweep tests (a module of its own: test files import these by a
name no other test folder uses, so `tests/sweep` and any other folder collect together)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

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
