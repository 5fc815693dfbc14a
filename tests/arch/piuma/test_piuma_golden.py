"""Golden cycle counts: R-MAT scale 8 (seed 1), every algorithm, preset `piuma`.

Pinned from the model at MODEL_VERSION piuma-0.1 (before and after the 4.8x kernel
speed-up, which kept every metric identical).  A change here is a change of cycle
semantics: bump MODEL_VERSION and re-pin on purpose, never to make a test pass.
"""

import pytest

from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import MODEL_VERSION, simulate_spgemm
from accel.workloads.graphs import rmat

GOLDEN = {  # algorithm: (cycles, hash collisions)
    "smash-v1": (85622, 0),
    "smash-v2": (85867, 0),
    "smash-v3": (60347, 336),
    "inner": (93310, 0),
    "outer": (73573, 0),
    "gustavson-dense": (90398, 0),
}


@pytest.fixture(scope="module")
def graph():
    return rmat(8, 16, seed=1)


@pytest.mark.parametrize("algo", sorted(GOLDEN))
def test_golden_cycles_rmat8(graph, algo):
    assert MODEL_VERSION == "piuma-0.1"
    r = simulate_spgemm(graph, graph, PRESETS["piuma"], algo)
    m = r.metrics()
    cycles, collisions = GOLDEN[algo]
    assert m["cycles"] == pytest.approx(cycles, rel=0, abs=0)
    assert m["hash_collisions"] == collisions
    assert m["partial_products"] == 89642   # the same products whatever the algorithm
