"""The kernel cache cannot serve stale code, lives outside the package, and moves by env var.

Runs a *copy* of the package in subprocesses: time a GEMM on SAT (``_kernels.walk_gemms``
calls ``pe_array``'s @njit helpers, which read ``START_CYCLES`` at compile time), edit that
constant in the copy, and time it again with the same cache folder.  With Numba's own
cache the second run reuses the caller's entry (its file did not change) and reports the
old timing; accel's source-keyed locator must report the new one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import accel

PKG = Path(accel.__file__).resolve().parent

_RUN = """
import json
import numpy as np
from accel.arch.sat.config import PRESETS, DEFAULT_PRESET
from accel.arch.sat.model import simulate
from accel.workloads.formats import Dense
from accel.workloads.ops import Gemm, Workload
w = Workload("w", [Gemm("g", "fwd", 64, 64, 64, Dense((64, 64), np.ones((64, 64), np.float32)))])
print(json.dumps({"cycles": int(simulate(w, PRESETS[DEFAULT_PRESET]).cycles)}))
"""


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _cycles(pkg_parent: Path, cache: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(pkg_parent), "ACCEL_NUMBA_CACHE_DIR": str(cache),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NUMBA_CACHE_DIR", None)
    # cwd outside any checkout: `python -c` puts the cwd first on sys.path
    out = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True,
                         timeout=600, check=True, cwd=pkg_parent.parent).stdout
    return json.loads(out.strip().splitlines()[-1])["cycles"]


def test_edit_to_a_called_module_constant_changes_timing_without_clearing(tmp_path):
    copy = tmp_path / "pkg"
    shutil.copytree(PKG, copy / "accel", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "numba-cache"
    before = _files(copy / "accel")

    c1 = _cycles(copy, cache)
    assert any(cache.rglob("*.nbi")), "kernels were not cached under ACCEL_NUMBA_CACHE_DIR"
    assert _cycles(copy, cache) == c1  # warm run: same cache, same answer

    pe = copy / "accel" / "arch" / "sat" / "pe_array.py"
    src = pe.read_text()
    m = re.search(r"^START_CYCLES = (\d+)", src, flags=re.M)
    assert m, "pe_array.START_CYCLES moved: update this test"
    pe.write_text(src.replace(m.group(0), f"START_CYCLES = {int(m.group(1)) + 1000}", 1))

    c2 = _cycles(copy, cache)
    assert c2 >= c1 + 1000, (c1, c2)  # at least one tile start paid the new constant
    # nothing was written into the package: no Numba index/data, no other file
    assert _files(copy / "accel") == before


def test_cache_root_follows_env(monkeypatch, tmp_path):
    from accel.arch import _numba_cache

    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert _numba_cache.cache_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("ACCEL_NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _numba_cache.cache_root() == tmp_path / "xdg" / "accel" / "numba"


def test_every_kernel_module_installs_the_locator():
    """A module defining cached kernels must import _numba_cache before its @njit runs."""
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "_numba_cache.py":
            continue
        text = path.read_text()
        if "@njit(cache=True" in text and "_numba_cache" not in text:
            offenders.append(str(path.relative_to(PKG)))
    assert not offenders, offenders


def test_key_covers_what_a_kernel_imports_and_nothing_else():
    from accel.arch import _numba_cache

    deps = {p.relative_to(PKG).as_posix()
            for p in _numba_cache.dependencies(str(PKG / "arch" / "sat" / "_kernels.py"))}
    assert {"arch/sat/_kernels.py", "arch/sat/pe_array.py", "arch/_numba_cache.py"} <= deps
    # a report view, a study or the CLI cannot change compiled code: editing them recompiles nothing
    assert not {"arch/sat/view.py", "arch/sat/study.py", "arch/registry.py"} & deps
    assert not any(d.startswith("cli/") for d in deps)


def test_imports_are_found_in_every_statement_scope(tmp_path, monkeypatch):
    """The scan walks statements, not every node: an import nested in a function, a class,
    an if/else, a try/except/finally, a with, a loop or a match case still counts."""
    from accel.arch import _numba_cache

    pkg = tmp_path / "accel"
    (pkg / "arch").mkdir(parents=True)
    names = ["m_top", "m_fn", "m_cls", "m_if", "m_else", "m_try", "m_exc", "m_fin", "m_with",
             "m_for", "m_case"]
    for n in ["__init__", *names]:
        (pkg / f"{n}.py").write_text("")
    (pkg / "arch" / "k.py").write_text("""
import accel.m_top
def f():
    from accel import m_fn
class C:
    def g(self):
        import accel.m_cls
if X:
    import accel.m_if
else:
    from accel.m_else import thing
try:
    import accel.m_try
except ImportError:
    import accel.m_exc
finally:
    import accel.m_fin
with open(p):
    import accel.m_with
for i in ():
    import accel.m_for
match v:
    case 1:
        import accel.m_case
""")
    monkeypatch.setattr(_numba_cache, "PKG_ROOT", pkg)
    _numba_cache._module_file.cache_clear()
    try:
        found = {p.stem for p in _numba_cache._imports(pkg / "arch" / "k.py")}
    finally:
        _numba_cache._module_file.cache_clear()
        _numba_cache._imports.cache_clear()
    assert set(names) <= found


def test_is_compiled_reads_the_kernel_index(monkeypatch, tmp_path):
    """`is_compiled` answers from the cache's index files for the module's current source
    key (what Numba loads), not from the module's text."""
    from accel.arch import _numba_cache as nc

    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path))
    kernels = PKG / "arch" / "sat" / "_kernels.py"
    assert not nc.is_compiled(kernels) and not nc.package_compiled(kernels.parent)
    folder = nc.cache_dir(kernels)
    folder.mkdir(parents=True)
    (folder / "pe_array.tile_cycles-12.py311.nbi").write_bytes(b"")   # another module's kernel
    assert not nc.is_compiled(kernels) and not nc.package_compiled(kernels.parent)
    (folder / "_kernels.walk_gemms-40.py311.nbi").write_bytes(b"")
    assert nc.is_compiled(kernels) and nc.package_compiled(kernels.parent)
    assert not nc.is_compiled(PKG / "cli" / "sweep.py")   # not under accel/arch


def test_numba_bound_is_the_guard_of_the_private_locator():
    """pyproject's numba bound and the versions the locator is installed for are one range."""
    import tomllib

    from accel.arch._numba_cache import TESTED_NUMBA

    deps = tomllib.loads((PKG.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if d.startswith("numba"))
    (lo, hi) = (".".join(map(str, v)) for v in TESTED_NUMBA)
    assert spec == f"numba>={lo},<{hi}", spec


def test_untested_numba_keeps_kernels_out_of_the_package(monkeypatch, tmp_path):
    import numba

    from accel.arch import _numba_cache as nc

    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(nc, "_numba_version", lambda: (9, 1))
    with pytest.warns(RuntimeWarning, match="outside the versions"):
        assert nc.install() is False
    assert numba.config.CACHE_DIR == str(tmp_path / "unkeyed")
    monkeypatch.undo()
    assert nc.install() is True   # the tested version: the locator again (idempotent)


def test_a_kernel_numba_cannot_cache_is_a_warning_at_its_source(monkeypatch, tmp_path):
    """When a compiled result cannot be cached (lifted code, dynamic globals; NUMBA_OPT=0
    produced one), Numba warns at the kernel's file and line through the locator, and
    runs the kernel uncached.  accel's locator used to lack the file, so the run ended in
    an AttributeError traceback instead."""
    import warnings
    from types import SimpleNamespace

    from numba.core import caching
    from numba.core.errors import NumbaWarning

    from accel.arch.piuma._symbolic import _count_rows

    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path))
    impl = caching.CompileResultCacheImpl(_count_rows.py_func)
    assert type(impl._locator).__name__ == "AccelCacheLocator"
    cres = SimpleNamespace(lifted=[SimpleNamespace(can_cache=False)],
                           fndesc=SimpleNamespace(qualname="_count_rows"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert impl.check_cachable(cres) is False
    [w] = [w for w in seen if issubclass(w.category, NumbaWarning)]
    assert "Cannot cache compiled function \"_count_rows\"" in str(w.message)
    assert Path(w.filename).name == "_symbolic.py"
    assert w.lineno == _count_rows.py_func.__code__.co_firstlineno


def _shipped(prebuilt: Path, key: str) -> Path:
    """A wheel's prebuilt kernels of source ``key`` (hatch_build.py): one index, one entry."""
    folder = prebuilt / key / "piuma"
    folder.mkdir(parents=True)
    (folder / "_kernels.run_rowwise-300.py311.nbi").write_bytes(b"index")
    (folder / "_kernels.run_rowwise-300.py311.1.nbc").write_bytes(b"object code")
    return folder


def test_shipped_kernels_seed_a_cache_that_lacks_their_key(tmp_path, monkeypatch):
    from accel.arch import _numba_cache as nc

    monkeypatch.delenv("ACCEL_NO_PREBUILT", raising=False)   # the suite turns seeding off
    prebuilt, root = tmp_path / "_prebuilt_kernels", tmp_path / "cache"
    _shipped(prebuilt, "k1")
    assert nc.seed("k1", root, prebuilt)
    assert _files(root) == {"k1/piuma/_kernels.run_rowwise-300.py311.nbi",
                            "k1/piuma/_kernels.run_rowwise-300.py311.1.nbc"}
    assert (root / "k1/piuma/_kernels.run_rowwise-300.py311.1.nbc").read_bytes() == b"object code"
    # the cache's own folder for a key is never replaced (it may hold entries Numba added)
    (root / "k1/piuma/_kernels.run_rowwise-300.py311.1.nbc").write_bytes(b"recompiled")
    assert not nc.seed("k1", root, prebuilt)
    assert (root / "k1/piuma/_kernels.run_rowwise-300.py311.1.nbc").read_bytes() == b"recompiled"
    assert not nc.seed("other-key", root, prebuilt)     # nothing shipped for it
    assert not nc.seed("k1", tmp_path / "c2", tmp_path / "no-such-folder")   # a checkout: none
    assert not [p for p in root.iterdir() if p.name.startswith(".")]   # no private copy left
    monkeypatch.setenv("ACCEL_NO_PREBUILT", "1")           # turned off: nothing copied
    assert not nc.seed("k1", tmp_path / "c3", prebuilt) and not (tmp_path / "c3").exists()


def test_an_unwritable_cache_or_a_racing_process_leaves_no_half_copy(tmp_path, monkeypatch):
    from accel.arch import _numba_cache as nc

    monkeypatch.delenv("ACCEL_NO_PREBUILT", raising=False)
    prebuilt = tmp_path / "_prebuilt_kernels"
    _shipped(prebuilt, "k1")
    (tmp_path / "file").write_text("not a folder")
    assert not nc.seed("k1", tmp_path / "file" / "cache", prebuilt)   # cannot be made: compiles
    # another process puts its folder in place while this one copies: its folder stays whole
    root = tmp_path / "cache"
    real_copytree = nc.shutil.copytree

    def copy_then_lose_the_race(src, dst, *args, **kw):
        real_copytree(src, dst, *args, **kw)   # (copytree recurses through this name too)
        if not (root / "k1").exists():
            (root / "k1").mkdir()
            (root / "k1" / "theirs.nbi").write_bytes(b"theirs")

    monkeypatch.setattr(nc.shutil, "copytree", copy_then_lose_the_race)
    assert not nc.seed("k1", root, prebuilt)
    assert _files(root) == {"k1/theirs.nbi"}


def test_a_kernel_modules_cache_folder_is_seeded_from_the_package(monkeypatch, tmp_path):
    """`cache_dir` (what the locator and `is_compiled` ask) seeds its key's folder first, so
    an installed wheel's kernels count as compiled and load on the first run."""
    from accel.arch import _numba_cache as nc

    kernels = PKG / "arch" / "piuma" / "_kernels.py"
    key = nc.source_key(str(kernels))
    prebuilt = tmp_path / "_prebuilt_kernels"
    _shipped(prebuilt, key)
    monkeypatch.setattr(nc, "PREBUILT", prebuilt)
    monkeypatch.delenv("ACCEL_NO_PREBUILT", raising=False)
    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    assert nc.is_compiled(kernels)
    assert (tmp_path / "cache" / key / "piuma" / "_kernels.run_rowwise-300.py311.nbi").is_file()
