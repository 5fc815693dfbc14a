"""Issue 25, sweep layer: nothing destroyed before it is validated; corrupt stores;
bounded parallelism.  Each class is a mechanism, checked on cases beyond the reported one.

* Destroyed before validated: ``--fresh`` (the only destructive step of a sweep) runs
  after the spec, its workloads, its executor options and its objectives are validated;
  a refused run leaves the store byte-identical.
* Corrupt stores: a store with a damaged page is refused up front (exit 2, one line),
  whatever the spec, and is not touched.
* Unbounded parallelism: ``--dask-local`` is bounded like ``--workers``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest


def _spec(text: str, replace: dict[str, str]) -> str:
    """``text`` with each top-level ``key:`` (and its indented lines) replaced."""
    out, skipping = [], False
    for ln in text.splitlines():
        key = ln.split(":", 1)[0]
        if not ln.startswith(" "):
            skipping = key in replace
            if skipping:
                out.append(f"{key}: {replace[key]}")
                continue
        if not skipping:
            out.append(ln)
    return "\n".join(out) + "\n"


def _copy_store(assets, name="keep.sqlite"):
    def make(p):
        shutil.copy(assets / "good.sqlite", p)
    return make


@pytest.mark.parametrize("replace", [
    {"objectives": "{no_such_metric: min}"},              # found only once a point ran
    {"workloads": '["rmat:no"]'},                          # a workload that does not resolve
    {"workloads": '["missing.npz"]'},                      # a file that does not exist
    {"base": "no-such-preset"},                            # an unknown preset
    {"parameters": "{not_a_field: [1, 2]}"},               # an unknown parameter
])
def test_fresh_never_discards_a_store_for_a_spec_that_fails(hostile, assets, replace):
    err = hostile(["sweep", "bad.yaml", "--db", "keep.sqlite", "--fresh", "--quiet"],
                  files={"bad.yaml": _spec((assets / "good.yaml").read_text(), replace),
                         "keep.sqlite": _copy_store(assets)})
    assert "error:" in err


@pytest.mark.parametrize("extra", [["--dask-local", "0"], ["--workers", "0"],
                                   ["--point-timeout", "nan"]])
def test_fresh_never_discards_a_store_for_bad_executor_options(hostile, assets, extra):
    hostile(["sweep", "good.yaml", "--db", "keep.sqlite", "--fresh", "--quiet", *extra],
            files={"keep.sqlite": _copy_store(assets)}, copy=("good.yaml",))


def test_fresh_replaces_a_store_of_another_version_and_says_what_it_discarded(tmp_path, assets):
    from cli_harness import run_cli

    db = tmp_path / "old.sqlite"
    shutil.copy(assets / "good.sqlite", db)
    shutil.copy(assets / "good.yaml", tmp_path / "good.yaml")
    conn = sqlite3.connect(db)
    n_old = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    rc, out, err = run_cli(["sweep", "good.yaml", "--db", "old.sqlite", "--quiet"], tmp_path)
    assert rc == 2 and "schema version 999" in err        # without --fresh: refused, kept
    rc, out, err = run_cli(["sweep", "good.yaml", "--db", "old.sqlite", "--fresh", "--quiet"],
                           tmp_path)
    assert rc == 0, err
    assert f"discarded the {n_old} rows" in out
    rc, out, err = run_cli(["sweep", "good.yaml", "--db", "old.sqlite", "--fresh", "--quiet"],
                           tmp_path)
    assert rc == 0 and out.count("discarded") == 1      # it says what it did, once


def test_fresh_on_a_missing_store_reports_nothing_discarded(tmp_path, assets):
    from cli_harness import run_cli

    shutil.copy(assets / "good.yaml", tmp_path / "good.yaml")
    rc, out, err = run_cli(["sweep", "good.yaml", "--db", "new.sqlite", "--fresh", "--quiet"],
                           tmp_path)
    assert rc == 0, err
    assert "discarded" not in out


def _corrupt_results_page(path) -> None:
    """Overwrite the middle of the ``results`` table's root page (a b-tree page)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='results'").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size + 8)
        f.write(b"\xff" * (page_size // 2))


def _corrupt_index_page(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='results_spec'").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x0d" + b"\x00" * 7 + b"\xee" * (page_size - 8))


@pytest.mark.parametrize("damage", [_corrupt_results_page, _corrupt_index_page])
@pytest.mark.parametrize("args", [[], ["--retry-failed"], ["--json"]])
def test_corrupt_store_is_refused_up_front_and_left_alone(hostile, assets, damage, args):
    def make(p):
        shutil.copy(assets / "good.sqlite", p)
        damage(p)

    err = hostile(["sweep", "good.yaml", "--db", "bad.sqlite", "--quiet", *args],
                  files={"bad.sqlite": make}, copy=("good.yaml",))
    assert "damaged" in err or "malformed" in err


@pytest.mark.parametrize("over", [1, 1000, 10**12])
def test_dask_local_is_bounded_by_the_machine(hostile, over):
    limit = 4 * (os.cpu_count() or 1)
    n = limit + over if over < 10**6 else over
    err = hostile(["sweep", "good.yaml", "--db", "s.sqlite", "--dask-local", str(n), "--quiet"],
                  copy=("good.yaml",))
    assert "--dask-local" in err
    assert over > 10**6 or (f"1..{limit}" in err and "per core" in err)
