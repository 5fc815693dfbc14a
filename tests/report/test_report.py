"""The report a colleague reads: each defect of issue 14 has a check here.

Figures are checked through their matplotlib artists (text extents, scales, line
styles), the Pareto set through the plotted data and the summary table, the HTML with
html5lib in strict mode."""

from __future__ import annotations

import json
import re

import html5lib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from synth_store import KEEP, make_store

from accel.report import figures as F
from accel.report import sensitivity as S
from accel.report.units import fmt_num, fmt_with_unit, metric_label, metric_unit, plural
from accel.sweep.pareto import pareto_mask
from accel.sweep.store import Store, load_frame

# --- units and numbers -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "unit"), [
    ("tokens_per_j", "tokens/J"),          # was "J": a regex read `_j` as joules
    ("decode_tokens_per_s", "tokens/s"), ("energy_j", "J"), ("cycles", "cycles"),
    ("dram_bytes", "bytes"), ("hw_lut", "LUTs"), ("hw_ff", "flip-flops"), ("prefill_ms", "ms"),
    ("speedup_vs_dense", "×"), ("hbm_utilization", "fraction"), ("peak_hbm_gbps", "GB/s"),
    ("decode_intensity", "ops/byte"),
])
def test_metric_units_read_whole_words(name, unit):
    assert metric_unit(name) == unit
    assert metric_label(name) == f"{name} [{unit}]"


def test_numbers_have_thousands_separators_and_no_scientific_notation():
    assert fmt_num(1165210.0) == "1,165,210"
    assert fmt_num(371_700_000.0) == "371,700,000"
    assert fmt_num(7.8456) == "7.846"
    assert fmt_num(0.000123) == "0.000123"
    for v in np.geomspace(1e-4, 1e12, 60):
        assert "e" not in fmt_num(v).lower(), v
    assert fmt_with_unit("dram_bytes", 3.717e8) == "371.7 MB"
    assert fmt_with_unit("speedup_vs_dense", 1.914) == "1.914×"
    assert plural(1, "design") == "1 design" and plural(2208, "design") == "2,208 designs"


# --- figures: text that overlaps ---------------------------------------------------------


GAP_PX = 12  # labels closer than this (1/8 in at 100 dpi) read as one ("...=38.4dram_gbps...")


def _overlapping_ticks(fig) -> list[tuple[str, str]]:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            boxes = [(t.get_text(), t.get_window_extent(r)) for t in labels
                     if t.get_visible() and t.get_text()]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    if boxes[i][1].padded(GAP_PX / 2).overlaps(boxes[j][1].padded(GAP_PX / 2)):
                        bad.append((boxes[i][0], boxes[j][0]))
    return bad


def _annotations(fig):
    return [c for ax in fig.axes for c in ax.texts if isinstance(c, plt.Annotation)]


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    from accel.report.summary import design_frame

    db = tmp_path_factory.mktemp("d") / "s.sqlite"
    make_store(db)
    with Store(db, create=False) as st:
        return design_frame(load_frame(st))


PARAMS = ["pe_rows", "prune", "dram_gbps_per_channel", "pipelined_tiles", "preset"]


def test_pareto_2d_front_is_the_non_dominated_set_labels_do_not_overlap(designs):
    objs = [("cycles", "min"), ("dram_bytes", "min")]
    fig, data = F.pareto_figure(designs, objs, PARAMS, "t")
    allxy, front = np.array(data["all"]), np.array(data["front"])
    assert {tuple(r) for r in front} == {tuple(r) for r in allxy[pareto_mask(allxy, ["min", "min"])]}
    anns = _annotations(fig)
    assert len(anns) == len(front) and [a.get_text() for a in anns] == [str(n) for n in data["front_numbers"]]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in anns]
    axbox = fig.axes[0].get_window_extent(r)
    for i, b in enumerate(boxes):
        assert axbox.x0 <= b.x0 and b.x1 <= axbox.x1 and axbox.y0 <= b.y0 and b.y1 <= axbox.y1
        assert not any(b.overlaps(o) for o in boxes[i + 1:]), "two Pareto labels overlap"
    assert not _overlapping_ticks(fig)
    # units on both axes, and a 40x outlier puts cycles on a log axis
    assert fig.axes[0].get_xlabel().startswith("cycles [cycles]")
    assert fig.axes[0].get_ylabel().startswith("dram_bytes [MB]")
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)


def test_pareto_tells_categories_apart(designs):
    fig, _ = F.pareto_figure(designs, [("cycles", "min"), ("dram_bytes", "min")], PARAMS, "t")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("preset=u280") for t in legend) and any(t.startswith("preset=vhk158") for t in legend)
    plt.close(fig)


def test_pareto_3_objectives_projection_and_parallel_coordinates_show_the_same_set(designs):
    objs = [("cycles", "min"), ("hw_lut", "min"), ("dram_bytes", "min")]
    d = designs.dropna(subset=[f"metric.{m}" for m, _ in objs])
    fig, data = F.pareto_figure(d, objs, PARAMS, "t")
    everything = np.array(data["all_objectives"])
    true_front = {tuple(r) for r in everything[pareto_mask(everything, ["min"] * 3)]}
    assert {tuple(r) for r in data["front_all_objectives"]} == true_front
    assert len(fig.axes) == 2  # projection + parallel coordinates, no 2-D staircase
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("Pareto front")]
    assert len([ln for ln in fig.axes[1].get_lines() if ln.get_marker() == "o"]) == len(true_front)
    assert not _overlapping_ticks(fig)
    plt.close(fig)


def test_a_front_of_many_designs_keeps_its_parallel_labels_short_apart_and_inside():
    """77 front designs, 70 of them ending at one point of the last axis and one per
    height on the first (as a search's front does): each end label is short (runs of
    numbers, then a count), no two overlap, and all sit inside the figure; the figure
    keeps its normal width (the full list once ran 1,200 px past it)."""
    n = 77
    rng = np.random.default_rng(0)
    cycles = np.arange(1, n + 1) * 1e6                       # one height per design
    lut = 1e6 / np.arange(1, n + 1)                          # the trade-off: all on the front
    at_best = np.arange(n) % 11 != 5                         # 70, in broken runs
    dram = np.where(at_best, 0.3e9, 0.3e9 + rng.uniform(0.01, 0.4, n) * 1e9)
    d = pd.DataFrame({"metric.cycles": cycles, "metric.hw_lut": lut, "metric.dram_bytes": dram,
                      "param.pe_rows": 16, "point": np.arange(n)})
    objs = [("cycles", "min"), ("hw_lut", "min"), ("dram_bytes", "min")]
    fig, data = F.pareto_figure(d, objs, ["pe_rows"], "t")
    assert len(data["front_all_objectives"]) == n
    par = fig.axes[1]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    figbox = fig.bbox
    labels = [t for t in par.texts if t.get_fontweight() == "bold"]
    boxes = [t.get_window_extent(r) for t in labels]
    assert max(len(t.get_text()) for t in labels) <= 40, [t.get_text() for t in labels]
    assert any("designs)" in t.get_text() for t in labels)   # the 70 at one point: a count
    for i, b in enumerate(boxes):
        assert figbox.x0 <= b.x0 and b.x1 <= figbox.x1 and figbox.y0 <= b.y0 and b.y1 <= figbox.y1
        assert not any(b.overlaps(o) for o in boxes[i + 1:]), (labels[i].get_text(), "overlaps")
    assert not _overlapping_ticks(fig)
    plt.close(fig)


def test_number_lists_write_runs_then_a_count():
    assert F.number_list(["3", "7"]) == "3, 7"
    assert F.number_list(["5", "1", "2", "3"]) == "1\u20133, 5"
    assert F.number_list([str(i) for i in (2, 3, 4, 8, 9, 10, 15, 17, 18, 30)]) == \
        "2\u20134, 8\u201310, 15 \u2026 (10 designs)"


def test_booleans_and_patterns_are_categories_numbers_are_lines(designs):
    fig, data = S.sensitivity_figure(designs, "cycles", "min", PARAMS, "t")
    assert data["pipelined_tiles"]["kind"] == "category" and data["pipelined_tiles"]["values"] == ["no", "yes"]
    assert data["prune"]["kind"] == "category" and data["pe_rows"]["kind"] == "number"
    ax = next(a for a in fig.axes if a.get_xlabel() == "pipelined_tiles")
    assert all(ln.get_linestyle() == "None" for ln in ax.get_lines() if len(ln.get_xdata()) == 2
               and ln.get_marker() == "o")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no", "yes"]
    assert not _overlapping_ticks(fig)
    plt.close(fig)


def test_speedup_box_plot_draws_outliers_and_best_and_keeps_a_short_y_label(designs):
    fig, data = F.speedup_nm_figure(designs, "prune", "cycles", PARAMS, "t")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "speedup over dense [×]"
    fliers = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
    assert fliers, "outliers must be drawn"
    # the best speedup is plotted, not only whiskers
    d, _ = F.speedup_frame(designs, "prune", "cycles", PARAMS)
    best = d[d["param.prune"] == "bdwp:2:8"]["speedup"].max()
    assert data["best_speedup"][data["patterns"].index("bdwp:2:8")] == pytest.approx(best)
    assert "outliers" in ax.get_title()
    # the y label fits beside the axes (it used to squash them)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    assert ax.yaxis.label.get_window_extent(r).height <= ax.get_window_extent(r).height
    assert not _overlapping_ticks(fig)
    plt.close(fig)


def test_machine_views_have_no_overlapping_tick_labels(designs):
    from accel.arch.sat.view import SAT_PHASES, sat_phases

    df = designs.copy()
    for ph in SAT_PHASES:
        df[f"metric.{ph}_cycles"] = df["metric.cycles"] / 4
        df[f"metric.{ph}_dense_cycles"] = df["metric.dense_cycles"] / 4
    fig, _ = sat_phases(df, ["pe_rows", "prune", "dram_gbps_per_channel", "pipelined_tiles"], "t",
                        F.short_label)
    assert not _overlapping_ticks(fig)
    plt.close(fig)


# --- the whole report --------------------------------------------------------------------


def _front_table(summary: str) -> pd.DataFrame:
    block = summary.split("numbered as in the figure):", 1)[1].strip().split("\n\n", 1)[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    return pd.DataFrame(rows, columns=head)


def test_summary_opens_with_conclusions(synth_report):
    md = (synth_report["out"] / "summary.md").read_text()
    lines = [ln for ln in md.splitlines() if ln.strip()]
    assert lines[0].startswith("# ") and lines[1] == "## Conclusions"
    section = md.split("## synth (sat)", 1)[1]
    assert section.lstrip().startswith("### Conclusions")
    concl = section.split("### Sweep", 1)[0]
    assert "Best cycles (lowest): **48,125 cycles**" in concl   # 1e7*0.55/64*0.8*0.7 by hand
    assert re.search(r"prune=bdwp:2:8 over the same design dense: median \*\*[\d.]+×\*\*, best \*\*[\d.]+×\*\*", concl)
    assert re.search(r"trades cycles against hw_lut: design #1 is best on cycles \(96,250 cycles, [\d.]+× lower than #\d+\)", concl)
    assert "2 points: `AccelError: weights (9.25 GiB) do not fit u280's 8 GiB HBM`" in concl
    assert "22 designs of 70 have no hw_lut (exactly the designs with pe_rows in {64}" in concl
    assert "Best cycles per preset: **vhk158" in concl


def test_summary_numbers_have_units_and_separators(synth_report):
    md = (synth_report["out"] / "summary.md").read_text()
    assert not re.search(r"\d\.\d+e[+-]\d", md), "scientific notation"
    assert not re.search(r"\b1 designs\b|\b1 points\b|\b1 values\b", md)
    table = _front_table(md)
    assert {"cycles [cycles]", "hw_lut [LUTs]", "dram_bytes [MB]"} <= set(table.columns)
    assert all(re.fullmatch(r"[\d,]+", v) for v in table["cycles [cycles]"])


def test_front_in_table_equals_front_in_figure_equals_non_dominated_set(synth_report):
    out = synth_report["out"]
    md = (out / "summary.md").read_text()
    table = _front_table(md)
    fig = json.loads((out / "figures.json").read_text())["synth-pareto"]["data"]
    ok = [r for r in synth_report["rows"] if r["status"] == "ok" and "hw_lut" in r["metrics"]]
    vals = np.array([[r["metrics"][m] for m in ("cycles", "hw_lut", "dram_bytes")] for r in ok])
    truth = sorted(r["point"] for r, on in zip(ok, pareto_mask(vals, ["min"] * 3), strict=True) if on)
    assert sorted(fig["front_points"]) == truth
    assert [int(n) for n in table["#"]] == sorted(fig["front_numbers"]) == list(range(1, len(truth) + 1))
    # the table's rows are those designs (checked through a parameter column)
    by_point = {r["point"]: r["params"] for r in ok}
    want = sorted((str(by_point[p]["pe_rows"]), by_point[p]["prune"]) for p in truth)
    assert sorted(zip(table["pe_rows"], table["prune"], strict=True)) == want


def test_index_html_is_valid_html5_with_lists_tables_and_code(synth_report):
    text = (synth_report["out"] / "index.html").read_text()
    html5lib.HTMLParser(strict=True).parse(text)  # raises on any parse error
    assert "`" not in re.sub(r"data:image[^\"]+", "", text), "literal backticks"
    assert "<ul>" in text and "<code>" in text and "<thead>" in text
    assert text.count("<li>") > 0 and text.count("<ul>") == text.count("</ul>")
    assert text.count("data:image/png;base64,") == len([p for p in synth_report["res"]["figures"]
                                                       if p.endswith(".png")])


def test_report_files_are_shareable(synth_report):
    for p in synth_report["out"].iterdir():
        assert p.stat().st_mode & 0o777 == 0o644, p


def test_a_single_design_front_is_explained(tmp_path):
    from accel.report import write_report

    db = tmp_path / "one.sqlite"
    make_store(db, objectives=[{"metric": "cycles", "goal": "min"},
                               {"metric": "tokens_per_j", "goal": "max"}])
    write_report([db], tmp_path / "o")
    md = (tmp_path / "o" / "summary.md").read_text()
    assert "single design" in md and "tokens_per_j [tokens/J]" in md
    assert KEEP  # the conftest's arithmetic is what the numbers above come from


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_exports_are_mode_0644(synth_report, tmp_path, fmt):
    from accel.sweep.store import export

    out = tmp_path / f"x.{fmt}"
    assert export(synth_report["db"], out, fmt) == len(synth_report["rows"])
    assert out.stat().st_mode & 0o777 == 0o644


def test_log_axis_when_a_few_outliers_squash_the_rest():
    squashed = [0.52, 0.55, 0.56, 0.6, 0.64, 0.64, 0.65, 0.66, 0.7, 0.76, 0.6, 0.62, 2.7, 2.72, 3.7, 3.8]
    assert F.wants_log(squashed)
    assert not F.wants_log(np.linspace(1, 2.5, 16))       # spread evenly: linear
    assert F.wants_log([1, 10, 100, 1000])                 # decades: log


def test_long_category_names_do_not_collide():
    algos = ["smash-v1", "smash-v2", "smash-v3", "gustavson-dense", "inner", "outer"]
    df = pd.DataFrame({"param.algorithm": algos * 2, "param.threads": [8] * 6 + [16] * 6,
                       "metric.cycles": np.arange(12, dtype=float) + 1})
    fig, data = S.sensitivity_figure(df, "cycles", "min", ["algorithm", "threads"], "t")
    assert data["algorithm"]["kind"] == "category"
    assert not _overlapping_ticks(fig)
    plt.close(fig)


def test_missing_objective_reason_is_exact_only_when_it_covers_every_gap():
    from accel.report.conclusions import missing_metrics

    df = pd.DataFrame({"param.rows": [16, 32, 64, 128, 16, 32, 64, 128],
                       "param.n": [2, 2, 2, 2, 4, 4, 4, 4],
                       "metric.lut": [1.0, 2.0, 3.0, np.nan, 1.0, 2.0, 3.0, np.nan]})
    [text] = missing_metrics(df, [("lut", "min")], ["rows", "n"])
    assert text.startswith("2 designs of 8 have no lut (exactly the designs with rows in {128}")
    df.loc[0, "metric.lut"] = np.nan  # one more gap the rows=128 rule does not explain
    [text] = missing_metrics(df, [("lut", "min")], ["rows", "n"])
    assert "3 designs of 8 have no lut (among them every design with rows in {128})" in text
