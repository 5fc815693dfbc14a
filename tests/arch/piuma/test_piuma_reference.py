"""The plain-Python reference engine equals the Numba engine cycle for cycle.

``reference.py`` is a separate, readable implementation of the same machine (threads as
generators, memory system as classes, no Numba, no shared code with the Numba modules).
Both engines must agree on every reported metric, on each thread's instruction count and
finish time, and on C itself, bit for bit (both sum the products in the same order).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from accel.arch.piuma import reference
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import ALGORITHMS, simulate, simulate_spgemm
from accel.arch.piuma.reference import simulate_reference
from accel.errors import WorkloadError
from accel.workloads.builtin import resolve
from accel.workloads.graphs import rmat

ALL = tuple(ALGORITHMS)   # smash-v1, smash-v2, smash-v3, inner, outer, gustavson-dense


def _assert_same_run(fast, ref):
    a, b = fast.to_dict(), ref.to_dict()
    for d in (a, b):
        d.pop("sim_wall_s")
        d.pop("workload")
    assert a == b
    assert np.array_equal(fast.thread_work, ref.thread_work)
    assert np.array_equal(fast.thread_finish, ref.thread_finish)
    assert np.array_equal(fast.C.indptr, ref.C.indptr)
    assert np.array_equal(fast.C.indices, ref.C.indices)
    assert np.array_equal(fast.C.data, ref.C.data)
    assert ref.correct


@pytest.fixture(scope="module")
def rmat6():
    return resolve("rmat:6")


@pytest.mark.parametrize("algo", ALL)
def test_reference_equals_numba_on_rmat6(rmat6, algo):
    op = rmat6.ops[0]
    fast = simulate(rmat6, PRESETS["piuma"], algo)
    ref = simulate_reference(op.a, op.b, PRESETS["piuma"], algo)
    assert ref.cycles == fast.cycles > 0
    _assert_same_run(fast, ref)


# configurations that reach the corners rmat:6 with the preset does not: spills and
# collisions (tiny tables), tokens of heavy rows, quadratic probing and modulo hashing,
# sorted output, cached dense accumulator, multi-row windows/tokens, long steps cut in
# pieces, an exhausted v3 fragment pool, an odd sync quantum and a dual-issue pipeline
VARIANTS = {
    "tiny-tables": dict(token_pps=64, hash_table_entries=16, max_load=0.5),
    "quadratic-modulo-sorted": dict(collision_policy="quadratic", hash_function="modulo",
                                    sorted_output=True, token_pps=100),
    "fine-steps": dict(dense_acc_cached=True, window_rows=3, token_rows=2, step_pps=7,
                       step_slots=5, step_columns=3),
    "small-pool": dict(pool_fraction=0.002, fragment_entries=16, max_fragments=4, token_pps=50,
                       cores=2, sync_quantum=37, issue_width=2),
}


@pytest.fixture(scope="module")
def graph():
    return rmat(7, 8, seed=3)



def test_graph_reaches_both_write_back_paths(graph):
    """The variants' graph has C rows short enough for the write-back inside the loop
    without reference counting (``_rowwise.SMALL_ROW``) and rows that take the general
    one, so the equality below covers both."""
    from accel.arch.piuma._rowwise import SMALL_ROW

    a = graph.to_scipy()
    lengths = np.diff((a @ a).indptr)
    assert (lengths <= SMALL_ROW).sum() > 10 and (lengths > SMALL_ROW).sum() > 10

@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_reference_equals_numba_off_preset(graph, variant):
    cfg = dataclasses.replace(PRESETS["piuma"], **VARIANTS[variant])
    spills = 0
    for algo in ALL:
        fast = simulate_spgemm(graph, graph, cfg, algo)
        _assert_same_run(fast, simulate_reference(graph, graph, cfg, algo))
        spills += fast.hash_spills
    if variant in ("tiny-tables", "small-pool"):
        assert spills > 0   # the variant does reach the overflow path


def test_reference_is_independent_of_the_numba_engine():
    """No Numba, and nothing from the Numba engine's module or its state layouts."""
    files = sorted(Path(reference.__file__).parent.glob("reference*.py"))
    assert len(files) == 3
    imported = set()
    for node in (n for f in files for n in ast.walk(ast.parse(f.read_text()))):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert not any("numba" in m or m.startswith("accel.arch.piuma._") or m.endswith(".state")
                   for m in imported), imported


def test_reference_refuses_large_inputs():
    g = rmat(10, 16, seed=1)
    with pytest.raises(WorkloadError, match="small inputs"):
        simulate_reference(g, g, PRESETS["piuma"], "smash-v1")
