"""The DSP chain's timing contract (accel/arch/flightllm/dsp_chain.py) and op packing."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.lib import data
from hypothesis import given
from hypothesis import strategies as st

from accel.arch.flightllm import dsp_chain as contract
from accel.arch.flightllm._kernels import chain_passes
from accel.hw.blocks.dsp_chain import layouts
from accel.hw.blocks.dsp_chain.params import ChainParams


@given(st.sampled_from([(16, 2), (16, 4), (8, 2), (32, 4), (12, 3), (16, 1), (4, 2)]),
       st.lists(st.sampled_from([0, 1, 2, 3, 4, 8, 16]), min_size=1, max_size=24))
def test_pass_schedule_is_what_chain_passes_counts(cfg, ns):
    """Groups longer than the chain included (16:16 on 12-, 8- and 4-DSP chains)."""
    d, g = cfg
    ns = np.array(ns, np.int64)
    sched = contract.pass_schedule(ns, d, g)
    assert len(sched) == chain_passes(ns, d, g)
    kept = {}
    for placed in sched:
        assert placed                                  # no empty pass
        used = 0
        for grp, j0, cnt, slot in placed:
            assert slot == used and slot % g == 0      # groups packed from slot 0, aligned
            assert j0 == kept.get(grp, 0)              # a wrapped group continues in order
            used += int(contract.group_slots(cnt, g))
            kept[grp] = kept.get(grp, 0) + cnt
        assert used <= d
    assert kept == {i: int(n) for i, n in enumerate(ns) if n}


def test_long_group_wrap():
    """A group longer than the chain wraps in whole passes; starting an empty chain it
    opens no extra, empty pass (16 kept weights on 8 DSPs: 2 passes of 8), after a
    partly filled pass it starts a new one (2 + 16 on 8: [2], [8], [8])."""
    ns = np.array([16], np.int64)
    assert len(contract.pass_schedule(ns, 8, 2)) == chain_passes(ns, 8, 2) == 2
    ns = np.array([2, 16], np.int64)
    assert len(contract.pass_schedule(ns, 8, 2)) == chain_passes(ns, 8, 2) == 3
    ns = np.array([16, 2], np.int64)        # the wrap's last pass is full: 2 starts anew
    assert len(contract.pass_schedule(ns, 8, 2)) == chain_passes(ns, 8, 2) == 3
    ns = np.array([16, 16, 4], np.int64)    # 16 + 16 + 4 on 12: [12], [4|..], ...
    assert chain_passes(ns, 12, 2) == len(contract.pass_schedule(ns, 12, 2)) == 4


def test_fill_cycles_and_op_cycles():
    assert contract.chain_fill_cycles(16, 2) == 5 + 2 + 3
    assert contract.chain_fill_cycles(8, 8) == 5 + 8 + 0
    counts = np.full((16, 3), 4)                 # 4:16, K = 256, 3 columns
    assert contract.op_beats(counts, 1, 16, 2) == 3 * 4
    assert contract.op_beats(counts, 5, 16, 2) == 3 * 4 * 3
    assert contract.op_cycles(counts, 1, 16, 2) == 12 + 10


def test_pack_beats_round_trip():
    p = ChainParams(8, 2)
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, (3, 8))
    idx = rng.integers(0, 16, (3, 8))
    a0 = rng.integers(-128, 128, (3, 4, 16))
    a1 = rng.integers(-128, 128, (3, 8))
    last = np.array([0, 0, 1])
    words = layouts.pack_beats(p, w, idx, a0, a1, last)
    lay = layouts.beat(p)
    for b in range(3):
        v = int.from_bytes(words[b].tobytes(), "little")
        view = data.Const(lay, v)
        assert [view.w[i] for i in range(8)] == list(w[b])
        assert [view.idx[i] for i in range(8)] == list(idx[b])
        assert view.act0[0][0] == a0[b, 0, 0] and view.act1[7] == a1[b, 7]
        assert view.last == last[b]
    big = (1 << 31) - 5 + ((-(1 << 31) + 7) % (1 << 32) << 32)
    assert layouts.unpack_result(ChainParams(), big) == ((1 << 31) - 5, -(1 << 31) + 7)


@pytest.mark.parametrize("d,g", [(16, 2), (8, 2)])
def test_tiny_llama_ops_match_both_references(d, g, tiny_llm_config):
    """The cosim op set is built from the functional executor's model and the tiny-llama
    config; every op's expected values equal NumPy and chain_matmul (checked in
    chain_op) and its model cycles are op_cycles."""
    from accel.hw.blocks.dsp_chain.cosim import TINY_LLAMA, build_ops
    from accel.workloads.llm import shape_from_hf_config

    shape = shape_from_hf_config(tiny_llm_config)
    assert (shape.hidden, shape.ffn, shape.heads, shape.kv_heads) == (
        TINY_LLAMA.hidden, TINY_LLAMA.ffn, TINY_LLAMA.heads, TINY_LLAMA.kv_heads)
    ops = build_ops(ChainParams(d, g), ("tiny", "mm"), ("2", "mixed"), 2, shape)
    assert len(ops) == 7 * 2 + 2
    assert {o.k for o in ops} == {256, 512}
    assert all(o.model_cycles > contract.chain_fill_cycles(d, g) for o in ops)


def test_build_ops_refuses_bad_requests():
    from accel.errors import AccelError
    from accel.hw.blocks.dsp_chain.cosim import build_ops
    from accel.workloads.llm import LLM_PRESETS

    p = ChainParams()
    with pytest.raises(AccelError, match="small model config"):
        build_ops(p, ("tiny",), ("2",), 1, LLM_PRESETS["llama2-7b"])
    for kw, msg in (({"op_sets": ("big",)}, "op set"), ({"patterns": ("3",)}, "pattern"),
                    ({"cols": 0}, "cols")):
        with pytest.raises(AccelError, match=msg):
            build_ops(p, **kw)
