"""SQLite store: keys, duplicates, schema version, export, the points view; Pareto."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.sweep.pareto import pareto_mask
from accel.sweep.store import SCHEMA_VERSION, Store, StoreError, export, open_frame, point_key


def row(key, point=0, cycles=10.0, status="ok"):
    return {"key": key, "spec": "s", "point": point, "machine": "toy", "workload": "w",
            "workload_id": "abc", "model_version": "1", "status": status, "error": None,
            "params": {"rows": point, "nm": "2:4"}, "config": {"rows": point}, "options": {},
            "metrics": {"cycles": cycles}, "seconds": 0.01}


def test_write_is_idempotent_and_queryable(tmp_path):
    db = tmp_path / "r.sqlite"
    with Store(db) as st_:
        assert st_.write([row("a", 0, 5.0), row("b", 1, 7.0)]) == 2
        assert st_.write([row("a", 0, 99.0)]) == 0  # a key is written once, never replaced
        assert st_.count() == 2
        st_.refresh_view()
        got = st_.conn.execute("SELECT rows, nm, cycles FROM points ORDER BY rows").fetchall()
    assert got == [(0, "2:4", 5.0), (1, "2:4", 7.0)]
    df = open_frame(db)
    assert list(df["metric.cycles"]) == [5.0, 7.0] and "param.nm" in df.columns


def test_point_key_depends_on_every_part():
    base = point_key("sat", {"a": 1}, "w", {}, "v1")
    assert base == point_key("sat", {"a": 1}, "w", {}, "v1")
    others = {point_key("piuma", {"a": 1}, "w", {}, "v1"), point_key("sat", {"a": 2}, "w", {}, "v1"),
              point_key("sat", {"a": 1}, "w2", {}, "v1"), point_key("sat", {"a": 1}, "w", {"o": 1}, "v1"),
              point_key("sat", {"a": 1}, "w", {}, "v2")}
    assert base not in others and len(others) == 5


def test_incompatible_and_foreign_stores_refused(tmp_path):
    db = tmp_path / "old.sqlite"
    with Store(db):
        pass
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store(db)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match="not a sweep store"):
        Store(junk)
    with pytest.raises(StoreError, match="not a sweep store"):
        Store(junk, fresh=True)  # --fresh never deletes a file that is not a store
    assert junk.exists()
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_export_csv_parquet(tmp_path):
    db = tmp_path / "r.sqlite"
    with Store(db) as st_:
        st_.write([row(f"k{i}", i, float(i)) for i in range(5)])
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"r.{fmt}"
        assert export(db, out, fmt) == 5
        df = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        assert sorted(df["metric.cycles"]) == [0.0, 1.0, 2.0, 3.0, 4.0]


def brute_front(v: np.ndarray, goals) -> np.ndarray:
    sign = np.array([1 if g == "min" else -1 for g in goals])
    c = v * sign
    out = np.ones(len(c), bool)
    for i in range(len(c)):
        for j in range(len(c)):
            if all(c[j] <= c[i]) and any(c[j] < c[i]):
                out[i] = False
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25),
       st.lists(st.sampled_from(["min", "max"]), min_size=3, max_size=3))
def test_pareto_matches_brute_force(points, goals):
    v = np.array(points, float)
    assert (pareto_mask(v, goals) == brute_front(v, goals)).all()
