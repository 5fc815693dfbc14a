"""Event-driven executor vs a plain-Python reference; token balance of compiled programs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm._kernels import F_REL, F_UNIT, F_WAIT, execute
from accel.arch.flightllm.model import weight_block_ns
from accel.workloads.llm import llm_workload, shape_of

NU = 6


def reference_execute(prog, credits, bw, chbw, nch, inter, lat):
    """Same semantics as _kernels.execute, written as plainly as possible."""
    n = len(prog)
    queues = [[i for i in range(n) if prog[i][0] == u] for u in range(NU)]
    releases = {(s, d): [i for i in queues[s] if (prog[i][F_REL] >> d) & 1]
                for s in range(NU) for d in range(NU)}
    consumed = {(s, d): 0 for s in range(NU) for d in range(NU)}
    finish = {}
    unit_free = [0.0] * NU
    hbm_free = 0.0
    while any(queues):
        cands = []
        for u in range(NU):
            if not queues[u]:
                continue
            i = queues[u][0]
            ready, ok = unit_free[u], True
            for s in range(NU):
                if (prog[i][F_WAIT] >> s) & 1:
                    k = consumed[(s, u)] - credits[s][u]
                    if k < 0:
                        continue
                    rel = releases[(s, u)]
                    if k >= len(rel) or rel[k] not in finish:
                        ok = False
                        break
                    ready = max(ready, finish[rel[k]])
            if ok:
                cands.append((ready, u))
        assert cands, "deadlock"
        ready, u = min(cands)
        i = queues[u].pop(0)
        for s in range(NU):
            if (prog[i][F_WAIT] >> s) & 1:
                consumed[(s, u)] += 1
        if u in (0, 1):
            b = prog[i][1]
            t0 = max(ready, hbm_free)
            span = min(nch, max(1, -(-b // inter)))
            hbm_free = t0 + b / bw
            finish[i] = t0 + lat + b / (span * chbw)
            unit_free[u] = hbm_free
        else:
            finish[i] = ready + prog[i][2]
            unit_free[u] = finish[i]
    return np.array([finish[i] for i in range(n)])


@st.composite
def programs(draw):
    """Random LD -> MV -> ST pipelines with slot credits (always deadlock-free)."""
    tiles = draw(st.integers(1, 12))
    rows = []
    for _ in range(tiles):
        rows.append([0, draw(st.integers(64, 1 << 20)), 0, 1 << 3, 1 << 3, 0, 0, 0])
    for t in range(tiles):
        rel = (1 << 0) | ((1 << 1) if t == tiles - 1 else 0)
        rows.append([3, 0, draw(st.integers(1, 5000)), 1 << 0, rel, 0, 0, 0])
    rows.append([1, draw(st.integers(1, 4096)), 0, 1 << 3, 0, 0, 0, 0])
    rows.append([4, 0, draw(st.integers(1, 100)), 0, 0, 0, 0, 0])
    order = draw(st.permutations(range(len(rows))))
    # keep each unit's order, interleave units arbitrarily
    by_unit = {}
    for r in rows:
        by_unit.setdefault(r[0], []).append(r)
    ptr = {u: 0 for u in by_unit}
    out = []
    for j in order:
        u = rows[j][0]
        out.append(by_unit[u][ptr[u]])
        ptr[u] += 1
    return np.array(out, np.int64), draw(st.integers(1, 4))


@settings(max_examples=40, deadline=None)
@given(programs())
def test_execute_matches_reference(case):
    prog, slots = case
    cred = np.zeros((NU, NU), np.int64)
    cred[3, 0] = slots
    args = (30.0, 1.5, 32, 4096, 100.0)
    _, fin, _, nbytes, status = execute(prog, cred, *args)
    assert status == -1
    np.testing.assert_allclose(fin, reference_execute(prog.tolist(), cred.tolist(), *args))
    assert nbytes == prog[prog[:, F_UNIT] <= 1, 1].sum()


def _token_balance(prog, cred):
    """Every wait is matched by a release or an initial credit."""
    for s in range(NU):
        for d in range(NU):
            waits = int(((prog[prog[:, F_UNIT] == d, F_WAIT] >> s) & 1).sum())
            rels = int(((prog[prog[:, F_UNIT] == s, F_REL] >> d) & 1).sum())
            assert waits <= rels + cred[s, d], (s, d, waits, rels)


def test_compiled_programs_are_balanced_and_run(tiny_config):
    w = llm_workload(tiny_config, 100, 20, sparsity="mixed:0.6")
    shape = shape_of(w)
    cfg = PRESETS["u280"]
    tiles = C.fused_tiles(shape, weight_block_ns(w, shape), cfg)
    cred = C.credits(cfg)
    for prog in (C.prefill_program(shape, tiles, cfg, 100),
                 C.decode_program(shape, tiles, cfg, 117, True),
                 C.decode_program(shape, tiles, cfg, 1, False)):
        _token_balance(prog, cred)
        _, fin, _, _, status = execute(prog, cred, 100.0, 3.0, 32, 4096, 50.0)
        assert status == -1 and fin.max() > 0
