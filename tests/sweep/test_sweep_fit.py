"""fit: in a sweep spec (accel.sweep.fit): validation, infeasible designs stored with their
margin, never on a front, in a conclusion or a "best" line, refit on resume, FlightLLM.

The ceilings are constructed from what the resource model reports for the designs of the
test (between the two largest), so the tests hold whatever the model estimates today."""

from __future__ import annotations

import json
import re
import sqlite3

import numpy as np
import pandas as pd
import pytest

from accel import devices
from accel.arch.registry import get as machine
from accel.report.convergence import hypervolume_curve
from accel.sweep.fit import DEFAULT_CEILINGS, parse_fit, usage

SAT_SPEC = {
    "name": "sat-fit", "machine": "sat", "base": "sat-vcu1525", "workloads": ["minilm-l6"],
    "parameters": {"training": True, "pe_rows": [8, 16, 32], "pe_cols": [8],
                   "prune": ["bdwp:2:8"]},
    "objectives": {"cycles": "min", "hw_lut": "min"},
}


def _one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("fit", "needle"), [
    ({"device": "xc7z020"}, "unknown device 'xc7z020'; known: xcvu9p, xcu280, xcvh1582"),
    ({"max_utilisation": {"SLICES": 0.5}}, "unknown resource 'SLICES'"),
    ({"max_utilisation": {"LUT": 0}}, "fit.max_utilisation.LUT must be a fraction in (0, 1]"),
    ({"max_utilisation": {"DSP": 1.2}}, "fit.max_utilisation.DSP must be a fraction in (0, 1]"),
    ({"max_utilisation": {"LUT": "most"}}, "fit.max_utilisation.LUT must be a fraction"),
    ({"max_utilisation": {"LUT": float("nan")}}, "fit.max_utilisation.LUT must be a fraction"),
    ({"devise": "xcvu9p"}, "unknown key 'devise' in fit (did you mean 'device'?)"),
    ("xcvu9p", "fit must be a mapping"),
])
def test_bad_fit_exits_2_with_one_line(tmp_path, write_spec, cli, fit, needle):
    spec = write_spec({**SAT_SPEC, "fit": fit})
    rc, _out, err = cli("sweep", "run", spec, "--db", tmp_path / "s.sqlite", "--quiet")
    assert rc == 2 and needle in _one_error(err)
    assert not (tmp_path / "s.sqlite").exists()


def test_fit_needs_a_device_when_the_machine_names_none(tmp_path, write_spec, cli):
    from sweep_support import TOY_SPEC

    spec = write_spec({**TOY_SPEC, "fit": {}})
    rc, _out, err = cli("sweep", "run", spec, "--db", tmp_path / "s.sqlite", "--quiet")
    assert rc == 2 and "names no device; give fit.device" in _one_error(err)


def test_margin_never_reads_as_equal():
    from accel.sweep.fit import _margin

    assert _margin("LUT", 1.32, 0.8) == "LUT 132 % > 80 %"
    assert _margin("DSP", 0.9004, 0.9) == "DSP 90.04 % > 90.00 %"


def test_defaults_and_usage_sum_every_part():
    fit = parse_fit({"max_utilisation": {"bram": 0.5}}, {"device"}, "xcvu9p")
    assert fit.device is None and fit.ceilings == {**DEFAULT_CEILINGS, "BRAM36": 0.5}
    used = usage({"hw_lut": 10.0, "hw_chains_lut": 5.0, "hw_buffer_uram": 3.0, "hw_dsp48e2": 2.0,
                  "hw_register_bits": 99.0, "hw_fp16": 1.0, "cycles": 7.0, "hw_ff": float("nan")})
    assert used == {"LUT": 15.0, "URAM": 3.0, "DSP": 2.0}


def _sat_luts(rows: list[int]) -> list[float]:
    """hw_lut of the spec's designs, from the machine's own derived metrics."""
    m = machine("sat")
    out = []
    for r in rows:
        cfg = m.build_config("sat-vcu1525", {"pe_rows": r, "pe_cols": 8})
        metrics: dict = {}
        for fn in m.derived():
            metrics.update(fn(cfg, None, metrics))
        out.append(metrics["hw_lut"])
    return out


def _rows(db) -> pd.DataFrame:
    with sqlite3.connect(db) as conn:
        return pd.read_sql("SELECT pe_rows, feasible, fit_fail, fit_device, util_lut, hw_lut "
                           "FROM points ORDER BY pe_rows", conn)


def test_infeasible_design_is_stored_never_recommended_and_refit_on_resume(
        tmp_path, write_spec, cli):
    luts = _sat_luts([8, 16, 32])
    assert luts[0] < luts[1] < luts[2]          # the model grows with the array
    cap = devices.get("xcvu9p").resources["LUT"]
    ceiling = (luts[1] + luts[2]) / 2 / cap     # between the two largest: pe_rows=32 fails
    spec = write_spec({**SAT_SPEC, "fit": {"device": "xcvu9p",
                                           "max_utilisation": {"LUT": ceiling}}})
    db = tmp_path / "s.sqlite"
    rc, out, err = cli("sweep", "run", spec, "--db", db, "--quiet", "--workers", "1", "--json")
    assert rc == 0, err
    assert json.loads(out)["computed"] == 3
    rows = _rows(db)
    assert rows["feasible"].tolist() == [1.0, 1.0, 0.0]
    assert rows["fit_fail"].tolist()[:2] == ["", ""]
    fail = re.fullmatch(r"LUT ([0-9.]+) % > ([0-9.]+) %", rows["fit_fail"].iloc[2])
    assert fail, rows["fit_fail"].iloc[2]
    assert float(fail[1]) == pytest.approx(100 * luts[2] / cap, abs=0.5)
    assert float(fail[2]) == pytest.approx(100 * ceiling, abs=0.5)
    # util_* is stored rounded to 6 decimals (accel/sweep/fit.py)
    np.testing.assert_allclose(rows["util_lut"], rows["hw_lut"] / cap, rtol=0, atol=5e-7)
    assert set(rows["fit_device"]) == {"xcvu9p"}

    # the report: counted, drawn hollow, never on the front / best line / conclusions
    rep = tmp_path / "rep"
    rc, _out, err = cli("report", db, "--out", rep, "--json")
    assert rc == 0, err
    md = (rep / "summary.md").read_text()
    assert "**1 of 3 designs do not fit xcvu9p** (LUT over" in md
    recommending = [ln for ln in md.splitlines()
                    if ln.startswith(("- ", "| ")) and "do not fit" not in ln]
    assert recommending and not any("pe_rows=32" in ln or re.match(r"\| \d+ \| 32 \|", ln)
                                    for ln in recommending), md
    assert "pe_rows=16" in md                   # the fastest design that fits is named
    figs = json.loads((rep / "figures.json").read_text())
    pareto = figs["sat-fit-pareto"]["data"]
    assert len(pareto["infeasible"]) == 1 and len(pareto["all"]) == 2
    assert pareto["ceilings"] == {"hw_lut": pytest.approx(ceiling * cap)}   # the dashed line

    # resume with a looser ceiling: nothing recomputed, the stored rows follow the spec
    spec = write_spec({**SAT_SPEC, "fit": {"device": "xcvu9p", "max_utilisation": {"LUT": 1.0}}})
    rc, out, err = cli("sweep", "run", spec, "--db", db, "--quiet", "--json")
    assert rc == 0 and json.loads(out)["computed"] == 0, err
    assert _rows(db)["feasible"].tolist() == [1.0, 1.0, float(luts[2] <= cap)]


def test_convergence_counts_infeasible_evaluations_but_not_in_the_front():
    rows = pd.DataFrame({"point": [0, 1, 2], "status": ["ok", "ok", "ok"],
                         "metric.a": [3.0, 1.0, 2.0], "metric.b": [3.0, 1.0, 2.0],
                         "metric.feasible": [1.0, 0.0, 1.0]})
    x, hv = hypervolume_curve(rows, [("a", "min"), ("b", "min")])
    assert x.tolist() == [1.0, 3.0]                       # the infeasible row is evaluation 2
    # over the two feasible rows, normalised: (0, 0) and (1, 1); the best one alone
    assert hv[-1] == pytest.approx(1.1 * 1.1)


def test_flightllm_fit_checks_the_engine_and_says_what_it_cannot(tmp_path, write_spec, cli):
    spec = write_spec({
        "name": "fl-fit", "machine": "flightllm", "base": "u280", "workloads": ["llama2-7b"],
        "parameters": {"preset": ["u280", "vhk158"], "prefill": 128, "decode": 64,
                       "storage": False},
        "fit": {}, "objectives": {"decode_tokens_per_s": "max", "tokens_per_j": "max"}})
    db = tmp_path / "f.sqlite"
    rc, _out, err = cli("sweep", "run", spec, "--db", db, "--quiet", "--workers", "1")
    assert rc == 0, err
    with sqlite3.connect(db) as conn:
        got = {r[0]: r[1:] for r in conn.execute(
            "SELECT preset, fit_device, util_dsp, hw_chains_dsp48e2, fit_unchecked FROM points")}
    dev, util_dsp, dsps, unchecked = got["u280"]
    assert dev == "xcu280" and unchecked == ""
    assert util_dsp == pytest.approx(dsps / devices.get("xcu280").resources["DSP"], rel=1e-5)
    dev, util_dsp, _dsps, unchecked = got["vhk158"]
    assert dev == "xcvh1582" and util_dsp is None and "LUT" in unchecked and "DSP" in unchecked
    rep = tmp_path / "rep"
    assert cli("report", db, "--out", rep)[0] == 0
    text = (rep / "summary.md").read_text()
    assert "the catalogue has no count of" in text
    # the Pareto table marks each row: the VHK158 one unverified, the U280 one checked
    rows = {r.split("|")[2].strip(): r.split("|")[-2].strip()
            for r in text.splitlines() if re.match(r"\| \d+ \|", r)}
    assert rows == {"vhk158": "not checked", "u280": "fits"}


def test_front_table_marks_unchecked_rows_only_when_there_are_some():
    from accel.report.summary import front_table

    front = pd.DataFrame({"param.preset": ["a", "b"], "metric.cycles": [1.0, 2.0],
                          "metric.fit_unchecked": ["LUT, DSP", ""]})
    table = front_table(front, {0: 1, 1: 2}, ["preset"], ["metric.cycles"])
    assert table.splitlines()[0].rstrip().endswith("| fit |")
    assert [r.split("|")[-2].strip() for r in table.splitlines()[2:]] == ["not checked", "fits"]
    checked = front.assign(**{"metric.fit_unchecked": ["", ""]})
    assert "fit" not in front_table(checked, {0: 1, 1: 2}, ["preset"], ["metric.cycles"])


def test_pareto_front_api_never_returns_an_infeasible_row(tmp_path):
    from accel.sweep import pareto_front

    df = pd.DataFrame({"metric.cycles": [1.0, 2.0, 3.0], "metric.lut": [1.0, 2.0, 0.5],
                       "metric.feasible": [0.0, 1.0, 1.0]})
    front = pareto_front(df, [("metric.cycles", "min"), ("metric.lut", "min")])
    assert front.index.tolist() == [1, 2]      # row 0 dominates both but does not fit


def test_carry4_cells_count_as_half_a_carry8():
    """The resource models count Yosys's CARRY4 cells; the device holds CARRY8s (two
    CARRY4 each), so 100 CARRY4 use 50 of the device's CARRY8."""
    from accel.sweep.fit import usage

    assert usage({"hw_carry": 100.0, "hw_lut": 8.0}) == {"CARRY8": 50.0, "LUT": 8.0}
    assert usage({"hw_chains_carry": 10.0}) == {"CARRY8": 5.0}


def _hbm_spec(fit: bool) -> dict:
    """u280 (8 GiB HBM) at 8 and 3.5 bits: llama2-7b's 8-bit weights do not fit it."""
    return {"name": "fl-hbm", "machine": "flightllm", "base": "u280", "workloads": ["llama2-7b"],
            "parameters": {"weight_bits": [3.5, 8], "prefill": 16, "decode": 16, "storage": False},
            **({"fit": {}} if fit else {}),
            "objectives": {"decode_tokens_per_s": "max", "tokens_per_j": "max"}}


def _run_hbm(tmp_path, write_spec, cli, fit: bool) -> tuple[dict, object]:
    db = tmp_path / "h.sqlite"
    rc, out, err = cli("sweep", "run", write_spec(_hbm_spec(fit=fit)), "--db", db, "--json",
                       "--workers", "1")
    assert rc == 0, err
    return json.loads(out.splitlines()[-1]), db


def test_a_design_whose_weights_exceed_the_hbm_is_infeasible_not_failed(tmp_path, write_spec, cli):
    """The model cannot run it (DoesNotFit): under `fit:` it is stored as a design that does
    not fit, with the HBM's margin and no performance figures, never failed or recommended."""
    summary, db = _run_hbm(tmp_path, write_spec, cli, fit=True)
    assert summary["failed"] == 0 and summary["infeasible"] == 1
    with sqlite3.connect(db) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT p.weight_bits, r.status, p.feasible, p.fit_fail, p.util_hbm, "
            "p.decode_tokens_per_s FROM points p JOIN results r USING (key)")}
    status, feasible, fail, util, tps = rows[8.0]
    assert status == "ok" and feasible == 0 and tps is None
    # 9.25 GiB of weights and the embedding table against 8 GiB
    assert 1.0 < util < 1.5 and re.fullmatch(r"HBM 1\d\d % > 100 %", fail), fail
    assert rows[3.5][:2] == ("ok", 1.0) and rows[3.5][4] > 0
    rep = tmp_path / "rep"
    assert cli("report", db, "--out", rep)[0] == 0
    text = (rep / "summary.md").read_text()
    assert "**1 of 2 designs do not fit xcu280** (HBM over 100 %: 1); they are stored without " \
           "performance figures" in text
    assert "2 designs evaluated, none failed" in text


def test_without_fit_a_design_the_model_cannot_run_is_a_failed_point(tmp_path, write_spec, cli):
    summary, db = _run_hbm(tmp_path, write_spec, cli, fit=False)
    assert summary["failed"] == 1 and summary["infeasible"] == 0
    with sqlite3.connect(db) as conn:
        (status, error, metrics), = conn.execute(
            "SELECT status, error, metrics FROM results WHERE status != 'ok'")
    assert status == "failed" and json.loads(metrics) == {}
    assert error.startswith("DoesNotFit: llama2-7b weights (") and "do not fit u280's 8 GiB HBM" in error
