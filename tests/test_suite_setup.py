"""The suite's own set-up: reproducible property tests and long tests scheduled first."""

from __future__ import annotations

import os
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


def test_long_tests_are_scheduled_first(pytestconfig):
    """Every test named in ``LONG_FIRST`` exists (a renamed one would silently fall back
    to its collection place, the tail of a run), and collection puts them first."""
    conftest = next(p for p in pytestconfig.pluginmanager.get_plugins()
                    if hasattr(p, "LONG_FIRST"))
    for nodeid in conftest.LONG_FIRST:
        path, name = nodeid.split("::")
        assert f"def {name}(" in (TESTS.parent / path).read_text(), nodeid

    class Item:
        def __init__(self, nodeid):
            self.nodeid = nodeid

    items = [Item("tests/a.py::t1"), Item(conftest.LONG_FIRST[1]), Item("tests/b.py::t2"),
             Item(conftest.LONG_FIRST[0])]
    conftest.pytest_collection_modifyitems(pytestconfig, items)
    assert [i.nodeid for i in items] == [*conftest.LONG_FIRST[:2], "tests/a.py::t1",
                                         "tests/b.py::t2"]


def test_every_heavy_test_exists(pytestconfig):
    """A renamed test would silently leave the heavy tier (and run in `make test`)."""
    conftest = next(p for p in pytestconfig.pluginmanager.get_plugins() if hasattr(p, "HEAVY"))
    for nodeid in conftest.HEAVY:
        path, name = nodeid.split("::")
        text = (TESTS.parent / path).read_text()
        assert f"def {name.split('[')[0]}(" in text, nodeid
        if "[" in name:
            assert repr(name.split("[")[1].rstrip("]")) in text or '"' + name.split("[")[1].rstrip("]") + '"' in text, nodeid
