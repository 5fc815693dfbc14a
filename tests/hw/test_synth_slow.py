"""Yosys synth_xilinx for real (marker slow: tens of seconds; excluded by default)."""

from __future__ import annotations

import pytest

from accel.hw.params import ArrayParams
from accel.hw.synth import load_cache, synth

pytestmark = pytest.mark.slow


def test_synth_4x4_2to4_matches_cache(tmp_path):
    p = ArrayParams(4, 4, 2, 4)
    fresh = synth(p, force=True, cache_path=tmp_path / "cache.json")
    assert not fresh["cached"]
    r = fresh["resources"]
    assert r["LUT"] > 0 and r["FF"] > 0 and r["DSP48E2"] == 32
    committed = load_cache()[p.config_hash()]["resources"]
    assert r == committed
