"""`accel design build`: which design (the report's own numbering), the design's own tiles
as SAT's schedule feeds them, bad input (exit 2, one line, nothing written), and (marker
rtl) a small design built end to end: Verilator bit- and cycle-exact, the sheet written,
design.yaml rebuilding it, a model/RTL disagreement exiting 1 naming the tile."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from accel.arch.sat.config import SatConfig
from accel.arch.sat.schedule import engine_op
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.designs import sat
from accel.workloads.formats import nm_compress

# a small SAT sweep: two Pareto designs at most, a BDWP generator of 8 lanes (quick to build)
TINY = {"name": "sat-tiny", "machine": "sat", "base": "sat-vcu1525", "workloads": ["minilm-l6"],
        "parameters": {"training": True, "pe_rows": [2, 4], "pe_cols": [4],
                       "prune": ["bdwp:2:8", "bdwp:2:4"], "pipelined_tiles": [True],
                       "sorter_lanes": [8]},
        "objectives": {"cycles": "min", "hw_lut": "min"}}


@pytest.fixture
def cli(capsys):
    from accel.cli import main

    def _run(*argv):
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err
    return _run


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny sweep's store and its report (run once per module)."""
    from accel.cli import main

    d = tmp_path_factory.mktemp("tiny")
    spec = d / "spec.yaml"
    spec.write_text(yaml.safe_dump(TINY, sort_keys=False))
    assert main(["sweep", "run", str(spec), "--out", str(d), "--workers", "1", "--quiet"]) == 0
    assert main(["report", str(d / "results.sqlite"), "--out", str(d)]) == 0
    return d


def _pareto_rows(summary: str) -> list[dict]:
    """The report's Pareto table, as the reader sees it."""
    lines = summary[summary.index("Pareto-optimal designs"):].splitlines()
    table = [ln for ln in lines[2:] if ln.startswith("|")]
    head = [c.strip() for c in table[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in ln.strip("|").split("|")), strict=True))
            for ln in table[2:]]


def test_design_n_is_row_n_of_the_reports_pareto_table(tiny):
    from accel.report.design.select import choose

    rows = _pareto_rows((tiny / "summary.md").read_text())
    assert rows
    for row in rows:
        c = choose(tiny, row["#"])
        assert c.source["design"] == int(row["#"]) and c.front["rank"] == 1
        for p in ("pe_rows", "pe_cols"):
            if p in row:
                assert str(c.config[p]) == row[p]
        if "prune" in row:
            assert c.knobs["prune"] == row["prune"]
        by_key = choose(tiny, c.source["point_key"][:10])
        assert by_key.config == c.config and by_key.source["design"] == int(row["#"])



def test_a_point_key_of_decimal_digits_names_the_key(tiny, tmp_path):
    """A point key is hex, so ~1 % of them start with ten decimal digits (this test's store
    once had 9810993216...): such a prefix names its point, not design 9,810,993,216, while
    short numbers still name the report's rows."""
    import shutil
    import sqlite3

    from accel.errors import AccelError
    from accel.report.design.select import choose

    db = tmp_path / "results.sqlite"
    shutil.copy(tiny / "results.sqlite", db)
    first = choose(db, "1")
    key = first.source["point_key"]
    digits = "9810993216" + key[10:]
    with sqlite3.connect(db) as con:
        con.execute("UPDATE results SET key = ? WHERE key = ?", (digits, key))
    for prefix in (digits[:10], digits[:6], digits):
        got = choose(db, prefix)
        assert got.source["point_key"] == digits and got.config == first.config
    assert choose(db, "1").source["design"] == 1
    with pytest.raises(AccelError, match="numbers designs 1.."):
        choose(db, "98109")   # five digits: below a key prefix, so a (too large) number

def _fed_dense(fed, p) -> np.ndarray:
    """Dense K' x N weight of a re-cut operand (windows of p.m, p.n weights per beat)."""
    b = fed.b
    w = np.zeros((fed.K, b.values.shape[1]))
    beat = np.repeat(np.arange(b.values.shape[0] // p.n), p.n)
    for r in range(b.values.shape[0]):
        w[beat[r] * p.m + b.indices[r], np.arange(w.shape[1])] += b.values[r]
    return w


@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (1, 8), (4, 8)])
def test_regrouped_operand_is_the_same_gemm_in_the_models_beats(n, m):
    """An n:m operand on the 2:8 array: the product is unchanged, the beats per tile are
    those SAT's schedule counts, and no beat names one activation twice."""
    rng = np.random.default_rng(n * 10 + m)
    M, K, N = 5, 40, 7
    a = rng.standard_normal((M, K))
    b = nm_compress(rng.standard_normal((K, N)), n, m, axis=0)
    op = SimpleNamespace(name="op", a=a, b=b, M=M, K=K, N=N)
    p = ArrayParams.fp16(4, 4, 2, 8)
    eng = engine_op(M, K, N, (n, m), SatConfig())
    fed = sat._regrouped(op, p, eng)
    assert fed.K == -(-K // eng.m_w) * eng.bpg * p.m
    assert fed.b.values.shape[0] == fed.K // p.m * p.n
    np.testing.assert_allclose(fed.a @ _fed_dense(fed, p), a @ b.to_dense(), rtol=1e-12,
                               atol=1e-12)
    per_beat = fed.b.indices.reshape(-1, p.n, N)
    assert all(len(set(per_beat[i, :, c])) == p.n for i in range(per_beat.shape[0])
               for c in range(N))


def test_phase_tiles_beats_match_the_schedule():
    """The sampled tiles of a BDWP 2:4 training workload on a 4x4 2:8 array: every phase,
    beats fed = beats SAT's schedule times."""
    from accel.sweep import routing

    m = routing.machine("sat")
    cfg = m.build_config("sat-vcu1525", {"pe_rows": 4, "pe_cols": 4})
    sb = sat.blocks(cfg, {"prune": "bdwp:2:4", "training": True})
    wl = routing.resolve_workload(m, "minilm-l6", {"prune": "bdwp:2:4", "training": True})
    sample = sat.phase_tiles(wl, sb, 2)
    assert [s.phase for s in sample] == list(sat.PHASES)
    for s in sample:
        assert len(s.tiles) == 2 and s.model_beats == s.rtl_beats


@pytest.mark.parametrize("argv,needle", [
    (["{bad}", "--design", "1"], "not a sweep store"),
    (["{tiny}", "--design", "0"], "numbers designs 1.."),
    (["{tiny}", "--design", "99"], "numbers designs 1.."),
    (["{tiny}", "--design", "abcdef123456"], "no point key"),
    (["{tiny}", "--design", "x1"], "must be a number"),
    (["{missing}", "--design", "1"], "store not found"),
    (["{big}"], "design not buildable: PE array"),
    (["--preset", "u280"], "no buildable RTL datapath"),
    (["{tiny}", "--design", "1", "--tiles", "0"], "--tiles"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, tiny, tmp_path, argv, needle):
    from accel.report.design.select import choose

    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite")
    c = choose(tiny, "1")
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump({"kind": "accel-design", "version": 1, "machine": "sat",
                                   "base": "sat-vcu1525", "config": {**c.config, "pe_rows": 128},
                                   "workload": "minilm-l6", "knobs": c.knobs}))
    names = {"bad": bad, "tiny": tiny, "missing": tmp_path / "none.sqlite", "big": big}
    out = tmp_path / "out"
    rc, stdout, err = cli("design", "build", *[a.format(**names) for a in argv], "--out", out)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


@pytest.mark.rtl
def test_small_design_builds_exact_and_rebuilds_from_its_yaml(cli, tiny, tmp_path):
    out = tmp_path / "d1"
    rc, stdout, err = cli("design", "build", tiny, "--design", "1", "--out", out, "--tiles", "1",
                          "--no-synth", "--json")
    assert rc == 0, err
    import json

    res = json.loads(stdout)
    c = res["cosim"]
    assert c["ok"] and c["output_mismatches"] == 0 and c["cycle_mismatches"] == 0
    assert c["tiles"] == 3 and c["outputs_checked"] > 0
    assert all(r["model_cycles"] == r["rtl_cycles"] for r in c["per_tile"])
    assert c["weight_gen"]["ok"]
    md = (out / "design.md").read_text()
    assert re.match(r"\*\*Fits\*\* xcvu9p", md.splitlines()[0])
    page = (out / "design.html").read_text()
    assert "<html" in page.lower() and not re.search(r"(src|href)=\"https?:", page)
    for f in res["files"].values():
        assert (out / f["verilog"]).stat().st_size > 0
    # the design file rebuilds the same design (the same Verilog)
    again = tmp_path / "d2"
    rc, _, err = cli("design", "build", out / "design.yaml", "--out", again, "--tiles", "1",
                     "--no-synth", "--no-stalls")
    assert rc == 0, err
    v = res["files"]["pe-array"]["verilog"]
    assert (again / v).read_text() == (out / v).read_text()


@pytest.mark.rtl
def test_model_rtl_disagreement_exits_1_naming_the_tile(cli, tiny, tmp_path, monkeypatch):
    real = sat.phase_tiles

    def off_by_one(*args, **kwargs):
        sample = real(*args, **kwargs)
        sample[0].model_beats[0] += 1
        return sample

    monkeypatch.setattr(sat, "phase_tiles", off_by_one)
    out = tmp_path / "bad"
    rc, _, err = cli("design", "build", tiny, "--design", "1", "--out", out, "--tiles", "1",
                     "--no-synth", "--no-stalls")
    assert rc == 1
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert re.match(r"error: co-simulation mismatch: tile \S+:fwd\[0:4,0:4\] \(fwd\): the model "
                    r"schedules 49 beats, the RTL was fed 48$", errors[0]), err
    assert (out / "design.md").is_file()


def test_sheet_first_line_names_the_failing_resource_and_margin():
    from accel.report.design import fit
    from accel.report.design.sheet import verdict

    dev = fit.device_capacity("xcvu9p")
    parts = {"total": {"LUT": 1_200_000.0, "DSP": 4096.0, "URAM": 10.0}, "metrics": {}}
    util = fit.utilisation(parts, dev, fit.ceilings({"fit": {"max_utilisation": {"DSP": 0.5}}}))
    line = verdict({"device": dev, "utilisation": util})
    assert line.startswith("**Does not fit** xcvu9p")
    assert "LUT 101.5 % of 1,182,240 (ceiling 80.0 %, margin -21.5 points)" in line
    assert "DSP 59.9 % of 6,840 (ceiling 50.0 %, margin -9.9 points)" in line
    assert "URAM" not in line
    ok = fit.utilisation({"total": {"LUT": 591_120.0}, "metrics": {}}, dev, fit.ceilings())
    assert verdict({"device": dev, "utilisation": ok}).startswith(
        "**Fits** xcvu9p-fsgd2104-2L-e (VCU1525): tightest LUT at 50.0 %")
