"""Event-driven executor vs a plain-Python reference; token balance of compiled programs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm._kernels import (
    F_BAR,
    F_CH,
    F_KIND,
    F_REL,
    F_SPLIT,
    F_UNIT,
    F_WAIT,
    NF,
    execute,
)
from accel.arch.flightllm.model import hbm_args, weight_block_ns
from accel.workloads.llm import llm_workload, shape_of

NU = 6


def reference_transfer(nbytes, t, c0, ch_free, nch, inter, acc, row, chbw):
    """Per-channel pieces of one transfer, byte by byte of the interleave (plain Python)."""
    per = {}
    for j, off in enumerate(range(0, max(nbytes, 1), inter)):
        per[(c0 + j) % nch] = per.get((c0 + j) % nch, 0) + min(inter, nbytes - off)
    starts, ends = [], []
    for c, b in per.items():
        b = -(-b // acc) * acc
        t0 = max(t, ch_free[c])
        ch_free[c] = t0 + row + b / chbw
        starts.append(t0)
        ends.append(ch_free[c])
    return max(starts), max(ends), len(range(0, max(nbytes, 1), inter))


def reference_one_channel(nbytes, t, c, ch_free, acc, row, rate):
    b = -(-max(nbytes, 1) // acc) * acc
    t0 = max(t, ch_free[c])
    ch_free[c] = t0 + row + b / rate
    return t0, ch_free[c]


def reference_execute(prog, credits, chbw, nch, inter, acc, row, lat, cross_kinds=0,
                      cross_bw=1.0, one_kinds=0):
    """Same semantics as _kernels.execute, written as plainly as possible."""
    n = len(prog)
    queues = [[i for i in range(n) if prog[i][0] == u] for u in range(NU)]
    releases = {(s, d): [i for i in queues[s] if (prog[i][F_REL] >> d) & 1]
                for s in range(NU) for d in range(NU)}
    consumed = {(s, d): 0 for s in range(NU) for d in range(NU)}
    finish = {}
    unit_free = [0.0] * NU
    ch_free = [0.0] * nch
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
            if ok and prog[i][F_BAR]:        # waits for every earlier instruction
                if any(j not in finish for j in range(i)):
                    ok = False
                else:
                    ready = max([ready] + [finish[j] for j in range(i)])
            if ok:
                cands.append((ready, u))
        assert cands, "deadlock"
        ready, u = min(cands)
        i = queues[u].pop(0)
        for s in range(NU):
            if (prog[i][F_WAIT] >> s) & 1:
                consumed[(s, u)] += 1
        if u in (0, 1) and (cross_kinds | one_kinds) >> prog[i][F_KIND] & 1:
            rate = cross_bw if cross_kinds >> prog[i][F_KIND] & 1 else chbw
            sp = max(1, prog[i][F_SPLIT])
            ends = [reference_one_channel(-(-prog[i][1] // sp), ready,
                                          (prog[i][F_CH] + j * (nch // sp)) % nch,
                                          ch_free, acc, row, rate) for j in range(sp)]
            accepted, done = max(e[0] for e in ends), max(e[1] for e in ends)
            finish[i] = done + lat
            unit_free[u] = accepted
        elif u in (0, 1):
            accepted, done, _ = reference_transfer(prog[i][1], ready, prog[i][F_CH] % nch,
                                                   ch_free, nch, inter, acc, row, chbw)
            finish[i] = done + lat
            unit_free[u] = accepted
        else:
            finish[i] = ready + prog[i][2]
            unit_free[u] = finish[i]
    return np.array([finish[i] for i in range(n)])


@st.composite
def programs(draw):
    """Random LD -> MV -> ST pipelines with slot credits (always deadlock-free)."""
    tiles = draw(st.integers(1, 12))
    pad = [0] * (NF - 8)

    def ch():
        return draw(st.integers(0, 40))          # start channel (taken modulo the count)

    rows = []
    for _ in range(tiles):
        rows.append([0, draw(st.integers(64, 1 << 20)), 0, 1 << 3, 1 << 3, 0, 0, 0] + pad)
        rows[-1][F_CH] = ch()
    for t in range(tiles):
        rel = (1 << 0) | ((1 << 1) if t == tiles - 1 else 0)
        rows.append([3, 0, draw(st.integers(1, 5000)), 1 << 0, rel, 0, 0, 0] + pad)
    # the result store: striped (kind 0), one channel (kind 1) or through the switch (kind 2)
    rows.append([1, draw(st.integers(1, 4096)), 0, 1 << 3, 0, draw(st.integers(0, 2)), 0, 0]
                + pad)
    rows[-1][F_CH] = ch()
    rows[-1][F_SPLIT] = draw(st.integers(0, 4))
    rows.append([4, 0, draw(st.integers(1, 100)), 0, 0, 0, 0, 0] + pad)
    rows[-1][F_BAR] = draw(st.booleans())       # a barrier: after everything before it
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
    args = (1.5, 32, 256, 32, 7.0, 24.0, 1 << 2, 0.6, 1 << 1)
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
        start, fin, _, _, status = execute(prog, cred, *hbm_args(cfg))
        assert status == -1 and fin.max() > 0
        assert _tokens_honoured(prog, cred, start, fin) > 0


def _tokens_honoured(prog, cred, start, fin):
    """Every instruction starts after the release that satisfies each of its waits."""
    checked = 0
    for s in range(NU):
        for d in range(NU):
            rel = [i for i in range(len(prog)) if prog[i, F_UNIT] == s and (prog[i, F_REL] >> d) & 1]
            waits = [i for i in range(len(prog)) if prog[i, F_UNIT] == d and (prog[i, F_WAIT] >> s) & 1]
            for k, i in enumerate(waits):
                j = k - cred[s, d]
                if j >= 0:
                    assert start[i] >= fin[rel[j]] - 1e-9, (C.UNIT_NAMES[s], C.UNIT_NAMES[d], i)
                    checked += 1
    return checked


def test_off_chip_decode_serialises_every_intermediate(tiny_config):
    """Off chip, each intermediate goes MV/MISC -> ST -> LD -> consumer, strictly in time."""
    w = llm_workload(tiny_config, 40, 4)
    shape = shape_of(w)
    cfg = PRESETS["u280"]
    tiles = C.fused_tiles(shape, weight_block_ns(w, shape), cfg)
    prog = C.decode_program(shape, tiles, cfg, 44, on_chip=False)
    start, fin, _, _, status = execute(prog, C.credits(cfg), *hbm_args(cfg))
    assert status == -1
    _tokens_honoured(prog, C.credits(cfg), start, fin)
    vec = np.isin(prog[:, F_KIND], (C.K_ACT_VEC, C.K_ACT_IN))
    act_ld = np.nonzero((prog[:, F_UNIT] == C.LD) & vec)[0]
    act_st = np.nonzero((prog[:, F_UNIT] == C.ST) & vec)[0]
    # per layer: norm, q, k, v, rope, scores, softmax, AV, o, residual, norm, gate, up,
    # act_fn, down, residual: 16 activation loads, each after a store
    per_layer = 16
    assert len(act_ld) >= per_layer * shape.layers and len(act_st) >= len(act_ld)
    # every activation load (but the embedding row) waits for a store token, and so is
    # timed after that store's finish by _tokens_honoured; it releases its consumer only
    assert all((prog[act_ld[1:], F_WAIT] >> C.ST) & 1)
    assert all(prog[act_ld, F_REL] & ~(1 << C.MV | 1 << C.MISC) == 0)
    # each intermediate costs at least one store + load round trip of HBM latency
    lat = hbm_args(cfg)[5]
    assert all(fin[i] - start[i] >= lat for i in np.concatenate([act_ld, act_st]))
    # an MV's input vector crosses channels (one channel at the cross-channel rate), so
    # it takes at least twice as long as the same bytes in one channel of its own
    hz = cfg.clock_mhz * 1e6
    one_ch = cfg.hbm_channel_gbps * 1e9 * cfg.hbm_efficiency / hz
    act_in = act_ld[prog[act_ld, F_KIND] == C.K_ACT_IN]
    assert len(act_in) >= 8 * shape.layers     # q, k, v, scores, AV, o, gate, up, down
    # (each SLR loads the whole vector: F_SPLIT slices of bytes / F_SPLIT, in parallel)
    assert all(fin[i] - start[i] >= lat + prog[i, 1] / max(1, prog[i, F_SPLIT]) / one_ch * 2
               * 0.99 for i in act_in)
    on = C.decode_program(shape, tiles, cfg, 44, on_chip=True)
    assert (np.isin(on[:, F_KIND], (C.K_ACT_VEC, C.K_ACT_IN, C.K_ACT))
            & (on[:, F_UNIT] == C.LD)).sum() == 0
