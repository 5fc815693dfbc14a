"""RTL regression: real pruned MiniLM tiles through the Verilated PE array (marker rtl).

For every tile: outputs bit-exact against NumPy, the RTL cycle counter equal to
``tile_cycles`` (with and without random valid/ready stalls on all three streams), and
the start->done wall count equal to it when unstalled.  One Verilator build per
configuration; all tiles of a configuration run in one simulation.
"""

from __future__ import annotations

import pytest

from accel.hw.blocks.pe_array import cosim
from accel.hw.blocks.pe_array.params import ArrayParams

pytestmark = pytest.mark.rtl

# (rows, cols, n, m, prune of the real layer, extra tiles)
CONFIGS = {
    "2:4": (ArrayParams(4, 4, 2, 4), "2:4"),
    "2:8": (ArrayParams(4, 4, 2, 8), "2:8"),
    "1:4": (ArrayParams(4, 4, 1, 4), "1:4"),
}
# 2^31 / (2 products * 128 * 128) = 65536 beats: the longest tile a 16-bit beat register
# allows (65535) leaves the accumulator at 2,147,450,880 = 2^31 - 32,768.
EXTREME_BEATS = 65535


def _assert_report(rep, tiles, expect_scenarios):
    assert rep.tests_failed == 0, rep.log
    assert rep.tests == 3
    seen = {o["scenario"] for o in rep.outcomes}
    assert expect_scenarios <= seen, seen
    for o in rep.outcomes:
        assert o["row_order_ok"], o
        assert o["output_mismatches"] == 0, o
        assert o["rtl_cycles"] == o["model_cycles"], o
        if o["scenario"] in ("unstalled", "after_reset"):
            assert o["wall_cycles"] == o["model_cycles"], o
        else:
            assert o["wall_cycles"] >= o["model_cycles"], o
    assert rep.cycle_mismatches == 0
    assert rep.outputs_checked == sum(o["outputs_checked"] for o in rep.outcomes) > 0
    names = {o["name"] for o in rep.outcomes if o["scenario"] == "unstalled"}
    assert names == {t.name for t in tiles}


@pytest.mark.parametrize("key", list(CONFIGS))
def test_minilm_tiles_sparse(key, rtl_tiles):
    p, prune = CONFIGS[key]
    tiles = rtl_tiles["layer_tiles"](p, prune)
    tiles.append(rtl_tiles["ragged"](p, prune, k=382 if p.m == 4 else 378))
    unstalled_only = ()
    if key == "2:4":
        # dense mode on the same engine: real dense layers, M/N beats per window
        tiles += rtl_tiles["layer_tiles"](p, "dense", per_layer=1)
        tiles.append(rtl_tiles["ragged"](p, "dense", k=381))
        ext = rtl_tiles["extreme"](p, EXTREME_BEATS)
        assert abs(int(ext.expected.max())) > 0.99 * 2**31
        assert abs(int(ext.expected.min())) > 0.99 * 2**31
        tiles.append(ext)
        unstalled_only = (ext.name,)
    assert any(t.a_q.shape[1] % p.m for t in tiles)     # a K that is not a multiple of M
    rep = cosim.run_tiles(p, tiles, unstalled_only=unstalled_only, seed=7)
    _assert_report(rep, tiles, {"unstalled", "random_stalls", "after_reset"})
    if key == "2:4":
        assert any(t.dense for t in tiles)
