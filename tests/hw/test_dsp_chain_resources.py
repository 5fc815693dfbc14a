"""Resources of the sparse DSP chain: the committed Yosys cache, the fitted model and
the U280 totals it implies (fast: reads rtl/synth_cache_dsp_chain.json only), and one
real Yosys run pinning the cache (marker slow): its result goes to the user cache."""

from __future__ import annotations

import pytest

from accel.hw.blocks.dsp_chain import resources
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.hw.blocks.dsp_chain.synth import CACHE_NAME, SWEEP, entries, synth
from accel.hw.synth import load_cache


def test_cache_holds_the_sweep_with_one_dsp_per_multiplier():
    cache = load_cache(CACHE_NAME, seeds_only=True)
    for d, g in SWEEP:
        e = cache[ChainParams(d, g).config_hash()]
        assert e["params"] == ChainParams(d, g).to_dict()
        assert e["resources"]["DSP48E2"] == d == e["dsp_inference"]["dsp48e2"]
        assert e["resources"]["LUT"] > 0 and e["resources"]["FF"] > 0


def test_fitted_model_and_u280_totals():
    model = resources.fit(entries())
    assert model["DSP48E2"]["loo_max_rel_err"] < 1e-6          # exactly one per DSP slot
    for r in ("LUT", "FF"):
        assert model[r]["loo_mean_rel_err"] < 0.10, (r, model[r])
    u = resources.u280_totals(resources.predict(model, 16, 2))
    assert (u["mm_chains"], u["mv_chains"], u["chains"], u["total_chains"]) == (128, 64, 128, 384)
    assert u["totals"]["DSP48E2"] == 3 * 128 * 16 < resources.PAPER_U280["DSP48E2"]


def test_synth_cli_reads_the_cache():
    from accel.hw.blocks.dsp_chain.cli import synth as cli_synth

    out = cli_synth(False, chain_dsps=16, dsp_group=2, acc_bits=32).json
    assert out["cached"] and out["u280"]["totals"]["DSP48E2"] == 6144
    assert out["dsp_inference"]["dsp48e2"] == 16


@pytest.mark.slow
def test_synth_smallest_point_matches_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    p = ChainParams(4, 2)
    seed = load_cache(CACHE_NAME, seeds_only=True)[p.config_hash()]
    fresh = synth(p, force=True)
    assert not fresh["cached"]
    assert fresh["resources"] == seed["resources"]
    assert fresh["dsp_inference"] == seed["dsp_inference"]
    again = synth(p)              # answered from the user cache, where the run went
    assert again["cached"] and again["dsp_inference"] == seed["dsp_inference"]
    assert (tmp_path / "xdg" / "accel" / "synth" / CACHE_NAME).is_file()
