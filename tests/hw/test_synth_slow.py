"""Yosys synth_xilinx for real (marker slow: tens of seconds; excluded by default)."""

from __future__ import annotations

import pytest

from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.blocks.pe_array.synth import CACHE, FP16_CACHE, synth
from accel.hw.synth import load_cache, user_path

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _user_cache(tmp_path, monkeypatch):
    """Fresh results go to a temporary user cache, never to the committed seeds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_synth_4x4_2to4_matches_cache(tmp_path):
    p = ArrayParams(4, 4, 2, 4)
    fresh = synth(p, force=True)
    assert not fresh["cached"]
    r = fresh["resources"]
    assert r["LUT"] > 0 and r["FF"] > 0 and r["DSP48E2"] == 32
    committed = load_cache(CACHE, seeds_only=True)[p.config_hash()]["resources"]
    assert r == committed
    # the new result went to the user cache (under XDG_CACHE_HOME), and is read back
    assert user_path(CACHE).is_relative_to(tmp_path / "xdg")
    assert synth(p)["cached"] is True


def test_synth_fp16_4x2_1to4_matches_cache(tmp_path):
    """A small FP16 build (Yosys ~30 s): two DSP48E2 per multiplier (significand
    product, alignment), the adds in fabric carry chains; the committed FP16 cache entry
    (resources and measured logic depth) is what Yosys really reports."""
    p = ArrayParams.fp16(4, 2, 1, 4)
    fresh = synth(p, force=True)
    r = fresh["resources"]
    assert r["DSP48E2"] == 16 and r["LUT"] > 8 * 300 and r["CARRY"] > 0
    seed = load_cache(FP16_CACHE, seeds_only=True)[p.config_hash()]
    assert r == seed["resources"] and fresh["depth"] == seed["depth"]


def test_synth_weight_gen_2to4_matches_cache(tmp_path):
    """The sparse weight generator synthesises (Yosys ~20 s at 2:4, 4 lanes): comparators and
    muxes in fabric, no DSP; the committed entry is what Yosys really reports."""
    from accel.hw.blocks.weight_gen.cosim import synth as synth_weight_gen
    from accel.hw.blocks.weight_gen.gen import GenParams

    g = GenParams(2, 4, 4)
    fresh = synth_weight_gen(g, force=True)
    assert not fresh["cached"]
    r = fresh["resources"]
    assert r["LUT"] > 0 and r["FF"] > 0 and r["DSP48E2"] == 0
    assert r == load_cache(FP16_CACHE, seeds_only=True)["wgen-" + g.config_hash()]["resources"]
