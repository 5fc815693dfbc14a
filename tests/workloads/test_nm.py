"""accel.workloads.nm.parse_nm: the one N:M parser (SAT patterns, --prune, FlightLLM
--sparsity and SCALE-Sim topologies call it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from accel.errors import ConfigError, WorkloadError
from accel.workloads.nm import parse_nm

ACCEL = Path(__file__).resolve().parents[2] / "accel"


@pytest.mark.parametrize("text,nm", [("2:8", (2, 8)), (" 1 : 4 ", (1, 4)), ("4:4", (4, 4)),
                                     ("16:1024", (16, 1024))])
def test_accepts(text, nm):
    assert parse_nm(text) == nm


@pytest.mark.parametrize("text,kw,needle", [
    ("2-4", {}, "must look like 2:8"), ("2:4:8", {}, "must look like"), ("", {}, "must look like"),
    ("-1:4", {}, "must look like"), ("2.5:4", {}, "must look like"), ("²:4", {}, "must look like"),
    ("0:4", {}, "needs 1 <= N <= M"), ("5:4", {}, "needs 1 <= N <= M"),
    ("4:4", {"strict": True}, "needs 1 <= N < M"), ("1:33", {"max_m": 32}, "needs 1 <= N <= M <= 32"),
])
def test_rejects_with_one_line_naming_the_text(text, kw, needle):
    with pytest.raises(WorkloadError) as exc:
        parse_nm(text, "where", **kw)
    msg = str(exc.value)
    assert msg.startswith("where ") and needle in msg and repr(text.strip()) in msg
    assert "\n" not in msg


def test_error_class_is_the_callers():
    with pytest.raises(ConfigError, match="N:M pattern '9:8'"):
        parse_nm("9:8", error=ConfigError)


def test_every_nm_text_parser_calls_it():
    """The four former parsers now call parse_nm."""
    callers = {"accel/arch/sat/config.py", "accel/workloads/prune.py", "accel/workloads/llm.py",
               "accel/arch/systolic/scalesim_io.py"}
    for rel in callers:
        tree = ast.parse((ACCEL.parent / rel).read_text())
        called = {n.func.id for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "parse_nm" in called, rel
