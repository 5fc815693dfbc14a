"""The sweep store: one SQLite file, one row per (design point, workload).

Rows are keyed by ``key`` = hash of (machine, full resolved config, workload content id,
simulate options, model version): the same design evaluated by the same model on the
same data is never computed or stored twice, whichever spec asked for it.  Parameters,
config and metrics are JSON columns; the view ``points`` (rebuilt as new names appear)
extracts every parameter and metric into its own column, so plain SQL works::

    SELECT pe_rows, pe_cols, cycles FROM points WHERE status = 'ok' ORDER BY cycles

Only the coordinator writes, in transactions (a batch of results is committed whole or
not at all), so a killed sweep loses at most the uncommitted batch and never leaves a
partial row.  ``SCHEMA_VERSION`` is stored in the ``meta`` table; a store written by an
incompatible version is refused with a one-line error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from accel.atomic_write import atomic_write
from accel.errors import AccelError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key           TEXT PRIMARY KEY,
    spec          TEXT NOT NULL,
    point         INTEGER NOT NULL,
    machine       TEXT NOT NULL,
    workload      TEXT NOT NULL,
    workload_id   TEXT NOT NULL,
    model_version TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error         TEXT,
    params        TEXT NOT NULL,
    config        TEXT NOT NULL,
    options       TEXT NOT NULL,
    metrics       TEXT NOT NULL,
    eval_seconds  REAL NOT NULL,
    created       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_spec ON results (spec, point);
"""
RESULT_COLUMNS = ("key", "spec", "point", "machine", "workload", "workload_id", "model_version",
                  "status", "error", "params", "config", "options", "metrics", "eval_seconds", "created")


class StoreError(AccelError):
    """A store path that cannot be used (a directory, not SQLite, incompatible version)."""


def point_key(machine: str, config: dict, workload_id: str, options: dict, model_version: str) -> str:
    blob = json.dumps({"machine": machine, "config": config, "workload": workload_id,
                       "options": options, "model_version": model_version},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    def __init__(self, path: str | os.PathLike, fresh: bool = False, create: bool = True):
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"--db {self.path} is a directory, expected a .sqlite file path")
        if not self.path.exists() and not create:
            raise StoreError(f"store not found: {self.path}")
        if fresh and self.path.exists():
            self._check_is_store()  # never delete a file that is not one of our stores
            self.path.unlink()
            for suffix in ("-wal", "-shm", "-journal"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a sweep store (SQLite: {exc})") from None
        if existed:
            self._check_version()
        else:
            # one script = one transaction: the schema and its version appear together
            self.conn.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR REPLACE INTO meta VALUES "
                f"('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
        self._view_columns: tuple[list[str], list[str]] | None = None

    # --- opening ------------------------------------------------------------------------
    def _check_is_store(self) -> None:
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            conn.close()
        except sqlite3.DatabaseError:
            raise StoreError(f"{self.path} is not a sweep store; refusing to overwrite it") from None

    def _check_version(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a sweep store ({exc})") from None
        if row is None:
            raise StoreError(f"{self.path} is not a sweep store (no schema_version)")
        if row[0] != str(SCHEMA_VERSION):
            raise StoreError(f"store {self.path} has schema version {row[0]}, this accel reads "
                             f"version {SCHEMA_VERSION}; use --fresh or another --db")

    def transaction(self):
        store = self

        class _Tx:
            def __enter__(self):
                store.conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, typ, exc, tb):
                store.conn.execute("COMMIT" if typ is None else "ROLLBACK")
                return False

        return _Tx()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- meta ---------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def specs(self) -> dict[str, dict]:
        rows = self.conn.execute("SELECT key, value FROM meta WHERE key LIKE 'spec:%'").fetchall()
        return {k[5:]: json.loads(v) for k, v in rows}

    # --- results ------------------------------------------------------------------------
    def done_keys(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM results")}

    def write(self, rows: Iterable[dict]) -> int:
        """Insert a batch in one transaction; a key already present is left untouched."""
        rows = list(rows)
        if not rows:
            return 0
        now = time.time()
        vals = []
        for r in rows:
            vals.append((r["key"], r["spec"], int(r["point"]), r["machine"], r["workload"],
                         r["workload_id"], r["model_version"], r["status"], r.get("error"),
                         json.dumps(r["params"], default=str), json.dumps(r["config"], default=str),
                         json.dumps(r.get("options", {}), default=str),
                         json.dumps(r.get("metrics", {})), float(r.get("seconds", 0.0)), now))
        with self.transaction():
            cur = self.conn.executemany(
                f"INSERT OR IGNORE INTO results ({', '.join(RESULT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(RESULT_COLUMNS))})", vals)
        self._view_columns = None
        return cur.rowcount

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM results WHERE status=?", (status,)).fetchone()[0]

    def refresh_view(self) -> None:
        """(Re)create the ``points`` view with one column per parameter and metric name."""
        pnames, mnames = set(), set()
        for p, m in self.conn.execute("SELECT params, metrics FROM results"):
            pnames.update(json.loads(p))
            mnames.update(json.loads(m))
        cols = ["key", "spec", "point", "machine", "workload", "workload_id", "model_version",
                "status", "error", "eval_seconds"]
        extra = [f"json_extract(params, {_sqlstr('$.' + _jsonpath(n))}) AS {_ident(n)}"
                 for n in sorted(pnames) if n not in cols]
        extra += [f"json_extract(metrics, {_sqlstr('$.' + _jsonpath(n))}) AS {_ident(n)}"
                  for n in sorted(mnames) if n not in cols and n not in pnames]
        with self.transaction():
            self.conn.execute("DROP VIEW IF EXISTS points")
            self.conn.execute(f"CREATE VIEW points AS SELECT {', '.join(cols + extra)} FROM results")

    def dataframe(self, spec: str | None = None) -> pd.DataFrame:
        return load_frame(self, spec)


def _jsonpath(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def _sqlstr(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load_frame(store: Store, spec: str | None = None) -> pd.DataFrame:
    """Rows as a DataFrame: fixed columns, then ``param.<name>`` / ``metric.<name>``."""
    q = f"SELECT {', '.join(RESULT_COLUMNS)} FROM results"
    args: tuple = ()
    if spec is not None:
        q += " WHERE spec = ?"
        args = (spec,)
    q += " ORDER BY spec, point, workload"
    rows = store.conn.execute(q, args).fetchall()
    base = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    if base.empty:
        return base
    params = pd.DataFrame([json.loads(p) for p in base["params"]]).add_prefix("param.")
    metrics = pd.DataFrame([json.loads(m) for m in base["metrics"]]).add_prefix("metric.")
    out = pd.concat([base.drop(columns=["params", "metrics"]), params, metrics], axis=1)
    return out


def open_frame(path: str | os.PathLike, spec: str | None = None) -> pd.DataFrame:
    """Python API: the results of a store as a pandas DataFrame."""
    with Store(path, create=False) as st:
        return load_frame(st, spec)


def export(db: str | os.PathLike, out: str | os.PathLike, fmt: str) -> int:
    """Write the store's rows to CSV or Parquet atomically; returns the row count."""
    if fmt not in ("csv", "parquet"):
        raise AccelError(f"--format must be csv or parquet, got {fmt!r}")
    out = Path(out)
    if out.is_dir():
        raise AccelError(f"--out {out} is a directory, expected a file path")
    if not out.parent.exists():
        raise AccelError(f"output folder does not exist: {out.parent}")
    df = open_frame(db)
    if fmt == "csv":
        atomic_write(out, lambda tmp: df.to_csv(tmp, index=False))
    else:
        atomic_write(out, lambda tmp: df.to_parquet(tmp, index=False))
    return len(df)
