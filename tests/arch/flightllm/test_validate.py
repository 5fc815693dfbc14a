"""vhk158-artifact against the authors' VHK158 profiler: the issue's tolerances, pinned.

Reference figures: accel/arch/flightllm/data/artifact_vhk158.json (source named inside:
the profiler CSVs of github.com/FlightLLM/flightllm_test_demo)."""

import json

import pytest

from accel.arch.flightllm.validate import (
    ACHIEVED_DECODE_TOL,
    ACHIEVED_DECODE_TOL_ON_CHIP,
    ACHIEVED_GROWTH_TOL,
    ACHIEVED_PREFILL_TOL,
    DECODE_TOL,
    FOUR_SLR_LABEL,
    GROWTH_TOL,
    ONE_SLR_TOL,
    PREFILL_TOL,
    load_reference,
    validate,
)
from accel.cli import main


@pytest.fixture(scope="module")
def res():
    return validate()


def test_reference_data_names_its_source():
    ref = load_reference()
    assert "flightllm_test_demo" in ref["source"] and "profiler_output" in ref["source"]
    assert sorted(map(int, ref["decode"])) == [144, 256, 512, 1024, 1536, 2048]
    assert sorted(map(int, ref["prefill"])) == [128, 512]
    cf = ref["correction_factor"]
    assert cf["value"] == 3.2 and "inst_profiler.py" in cf["source"]
    assert "A_BUFFER_HBM_CHANNEL_NUM" in ref["one_slr_hbm_channels"]["source"]


def test_one_slr_within_two_percent_and_counted(res):
    """The artifact's IR is one SLR's program; its profiler's undivided timing (printed
    figure x its correction_factor) against the preset on one SLR: every decode step,
    every prefill bucket and the growth within 2 %, the same bounding unit.  These are
    the checks that count (``all_ok``, the CLI's exit code)."""
    assert ONE_SLR_TOL == 0.02
    assert res["one_slr_ok"] and res["all_ok"], res["one_slr_checks"]
    assert all(c["counted"] for c in res["one_slr_checks"])
    for r in res["rows"]:
        assert abs(r["one_slr_error"]) <= ONE_SLR_TOL and r["one_slr_ok"], r
        # what model 0.6/0.7 reaches: decode +0.7..+0.8 %, prefill -0.8..-0.0 %
        assert abs(r["one_slr_error"]) < 0.01, r
    g = next(c for c in res["one_slr_checks"] if "growth" in c["check"])
    assert abs(g["error"]) < 0.01                  # +0.8 %: per-head softmax overlap


def test_one_slr_busy_per_unit_matches_the_profiler(res):
    """Per unit on one SLR: MV is the artifact's to 0.5 %, decode LD and MISC to 3 %, prefill
    LD (every weight tile re-streamed per 128-token group over one switch channel) and MM
    to 8 %.  Without the prefill reload the LD busy would be 14x short."""
    cf = load_reference()["correction_factor"]["value"]
    for r in res["rows"]:
        a, m = r["artifact_busy_ms"], r["accel_one_slr_busy_ms"]
        if r["phase"] == "decode":
            assert abs(m["MV"] / (a["MV"] * cf) - 1) < 0.005, r
            for u in ("LD", "MISC"):
                assert abs(m[u] / (a[u] * cf) - 1) < 0.03, (u, r)
        else:
            for u in ("LD", "MM"):
                assert abs(m[u] / (a[u] * cf) - 1) < 0.08, (u, r)


def test_four_slr_speedup_is_below_four_and_above_the_artifact_factor(res):
    """What the modelled SLR mechanisms give: less than a perfect 4x, more than the 3.2 the
    profiler asserts (the whole 4-SLR miss)."""
    for r in res["rows"]:
        assert 3.2 < r["accel_slr_speedup"] < 4.0, r
        if r["phase"] == "decode":
            assert r["accel_slr_speedup"] < 3.9, r    # whole-instruction/head imbalance, broadcast


def test_four_slr_rows_are_labelled_reported_and_not_counted(res):
    """Over 4 SLRs the printed figures are the one-SLR timing divided by the profiler's
    assumed 3.2: decode is -14..-15 % from them, prefill -20 %, growth -18 %, outside the
    issue-12 tolerances.  Those rows are reported and labelled as comparisons with an
    asserted constant; they do not make validate fail; the achieved bounds are pinned."""
    assert res["all_ok"] and not res["four_slr_vs_assumed_constant_ok"]
    for r in res["rows"]:
        tol = ACHIEVED_DECODE_TOL if r["phase"] == "decode" else ACHIEVED_PREFILL_TOL
        target = DECODE_TOL if r["phase"] == "decode" else PREFILL_TOL
        err = r["accel_ms"] / r["artifact_ms"] - 1
        assert -tol <= err < 0, r                  # fast, as without the artifact's 3.2
        assert r["ok"] == (abs(err) <= target) and r["counted"] is False
        assert "assumed correction_factor" in r["four_slr_reference"]
    assert all(c["check"].startswith(FOUR_SLR_LABEL) and c["counted"] is False
               for c in res["checks"])
    missed = {c["check"] for c in res["checks"] if not c["ok"]}
    assert missed == {f"{FOUR_SLR_LABEL}every decode step within {DECODE_TOL:.0%}",
                      f"{FOUR_SLR_LABEL}every prefill step within {PREFILL_TOL:.0%}",
                      f"{FOUR_SLR_LABEL}decode growth per token within {GROWTH_TOL:.0%}"}
    notes = " ".join(res["notes"])
    assert "correction_factor 3.2" in notes and "Not modelled" in notes
    assert "not counted" in notes and "SLR0" in notes


def test_growth_and_bounding_unit(res):
    g = next(c for c in res["checks"] if "growth" in c["check"])
    assert -ACHIEVED_GROWTH_TOL <= g["accel_us"] / g["artifact_us"] - 1 < -GROWTH_TOL
    assert 1.3 < g["artifact_us"] < 1.8            # ~1.55 us per token of context
    for r in res["rows"]:
        assert r["accel_bound"] == r["artifact_bound"]
        if r["phase"] == "decode":
            assert r["accel_bound"] == "MV"
            # MV time is the artifact's one-SLR MV time over 4 SLRs (x its whole-
            # instruction imbalance), against the artifact's / 3.2: about 4 / 3.2 short
            ratio = r["accel_busy_ms"]["MV"] / r["artifact_busy_ms"]["MV"]
            assert 0.8 < ratio < 0.87, r


def test_slr_mechanisms_cost_time_but_less_than_the_artifact_factor(res):
    """Whole-instruction/head split and input broadcast make every decode step slower
    than a perfectly even split, and by less than the artifact's 4 / 3.2."""
    for r in res["rows"]:
        cost = r["accel_ms"] / r["accel_ms_even_split"]
        if r["phase"] == "decode":
            assert 1.02 < cost < 1.1, r
        else:
            assert 1.0 <= cost < 1.01, r           # 16-column MM instructions split evenly
    assert res["slr_parallel_efficiency"] == 1.0


def test_no_preset_sets_the_slr_efficiency_knob():
    from accel.arch.flightllm.config import PRESETS
    assert all(c.slr_parallel_efficiency == 1.0 for c in PRESETS.values())


def test_on_chip_dataflow_is_not_the_artifacts():
    """``--on-chip`` is not the artifact's dataflow: on one SLR its steps are within 2 %
    (-1.3..-1.6 %) but its growth is not (-2.4 %), so validate fails (exit 1 in the CLI)."""
    r = validate(on_chip=True)
    for row in r["rows"]:
        tol = ACHIEVED_DECODE_TOL_ON_CHIP if row["phase"] == "decode" else ACHIEVED_PREFILL_TOL
        assert abs(row["error"]) <= tol, row
    assert all(c["ok"] for c in r["checks"] if "bound" in c["check"])
    g = next(c for c in r["checks"] if "growth" in c["check"])
    assert abs(g["error"]) <= 0.22                 # -21 %: the SLR scaling, as decode
    g1 = next(c for c in r["one_slr_checks"] if "growth" in c["check"])
    assert -0.03 < g1["error"] < -ONE_SLR_TOL and not g1["ok"]
    assert not r["all_ok"]


def test_cli_json_exit_codes_and_bad_set(capsys):
    assert main(["flightllm", "validate", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["preset"] == "vhk158-artifact" and len(d["rows"]) == 8 and d["all_ok"]
    # a counted check that fails: the artifact preset with the U280's FSB-mode weights
    assert main(["flightllm", "validate", "--json", "--set", "fsb_all_linears=true"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert not d["all_ok"]
    assert main(["flightllm", "validate", "--set", "no_such_field=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
