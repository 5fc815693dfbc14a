"""Event-driven executor vs a plain-Python reference; token balance of compiled programs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm import decode as D
from accel.arch.flightllm._kernels import execute
from accel.arch.flightllm.isa import INSTR, N_UNITS, HbmSettings, from_rows
from accel.arch.flightllm.model import hbm_settings, weight_block_ns
from accel.workloads.llm import llm_workload, shape_of

NU = N_UNITS


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
    """Same semantics as _kernels.execute, written as plainly as possible; ``prog`` is a
    list of {field: value} dicts."""
    n = len(prog)
    queues = [[i for i in range(n) if prog[i]["unit"] == u] for u in range(NU)]
    releases = {(s, d): [i for i in queues[s] if (prog[i]["rel"] >> d) & 1]
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
                if (prog[i]["wait"] >> s) & 1:
                    k = consumed[(s, u)] - credits[s][u]
                    if k < 0:
                        continue
                    rel = releases[(s, u)]
                    if k >= len(rel) or rel[k] not in finish:
                        ok = False
                        break
                    ready = max(ready, finish[rel[k]])
            if ok and prog[i]["bar"]:        # waits for every earlier instruction
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
            if (prog[i]["wait"] >> s) & 1:
                consumed[(s, u)] += 1
        if u in (0, 1) and (cross_kinds | one_kinds) >> prog[i]["kind"] & 1:
            rate = cross_bw if cross_kinds >> prog[i]["kind"] & 1 else chbw
            sp = max(1, prog[i]["split"])
            ends = [reference_one_channel(-(-prog[i]["nbytes"] // sp), ready,
                                          (prog[i]["ch"] + j * (nch // sp)) % nch,
                                          ch_free, acc, row, rate) for j in range(sp)]
            accepted, done = max(e[0] for e in ends), max(e[1] for e in ends)
            finish[i] = done + lat
            unit_free[u] = accepted
        elif u in (0, 1):
            accepted, done, _ = reference_transfer(prog[i]["nbytes"], ready, prog[i]["ch"] % nch,
                                                   ch_free, nch, inter, acc, row, chbw)
            finish[i] = done + lat
            unit_free[u] = accepted
        else:
            finish[i] = ready + prog[i]["cycles"]
            unit_free[u] = finish[i]
    return np.array([finish[i] for i in range(n)])


@st.composite
def programs(draw):
    """Random LD -> MV -> ST pipelines with slot credits (always deadlock-free)."""
    tiles = draw(st.integers(1, 12))

    def ch():
        return draw(st.integers(0, 40))          # start channel (taken modulo the count)

    rows = []
    for _ in range(tiles):
        rows.append({"unit": 0, "nbytes": draw(st.integers(64, 1 << 20)), "wait": 1 << 3,
                     "rel": 1 << 3, "ch": ch()})
    for t in range(tiles):
        rel = (1 << 0) | ((1 << 1) if t == tiles - 1 else 0)
        rows.append({"unit": 3, "cycles": draw(st.integers(1, 5000)), "wait": 1 << 0,
                     "rel": rel})
    # the result store: striped (kind 0), one channel (kind 1) or through the switch (kind 2)
    rows.append({"unit": 1, "nbytes": draw(st.integers(1, 4096)), "wait": 1 << 3,
                 "kind": draw(st.integers(0, 2)), "ch": ch(),
                 "split": draw(st.integers(0, 4))})
    rows.append({"unit": 4, "cycles": draw(st.integers(1, 100)),
                 "bar": int(draw(st.booleans()))})   # a barrier: after everything before it
    order = draw(st.permutations(range(len(rows))))
    # keep each unit's order, interleave units arbitrarily
    by_unit = {}
    for r in rows:
        by_unit.setdefault(r["unit"], []).append(r)
    ptr = {u: 0 for u in by_unit}
    out = []
    for j in order:
        u = rows[j]["unit"]
        out.append(by_unit[u][ptr[u]])
        ptr[u] += 1
    return from_rows(out), draw(st.integers(1, 4))


@settings(max_examples=40, deadline=None)
@given(programs())
def test_execute_matches_reference(case):
    prog, slots = case
    cred = np.zeros((NU, NU), np.int64)
    cred[3, 0] = slots
    args = HbmSettings(1.5, 32, 256, 32, 7.0, 24.0, 1 << 2, 0.6, 1 << 1)
    _, fin, _, nbytes, status = execute(prog, cred, args)
    assert status == -1
    rows = [dict(zip(INSTR.names, r, strict=True)) for r in prog.tolist()]
    np.testing.assert_allclose(fin, reference_execute(rows, cred.tolist(), *args))
    assert nbytes == prog["nbytes"][prog["unit"] <= 1].sum()


def _token_balance(prog, cred):
    """Every wait is matched by a release or an initial credit."""
    for s in range(NU):
        for d in range(NU):
            waits = int(((prog["wait"][prog["unit"] == d] >> s) & 1).sum())
            rels = int(((prog["rel"][prog["unit"] == s] >> d) & 1).sum())
            assert waits <= rels + cred[s, d], (s, d, waits, rels)


def test_compiled_programs_are_balanced_and_run(tiny_config):
    w = llm_workload(tiny_config, 100, 20, sparsity="mixed:0.6")
    shape = shape_of(w)
    cfg = PRESETS["u280"]
    tiles = C.fused_tiles(shape, weight_block_ns(w, shape), cfg)
    cred = C.credits(cfg)
    for prog in (C.prefill_program(shape, tiles, cfg, 100),
                 D.decode_program(shape, tiles, cfg, 117, True),
                 D.decode_program(shape, tiles, cfg, 1, False)):
        _token_balance(prog, cred)
        start, fin, _, _, status = execute(prog, cred, hbm_settings(cfg))
        assert status == -1 and fin.max() > 0
        assert _tokens_honoured(prog, cred, start, fin) > 0


def _tokens_honoured(prog, cred, start, fin):
    """Every instruction starts after the release that satisfies each of its waits."""
    checked = 0
    for s in range(NU):
        for d in range(NU):
            rel = [i for i in range(len(prog)) if prog["unit"][i] == s and (prog["rel"][i] >> d) & 1]
            waits = [i for i in range(len(prog)) if prog["unit"][i] == d and (prog["wait"][i] >> s) & 1]
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
    prog = D.decode_program(shape, tiles, cfg, 44, on_chip=False)
    start, fin, _, _, status = execute(prog, C.credits(cfg), hbm_settings(cfg))
    assert status == -1
    _tokens_honoured(prog, C.credits(cfg), start, fin)
    vec = np.isin(prog["kind"], (C.K_ACT_VEC, C.K_ACT_IN))
    act_ld = np.nonzero((prog["unit"] == C.LD) & vec)[0]
    act_st = np.nonzero((prog["unit"] == C.ST) & vec)[0]
    # per layer: norm, q, k, v, rope, scores, softmax, AV, o, residual, norm, gate, up,
    # act_fn, down, residual: 16 activation loads, each after a store
    per_layer = 16
    assert len(act_ld) >= per_layer * shape.layers and len(act_st) >= len(act_ld)
    # every activation load (but the embedding row) waits for a store token, and so is
    # timed after that store's finish by _tokens_honoured; it releases its consumer only
    assert all((prog["wait"][act_ld[1:]] >> C.ST) & 1)
    assert all(prog["rel"][act_ld] & ~(1 << C.MV | 1 << C.MISC) == 0)
    # each intermediate costs at least one store + load round trip of HBM latency
    lat = hbm_settings(cfg).latency_cycles
    assert all(fin[i] - start[i] >= lat for i in np.concatenate([act_ld, act_st]))
    # an MV's input vector crosses channels (one channel at the cross-channel rate), so
    # it takes at least twice as long as the same bytes in one channel of its own
    hz = cfg.clock_mhz * 1e6
    one_ch = cfg.hbm_channel_gbps * 1e9 * cfg.hbm_efficiency / hz
    act_in = act_ld[prog["kind"][act_ld] == C.K_ACT_IN]
    assert len(act_in) >= 8 * shape.layers     # q, k, v, scores, AV, o, gate, up, down
    # (each SLR loads the whole vector: ``split`` slices of bytes / split, in parallel)
    assert all(fin[i] - start[i] >= lat + prog["nbytes"][i] / max(1, prog["split"][i]) / one_ch * 2
               * 0.99 for i in act_in)
    on = D.decode_program(shape, tiles, cfg, 44, on_chip=True)
    assert (np.isin(on["kind"], (C.K_ACT_VEC, C.K_ACT_IN, C.K_ACT))
            & (on["unit"] == C.LD)).sum() == 0
