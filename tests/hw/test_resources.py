"""Resource model: fitted on the committed synthesis cache, checked leave-one-out."""

from __future__ import annotations

from accel.hw.blocks.pe_array import resources
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.blocks.pe_array.synth import CACHE, FP16_CACHE
from accel.hw.synth import classify, load_cache


def test_cache_has_reference_config():
    cache = load_cache(CACHE)
    assert ArrayParams(4, 4, 2, 4).config_hash() in cache
    assert len(cache) >= 6


def test_register_bits_match_synthesised_ffs():
    """FFs are structural: the exact register count of the RTL within 1 %."""
    for entry in load_cache(CACHE).values():
        p = ArrayParams(**entry["params"])
        ff = entry["resources"]["FF"]
        assert abs(resources.register_bits(p) - ff) <= 0.01 * ff, (p.name, ff)


def test_holdout_error_reported_and_bounded():
    h = resources.holdout_error()
    assert h["n_configs"] == len(load_cache(CACHE))
    s = h["summary"]
    assert set(s) == set(resources.RESOURCES)
    # bounds from the measured leave-one-out errors (LUT ~2 % mean), with margin
    assert s["LUT"]["mean_rel_error"] < 0.10
    assert s["FF"]["mean_rel_error"] < 0.02
    assert s["DSP48E2"]["max_rel_error"] < 1e-9


def test_estimate_monotone_and_dsp_per_multiplier():
    small = resources.estimate(4, 4, 2, 4)
    big = resources.estimate(8, 8, 2, 4)
    assert small["DSP48E2"] == 32 and big["DSP48E2"] == 128
    for r in ("LUT", "FF", "CARRY"):
        assert big[r] > small[r]


def test_classify_counts_primitives():
    c = classify({"LUT6": 3, "LUT2": 1, "FDRE": 5, "CARRY8": 2, "DSP48E2": 1, "RAMB36E2": 1})
    assert (c["LUT"], c["FF"], c["CARRY"], c["DSP48E2"], c["BRAM"]) == (4, 5, 2, 1, 1)


def test_pipelined_synthesis_pairs_and_structural_ffs():
    """Pipelined builds: FFs = the structural register count (shadow accumulators,
    last bits, run controller) within 1.5 %; extra FFs >= the R*C*acc_bits shadows."""
    pairs = resources._pipelined_pairs()
    assert len(pairs) >= 4
    for p, pipe, one in pairs:
        assert p.pipelined
        assert abs(resources.register_bits(p) - pipe["FF"]) <= 0.015 * pipe["FF"], p.name
        assert pipe["FF"] - one["FF"] >= p.rows * p.cols * p.acc_bits
        assert pipe["DSP48E2"] == one["DSP48E2"]        # no new multipliers
        assert pipe["LUT"] > one["LUT"]


def test_pipelined_estimate_cost_and_holdout():
    lut = resources.pipelined_lut_per_shadow_bit()
    assert lut["n_pairs"] >= 4 and lut["loo_mean_rel_error"] < 0.10
    one = resources.estimate(8, 8, 2, 8)
    pipe = resources.estimate(8, 8, 2, 8, pipelined=True)
    assert pipe["FF"] - one["FF"] >= 0.95 * 8 * 8 * 32
    assert pipe["LUT"] > one["LUT"] and pipe["DSP48E2"] == one["DSP48E2"]
    assert pipe["register_bits"] > one["register_bits"]
    # the one-tile model is fitted only on one-tile builds (unchanged by the pipelined cache)
    assert resources.fitted()["n_configs"] == len(load_cache(CACHE))


def test_sat_sweep_points_all_have_hw_metrics():
    """Every point workloads/sweeps/sat-minilm.yaml admits is inside the resource model's
    range (rows, cols <= MAX_DIM) and gets hw_* metrics, which the spec's fit constraint
    (the XCVU9P) checks; the FP16 model counts two DSP48E2 per multiplier (significand
    product, alignment)."""
    from pathlib import Path

    from accel.hw.blocks.pe_array.params import MAX_DIM
    from accel.sweep.points import design_points
    from accel.sweep.spec import load_spec

    path = Path(__file__).resolve().parents[2] / "workloads" / "sweeps" / "sat-minilm.yaml"
    spec = load_spec(path)
    assert "device: xcvu9p" in path.read_text()
    pts = design_points(spec)
    assert len(pts) > 0
    from types import SimpleNamespace

    from accel.hw.resource_metrics import pe_array_metrics

    for p in pts:
        assert max(p["pe_rows"], p["pe_cols"]) <= MAX_DIM
        cfg = SimpleNamespace(pe_rows=p["pe_rows"], pe_cols=p["pe_cols"],
                              mults_per_pe=p["mults_per_pe"], group_m=8,
                              pipelined_tiles=p["pipelined_tiles"])
        hw = pe_array_metrics(cfg, None, {})
        assert hw["hw_fp16"] == 1.0                      # SAT's FP16 datapath model
        assert hw["hw_lut"] > 0
        assert hw["hw_dsp48e2"] == 2 * p["pe_rows"] * p["pe_cols"] * p["mults_per_pe"]


def test_fp16_model_loo_and_sat_default_cost():
    """The FP16 resource model (exact-accumulation datapath): leave-one-out error over
    >= 6 FP16 syntheses <= 10 % on every resource, and the SAT preset's array (32x32,
    2 multipliers, M=8, pipelined) costs two DSP48E2 per multiplier, at most as many
    flip-flops as the RTL declares register bits, and fits an XCVU9P (<= 70 % of its 1,182,240
    LUTs, <= 90 % of its 6,840 DSP48E2; DS890 Table 8)."""
    h = resources.holdout_error("fp16")
    assert h["n_configs"] >= 6
    for r in ("LUT", "FF", "CARRY", "DSP48E2"):
        assert h["summary"][r]["max_rel_error"] <= 0.10, (r, h["summary"][r])
    est = resources.estimate(32, 32, 2, 8, pipelined=True, dtype="fp16")
    assert est["DSP48E2"] == 2 * 2048
    # Yosys keeps ~96 % of the declared register bits (it drops constant and duplicate
    # bits, e.g. the sign copies above the 37 significant bits of the aligned product)
    assert 0.9 < est["FF"] / est["register_bits"] <= 1.0
    assert est["LUT"] <= 0.70 * 1_182_240 and est["DSP48E2"] <= 0.90 * 6840


def test_fp16_builds_are_within_the_200mhz_depth_budget():
    """Every FP16 synthesis in the seeds carries its measured logic depth
    (``accel.hw.depth``), and it is within the stated 200 MHz UltraScale+ budget."""
    from accel.hw.depth import BUDGET_200MHZ

    data = [e for e in load_cache(FP16_CACHE, seeds_only=True).values()
            if e["params"].get("dtype") == "fp16"]
    assert len(data) >= 6
    for e in data:
        d = e["depth"]
        assert d["max_lut_levels"] <= BUDGET_200MHZ["max_lut_levels"], e["params"]
        assert d["max_carry_chain"] <= BUDGET_200MHZ["max_carry4"], e["params"]
        assert d["within_200mhz_budget"] and not d["unknown_cells"]
