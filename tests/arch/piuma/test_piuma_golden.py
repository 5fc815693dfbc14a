"""Golden cycle counts: R-MAT scale 8 (seed 1), every algorithm, preset `piuma`.

Pinned from the model at MODEL_VERSION piuma-0.2 (0.1's figures were kept identical
through its 4.8x kernel speed-up; 0.2 changed the semantics on purpose: work tokens that
split heavy rows, round-robin interleaving of long instruction runs, unsorted write-back,
uncached dense accumulator).  A change here is a change of cycle
semantics: bump MODEL_VERSION and re-pin on purpose, never to make a test pass.
"""

import pytest

from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import MODEL_VERSION, simulate_spgemm
from accel.workloads.graphs import rmat

GOLDEN = {  # algorithm: (cycles, hash collisions)
    "smash-v1": (68725, 0),
    "smash-v2": (59176, 0),
    "smash-v3": (38878, 353),
    "inner": (93199, 0),
    "outer": (92213, 0),
    "gustavson-dense": (137768, 0),
}


@pytest.fixture(scope="module")
def graph():
    return rmat(8, 16, seed=1)


@pytest.mark.parametrize("algo", sorted(GOLDEN))
def test_golden_cycles_rmat8(graph, algo):
    assert MODEL_VERSION == "piuma-0.2"
    r = simulate_spgemm(graph, graph, PRESETS["piuma"], algo)
    m = r.metrics()
    cycles, collisions = GOLDEN[algo]
    assert m["cycles"] == pytest.approx(cycles, rel=0, abs=0)
    assert m["hash_collisions"] == collisions
    assert m["partial_products"] == 89642   # the same products whatever the algorithm
