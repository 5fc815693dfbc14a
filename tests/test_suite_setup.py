"""The suite's own set-up: reproducible property tests and a safe split across workers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

TESTS = Path(__file__).parent


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci",
                    reason="a local HYPOTHESIS_PROFILE was chosen")
def test_hypothesis_runs_derandomized():
    """`make test`, CI and every xdist worker (each imports tests/conftest.py) draw the
    same examples, and no worker writes the shared example database."""
    assert settings.default.derandomize is True
    assert settings.default.database is None


def test_every_rtl_test_runs_on_the_verilator_worker(pytestconfig):
    """The xdist scheduler keeps tests/hw/*rtl*.py on one worker; every test marked
    ``rtl`` must live in such a file, or two workers could Verilate into one folder."""
    conftest = next(p for p in pytestconfig.pluginmanager.get_plugins()
                    if hasattr(p, "_builds_verilator"))
    _builds_verilator = conftest._builds_verilator
    marked = [p for p in TESTS.rglob("test_*.py")
              if re.search(r"pytest\.mark\.rtl\b|pytestmark\s*=.*\brtl\b", p.read_text())]
    assert marked, "no rtl tests found: the pattern is stale"
    for p in marked:
        assert _builds_verilator(p.relative_to(TESTS.parent).as_posix() + "::t"), p


def test_every_heavy_test_exists(pytestconfig):
    """A renamed test would silently leave the heavy tier (and run in `make test`)."""
    conftest = next(p for p in pytestconfig.pluginmanager.get_plugins() if hasattr(p, "HEAVY"))
    for nodeid in conftest.HEAVY:
        path, name = nodeid.split("::")
        text = (TESTS.parent / path).read_text()
        assert f"def {name.split('[')[0]}(" in text, nodeid
        if "[" in name:
            assert repr(name.split("[")[1].rstrip("]")) in text or '"' + name.split("[")[1].rstrip("]") + '"' in text, nodeid
