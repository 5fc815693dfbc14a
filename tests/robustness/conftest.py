"""Shared pieces of the hostile-input suite: run the CLI in-process and check the promise.

The promise (README, DESIGN "Robustness"): bad input exits 2 with exactly one stderr
line beginning ``error:``, no traceback, no new file and every pre-existing file
byte-identical.  ``hostile`` runs one case in a fresh folder seeded with its files and
asserts all of it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # hostile_files, next to this file

from accel.cli import main

# Files every case may reference; built once per session (small, valid) so a case can
# name them or derive a damaged copy.  SPEC is a tiny real PIUMA sweep.
TINY_SPEC = """\
name: tiny
machine: piuma
base: piuma
workloads: ["rmat:4"]
parameters:
  threads_per_pipeline: [4, 8]
objectives: {cycles: min}
"""


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``folder``: bytes (None for non-regular files) and mode."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            st = p.lstat()
            data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[str(p.relative_to(folder))] = (data, st.st_mode)
    return out


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in argv])
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


def assert_refused(rc: int, out: str, err: str, before: dict, after: dict, argv) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert rc == 2, (argv, rc, err)
    assert len(lines) == 1 and lines[0].startswith("error:"), (argv, err)
    new = sorted(set(after) - set(before))
    assert not new, (argv, "new files", new)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, (argv, "changed", changed)
    return lines[0]


@pytest.fixture(scope="session")
def assets(tmp_path_factory) -> Path:
    """good.npz (R-MAT scale 4 A.A), good.yaml (TINY_SPEC), good.sqlite (its store)."""
    from accel.sweep import parse_spec, run_sweep
    from accel.workloads import io as wio
    from accel.workloads.graphs import rmat, spgemm_workload

    folder = tmp_path_factory.mktemp("assets")
    wio.save(spgemm_workload(rmat(4, 4, 1), name="rmat-4"), folder / "good.npz")
    (folder / "good.yaml").write_text(TINY_SPEC)
    from accel.safe_yaml import loads

    run_sweep(parse_spec(loads(TINY_SPEC), source="good.yaml"), folder / "good.sqlite", workers=1)
    return folder


@pytest.fixture
def hostile(tmp_path, assets) -> Callable:
    """``hostile(argv, files={name: bytes | str | callable(path)})`` -> the error line."""

    def run(argv: list, files: dict | None = None, copy: tuple[str, ...] = ()) -> str:
        work = tmp_path / "work"
        work.mkdir()
        for name in copy:
            shutil.copy(assets / name, work / name)
        for name, content in (files or {}).items():
            p = work / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(p)
            elif isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content)
        before = snapshot(work)
        rc, out, err = run_cli(argv, work)
        return assert_refused(rc, out, err, before, snapshot(work), argv)

    return run
