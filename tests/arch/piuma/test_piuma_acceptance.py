"""The issue's acceptance on the preset machine, kept as a regression test (rmat:12)."""

from __future__ import annotations

import pytest

from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import SMASH, simulate_all
from accel.arch.piuma.study import uniform_twin
from accel.workloads.builtin import resolve
from accel.workloads.graphs import spgemm_workload


@pytest.fixture(scope="module")
def rmat12():
    w = resolve("rmat:12")
    return w, simulate_all(w, PRESETS["piuma"])


def test_every_algorithm_correct_and_smash_beats_inner_and_outer(rmat12):
    _, res = rmat12
    assert all(r.correct for r in res.values())
    best = min(res[n].cycles for n in SMASH)
    assert best < res["inner"].cycles and best < res["outer"].cycles


def test_traffic_ranking_of_the_motivation(rmat12):
    _, res = rmat12
    reads = {n: r.dram_bytes_read for n, r in res.items()}
    pp = {n: r.partial_product_bytes for n, r in res.items()}
    assert max(reads, key=reads.get) == "inner"       # redundant fetches of B
    assert max(pp, key=pp.get) == "outer"             # partial-product matrices in DRAM


def test_tokens_gain_more_on_skewed_than_on_uniform(rmat12):
    w, res = rmat12
    uni = simulate_all(spgemm_workload(uniform_twin(w.ops[0].a)), PRESETS["piuma"], ("smash-v1", "smash-v2"))
    v1, v2 = res["smash-v1"], res["smash-v2"]
    skew_gain = v1.cycles / v2.cycles
    uniform_gain = uni["smash-v1"].cycles / uni["smash-v2"].cycles
    assert skew_gain > 1.0 and v2.load_imbalance < v1.load_imbalance
    assert skew_gain > uniform_gain
