"""Report tests: a synthetic sweep store (``synth_store``) written once per module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))  # appended: `from conftest import` elsewhere must not find this one

from synth_store import make_store  # noqa: E402


@pytest.fixture(scope="module")
def synth_report(tmp_path_factory):
    from accel.report import write_report

    d = tmp_path_factory.mktemp("rep")
    db = d / "synth.sqlite"
    info = make_store(db)
    out = d / "out"
    res = write_report([db], out, title="synthetic report")
    return {"db": db, "out": out, "res": res, **info}
