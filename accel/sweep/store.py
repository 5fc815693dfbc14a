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
import math
import os
import secrets
import sqlite3
import stat
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


def _finite_json(value: Any) -> Any:
    """JSON-safe copy: NaN/inf floats become the strings "nan"/"inf"/"-inf" (JSON has no
    NaN; SQLite's json_extract rejects a bare NaN and with it the whole view)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            return _finite_json(value.item())
        except (TypeError, ValueError):
            return str(value)
    return value


def dumps(value: Any) -> str:
    return json.dumps(_finite_json(value), default=str, allow_nan=False)


def point_key(machine: str, config: dict, workload_id: str, options: dict, model_version: str) -> str:
    blob = json.dumps({"machine": machine, "config": config, "workload": workload_id,
                       "options": options, "model_version": model_version},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    """One sweep store.  ``readonly=True`` (report, export, the Python API) never writes:
    not even the WAL switch, so a store on read-only media can still be read."""

    def __init__(self, path: str | os.PathLike, fresh: bool = False, create: bool = True,
                 readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly = readonly or not create  # only writers may create
        self._view_columns: tuple[list[str], list[str]] | None = None
        exists = self._check_kind()
        if not exists and (readonly or not create):
            raise StoreError(f"store not found: {self.path}")
        if readonly:
            self.conn = self._open_readonly()
            return
        if exists and blank_sqlite(self.path):
            fresh = True   # nothing to keep: rebuild it atomically
        if fresh and exists:
            if not blank_sqlite(self.path):
                self._check_is_store()  # never delete a file that is not one of our stores
            try:
                self.path.unlink()
                for suffix in ("-wal", "-shm", "-journal"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot remove {self.path} for --fresh: {exc.strerror or exc}") from None
            exists = False
        if not exists:
            self._create()
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise StoreError(f"{self.path} is not a sweep store (SQLite: {exc})") from None
            raise StoreError(f"cannot open store {self.path} for writing (SQLite: {exc})") from None
        try:
            self._check_version()
        except StoreError:
            self.conn.close()
            raise

    # --- opening ------------------------------------------------------------------------
    def _check_kind(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise StoreError(f"--db {self.path} is a directory, expected a .sqlite file path")
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"store {self.path} is not a regular file")
        return True

    def _create(self) -> None:
        """Build the schema in a temporary sibling and link it into place: a failure
        (disk full, read-only folder) leaves no file behind, and two sweeps creating the
        same store at once both end up using one of them."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store {self.path}: {exc.strerror or exc}") from None
        # not accel.atomic_write: SQLite itself must create and fill the file, and it is
        # linked (never renamed) into place so an existing store is never replaced
        tmp = str(self.path.parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.executescript(
                    f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR REPLACE INTO meta VALUES "
                    f"('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()
            os.chmod(tmp, 0o644)
            try:
                os.link(tmp, self.path)   # never replaces: a store made meanwhile wins
            except FileExistsError:
                pass
        except (OSError, sqlite3.Error) as exc:
            msg = getattr(exc, "strerror", None) or str(exc)
            raise StoreError(f"cannot create store {self.path}: {msg}") from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(tmp + suffix)
                except OSError:
                    pass

    def _open_readonly(self) -> sqlite3.Connection:
        """Read without writing anything: not the WAL switch, not even the -wal/-shm
        sidecars a WAL reader creates.  With no -wal file there is no uncommitted writer
        state, so ``immutable=1`` reads the file as it is; with one (a sweep is running or
        was killed) ``mode=ro`` sees its committed rows."""
        uri = self.path.resolve().as_uri()
        live = Path(str(self.path) + "-wal").exists()
        queries = ("?mode=ro", "?immutable=1") if live else ("?immutable=1",)
        last: Exception | None = None
        for query in queries:
            try:
                conn = sqlite3.connect(uri + query, uri=True, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                last = exc
                continue
            self.conn = conn
            try:
                self._check_version()
                return conn
            except StoreError as exc:
                conn.close()
                if "unable to open" in str(exc) or "readonly" in str(exc):
                    last = exc
                    continue
                raise
        raise StoreError(f"cannot read store {self.path} ({last})")

    @staticmethod
    def replaceable(path: str | os.PathLike) -> int:
        """Rows a ``--fresh`` run would discard from ``path``; refuses (read-only, nothing
        written) a file that is not one of our stores, whatever its version."""
        st = Store.__new__(Store)
        st.path = Path(path)
        st._check_is_store()
        try:
            conn = sqlite3.connect(st.path.resolve().as_uri() + "?immutable=1", uri=True)
            try:
                return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:   # a damaged or foreign-version store: its rows are not countable
            return 0

    def check_integrity(self) -> None:
        """Every page of the store readable (``PRAGMA quick_check``, linear in its size):
        a damaged store is refused before a sweep starts, never half-way through."""
        try:
            rows = self.conn.execute("PRAGMA quick_check(1)").fetchall()
            if rows and rows[0][0] == "ok":
                return
            what = str(rows[0][0]) if rows else "no answer"
        except sqlite3.DatabaseError as exc:
            what = str(exc)
        raise StoreError(f"{self.path} is a damaged sweep store ({what[:120]}); it was left "
                         "as it is: use another --db, or --fresh to replace it")

    def _check_is_store(self) -> None:
        try:
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?immutable=1", uri=True)
            try:
                conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            raise StoreError(f"{self.path} is not a sweep store; refusing to overwrite it") from None

    def _check_version(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc) and not self.readonly and self._empty():
                # an empty SQLite file (e.g. left by an old accel on a full disk): make it a store
                self.conn.executescript(
                    f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR REPLACE INTO meta VALUES "
                    f"('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
                return
            if "no such table" in str(exc):
                raise StoreError(f"{self.path} is not a sweep store (no meta table)") from None
            raise StoreError(f"{self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a sweep store ({exc})") from None
        if row is None:
            raise StoreError(f"{self.path} is not a sweep store (no schema_version)")
        if row[0] != str(SCHEMA_VERSION):
            raise StoreError(f"store {self.path} has schema version {str(row[0])[:20]}, this accel "
                             f"reads version {SCHEMA_VERSION}; use --fresh or another --db")
        try:  # a truncated or hand-edited file fails here rather than mid-report
            self.conn.execute("SELECT COUNT(*) FROM results").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is a damaged sweep store ({exc})") from None

    def _empty(self) -> bool:
        try:
            return self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError:
            return False

    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT; a SQLite failure (disk full, I/O error, read-only
        file) rolls back and becomes a one-line StoreError."""
        store = self

        class _Tx:
            def __enter__(self):
                try:
                    store.conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot write to store {store.path}: {exc}") from None

            def __exit__(self, typ, exc, tb):
                try:
                    store.conn.execute("COMMIT" if typ is None else "ROLLBACK")
                except sqlite3.Error as err:
                    if typ is None:
                        try:
                            store.conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                        raise StoreError(f"cannot write to store {store.path}: {err}") from None
                if typ is not None and issubclass(typ, sqlite3.Error):
                    raise StoreError(f"cannot write to store {store.path}: {exc}") from None
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
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def specs(self) -> dict[str, dict]:
        rows = self.conn.execute("SELECT key, value FROM meta WHERE key LIKE 'spec:%'").fetchall()
        return {k[5:]: json.loads(v) for k, v in rows}

    # --- results ------------------------------------------------------------------------
    def done_keys(self, include_failed: bool = True) -> set[str]:
        q = "SELECT key FROM results" + ("" if include_failed else " WHERE status = 'ok'")
        return {r[0] for r in self.conn.execute(q)}

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
                         dumps(r["params"]), dumps(r["config"]), dumps(r.get("options", {})),
                         dumps(r.get("metrics", {})), float(r.get("seconds", 0.0)), now))
        # a key already present is kept, unless it failed and is being retried
        # (--retry-failed): an ok row is never overwritten, whoever wrote it
        updates = ", ".join(f"{c} = excluded.{c}" for c in RESULT_COLUMNS if c != "key")
        with self.transaction():
            cur = self.conn.executemany(
                f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(RESULT_COLUMNS))}) "
                f"ON CONFLICT(key) DO UPDATE SET {updates} WHERE results.status = 'failed'", vals)
        self._view_columns = None
        return cur.rowcount

    def refit(self, spec: str, fn) -> int:
        """Rewrite the metrics of ``spec``'s ok rows as ``fn(metrics, config)`` where that
        changes them (the spec's fit check, ``accel.sweep.fit``, on rows an earlier run
        stored); one transaction, returns the rows changed.  A row whose JSON does not
        parse is left as it is (the report refuses a damaged store by name)."""
        changed = []
        for key, metrics, config in self.conn.execute(
                "SELECT key, metrics, config FROM results WHERE spec = ? AND status = 'ok'",
                (spec,)).fetchall():
            try:
                old, cfg = json.loads(metrics), json.loads(config)
            except (TypeError, ValueError, RecursionError):
                continue
            if not isinstance(old, dict) or not isinstance(cfg, dict):
                continue
            new = fn(old, cfg)
            if dumps(new) != dumps(old):
                changed.append((dumps(new), key))
        if changed:
            with self.transaction():
                self.conn.executemany("UPDATE results SET metrics = ? WHERE key = ?", changed)
            self._view_columns = None
        return len(changed)

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM results WHERE status=?", (status,)).fetchone()[0]

    def refresh_view(self) -> None:
        """(Re)create the ``points`` view with one column per parameter and metric name."""
        pnames, mnames = set(), set()
        def names(text) -> list[str]:  # a damaged row adds no column (and no traceback)
            try:
                obj = json.loads(text)
            except (TypeError, ValueError, RecursionError):
                return []
            return [k for k in obj if isinstance(k, str)] if isinstance(obj, dict) else []

        for p, m in self.conn.execute("SELECT params, metrics FROM results"):
            pnames.update(names(p))
            mnames.update(names(m))
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


def blank_sqlite(path: str | os.PathLike) -> bool:
    """An empty file or a SQLite file without tables: what a store creation that died
    half-way (e.g. on a full disk, before accel created stores atomically) leaves."""
    p = Path(path)
    try:
        if p.stat().st_size == 0:
            return True
        conn = sqlite3.connect(p.resolve().as_uri() + "?immutable=1", uri=True)
        try:
            return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False


def _jsonpath(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def _sqlstr(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


SAFE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _objects(store: Store, frame: pd.DataFrame, column: str) -> list[dict]:
    """Each row's JSON column as a dict of scalars; a store edited by hand (or damaged)
    is refused with the row named, never a traceback halfway through a report."""
    out = []
    for key, text in zip(frame["key"], frame[column], strict=True):
        try:
            obj = json.loads(text) if isinstance(text, str) else None
        except (ValueError, RecursionError):
            obj = None
        if not isinstance(obj, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool))
                for k, v in obj.items()):
            raise StoreError(f"store {store.path}: row {str(key)[:32]} has malformed {column} "
                             "(not a JSON object of scalars); the store is damaged")
        if any(isinstance(v, float) and not math.isfinite(v) for v in obj.values()):
            obj = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                   for k, v in obj.items()}
        out.append(obj)
    return out


def check_rows(store: Store) -> None:
    """Read every row as a report would (spec names, JSON columns), refusing a damaged
    store before any output exists."""
    frame = pd.DataFrame(store.conn.execute("SELECT key, spec, params, metrics FROM results")
                         .fetchall(), columns=["key", "spec", "params", "metrics"])
    for name in frame["spec"].unique():
        if not isinstance(name, str) or not name or name.startswith(".") or \
                not set(name) <= SAFE_NAME_CHARS or len(name) > 100:
            raise StoreError(f"store {store.path}: spec name {str(name)[:40]!r} is not a safe name; "
                             "the store is damaged")
    _objects(store, frame, "params")
    _objects(store, frame, "metrics")


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
    params = pd.DataFrame(_objects(store, base, "params")).add_prefix("param.")
    metrics = pd.DataFrame(_objects(store, base, "metrics")).add_prefix("metric.")
    out = pd.concat([base.drop(columns=["params", "metrics"]), params, metrics], axis=1)
    return out


def open_frame(path: str | os.PathLike, spec: str | None = None) -> pd.DataFrame:
    """Python API: the results of a store as a pandas DataFrame."""
    with Store(path, readonly=True) as st:
        return load_frame(st, spec)


def export(db: str | os.PathLike, out: str | os.PathLike, fmt: str) -> int:
    """Write the store's rows to CSV or Parquet atomically (mode 0644, only a regular
    file is ever replaced); returns the row count.  The store is opened read-only."""
    from accel.files import check_output_file

    if fmt not in ("csv", "parquet"):
        raise AccelError(f"--format must be csv or parquet, got {fmt[:40]!r}")
    check_output_file(out, "--out")
    if Path(out).resolve() == Path(db).resolve():
        raise AccelError(f"--out {out} is the store itself")
    with Store(db, readonly=True) as st:
        check_rows(st)
        df = load_frame(st)
    try:
        if fmt == "csv":
            atomic_write(out, lambda tmp: df.to_csv(tmp, index=False))
        else:
            atomic_write(out, lambda tmp: df.to_parquet(tmp, index=False))
    except OSError as exc:
        raise AccelError(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(df)
