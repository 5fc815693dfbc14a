"""The PIUMA engine names its state: no bare integer column index in the kernels.

Thread, row and shared state are structured records (``state.THREAD`` ...) and the
statistics / parameter vectors are indexed by named constants, so an integer literal
inside a subscript (``ts[t, 1]``, ``G[0]``) is a regression to magic columns.  The only
literal subscripts allowed are of an array's ``.shape``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import accel.arch.piuma._inner_outer as inner_outer
import accel.arch.piuma._kernels as kernels
import accel.arch.piuma._rowwise as rowwise
from accel.arch.piuma import state

PIUMA = Path(state.__file__).parent
KERNELS = sorted(PIUMA.glob("_*.py"))   # the Numba engine: _kernels.py and the modules it calls


def _literal_subscripts(source: str) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Subscript):
            continue
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            continue
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(p, ast.Constant) and isinstance(p.value, int) for p in parts):
            bad.append(f"line {node.lineno}: {ast.unparse(node)}")
    return bad


def test_kernels_have_no_bare_integer_index():
    assert {p.name for p in KERNELS} >= {"_kernels.py", "_memory.py", "_rowwise.py",
                                         "_inner_outer.py", "_work.py"}
    for path in KERNELS:
        assert _literal_subscripts(path.read_text()) == [], path.name


def test_scan_catches_magic_columns():
    """The scan itself can fail: the old layout's subscripts are all caught."""
    old = "x = ts[t, 1]\nts[o, 12] += 1\ns = G[0]\ny = rt[row, 0]\nn = ap.shape[0]\nok = P[P_E]\n"
    assert [b.split(": ")[1] for b in _literal_subscripts(old)] == [
        "ts[t, 1]", "ts[o, 12]", "G[0]", "rt[row, 0]"]


def test_kernels_read_named_parameters_without_casts():
    """Parameters are ``P.name`` fields of their own type: no slot index, no int cast of one,
    and no bare boolean or byte count handed to a memory access."""
    for path in KERNELS:
        src = path.read_text()
        assert "P[" not in src and "np.int64(P." not in src, path.name
        calls = [ln for ln in src.splitlines() if "load(" in ln or "store(" in ln]
        for bad in (", True,", ", False,", ", 16,", ", 8,", ", 4,"):
            assert not [c for c in calls if bad in c], (path.name, bad)


def test_layouts_are_one_table_each():
    """Every record field comes from its table, in order, with no name twice."""
    for table, dtype in ((state.THREAD_FIELDS, state.THREAD), (state.ROW_FIELDS, state.ROW),
                         (state.SHARED_FIELDS, state.SHARED),
                         (state.COUNTS_FIELDS, state.COUNTS),
                         (state.PARAMS_FIELDS, state.PARAMS)):
        names = [name for name, _ in table]
        assert list(dtype.names) == names and len(set(names)) == len(names)
        assert all(dtype[name] == np.dtype(kind) for name, kind in table)


def test_step_functions_take_few_named_arguments():
    """Step functions take (t, now, P, threads) and at most five named groups."""
    for fn in (rowwise.rowwise_step, rowwise.writeback_step, inner_outer.inner_step,
               inner_outer.outer_step):
        args = fn.py_func.__code__.co_varnames[:fn.py_func.__code__.co_argcount]
        assert args[:4] == ("t", "now", "P", "threads") and len(args) <= 9, (fn, args)


def test_each_scheduler_calls_only_its_family_steps():
    """A run compiles only its algorithm family's scheduler and what that calls: a row-wise
    run never compiles the inner/outer steps, nor an inner or outer run the row-wise ones
    (one scheduler calling every step cost every run a cold compile of all of them).  The
    host-side entry point is plain Python, so it compiles nothing itself."""
    steps = {"rowwise_step", "writeback_step", "acc_room", "inner_step", "outer_step"}
    calls = {}
    for fn in ast.parse(Path(kernels.__file__).read_text()).body:
        if isinstance(fn, ast.FunctionDef) and (fn.name.startswith("run_")
                                                or fn.name == "_rowwise_loop"):
            calls[fn.name] = {n.func.id for n in ast.walk(fn)
                              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} & steps
    # the row-wise scheduler is two functions: the loop without reference counting takes
    # the steps that do not allocate, run_rowwise the ones that do
    assert calls == {"run_rowwise": {"writeback_step", "acc_room"},
                     "_rowwise_loop": {"rowwise_step"},
                     "run_inner": {"inner_step"}, "run_outer": {"outer_step"}}
    assert not hasattr(kernels.simulate_kernel, "py_func")   # not a Numba dispatcher
