"""Shared pieces of the hostile-input suite: run the CLI in-process and check the promise.

The promise (README, DESIGN "Robustness"): bad input exits 2 with exactly one stderr
line beginning ``error:``, no traceback, no new file and every pre-existing file
byte-identical.  ``hostile`` runs one case in a fresh folder seeded with its files and
asserts all of it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # hostile_files, cli_harness, next to this file

from cli_harness import assert_refused, run_cli, snapshot  # noqa: E402

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
