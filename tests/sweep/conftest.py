"""Sweep tests: a tiny in-test machine (``toy``) and helpers to run the CLI in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

_HERE = Path(__file__).parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import toy_machine  # noqa: E402

toy_machine.register()

from sweep_support import HERE, TOY_SPEC, committed_rows, metrics_by_key  # noqa: E402,F401  (re-exported)


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


