"""The demo report, read as issue 24 read it: figure by figure and sentence by sentence
against the store (``demo_stores``: the four demo sweeps as data).

Each test names the defect it guards; each can fail (the layout check, for one, finds the
three struck-through speedup labels of the report before the fix)."""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from demo_stores import make_demo_stores

from accel.report import conclusions as C
from accel.report import figures as F
from accel.report import sensitivity as S
from accel.report.layout import layout_problems
from accel.report.summary import design_frame
from accel.sweep.pareto import pareto_mask
from accel.sweep.store import Store, load_frame

SPECS = ("flightllm-llama2-demo", "piuma-rmat-demo", "sat-minilm-demo", "systolic-minilm-demo")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from accel.report import write_report

    d = tmp_path_factory.mktemp("demo")
    dbs = make_demo_stores(d)
    out = d / "report"
    write_report(dbs, out, title="demo")
    frames, metas = {}, {}
    for db in dbs:
        with Store(db, create=False) as st:
            metas.update(st.specs())
            frames[db.stem] = design_frame(load_frame(st))
    md = (out / "summary.md").read_text()
    sections = {name: md.split(f"## {name} (", 1)[1].split("\n## ", 1)[0] for name in SPECS}
    return {"out": out, "md": md, "sections": sections, "frames": frames, "metas": metas,
            "figs": json.loads((out / "figures.json").read_text())}


def _objectives(meta):
    return [(o["metric"], o["goal"]) for o in meta["objectives"]]


# --- 3. figures: the layout check ----------------------------------------------------------


def test_every_demo_figure_passes_the_layout_check(demo):
    assert len(demo["figs"]) >= 14
    bad = {k: v["data"]["layout_problems"] for k, v in demo["figs"].items() if v["data"]["layout_problems"]}
    assert not bad


def test_the_layout_check_finds_a_label_on_the_frame_and_two_labels_on_each_other():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.annotate("1.91×", (0.5, 1.05), va="center")      # as the old speedup figure drew it
    ax.text(0.2, 0.5, "hello")
    ax.text(0.21, 0.5, "world")
    problems = layout_problems(fig)
    plt.close(fig)
    assert "'1.91×' crosses an axes frame" in problems
    assert "'hello' overlaps 'world'" in problems


def test_speedup_best_labels_are_inside_the_frame(demo):
    for name in ("sat-minilm-demo", "flightllm-llama2-demo", "systolic-minilm-demo"):
        assert demo["figs"][f"{name}-speedup-nm"]["data"]["layout_problems"] == []


def test_a_panel_of_constant_series_is_dropped_and_says_why(demo):
    data = demo["figs"]["systolic-minilm-demo-dataflows"]["data"]
    assert "mapping efficiency is 1.00 for every design shown" in data["not_drawn"]
    from accel.arch.systolic.view import systolic_dataflows

    fig, _ = systolic_dataflows(demo["frames"]["systolic-minilm-demo"], [], "t")
    assert len(fig.axes) == 1 and "not drawn" in fig.axes[0].get_title()
    plt.close(fig)
    # and a sensitivity panel whose values all give one median
    df = pd.DataFrame({"param.a": [1, 1, 2, 2], "param.b": [1, 2, 1, 2], "metric.cycles": [1.0, 3.0, 1.0, 3.0]})
    fig, data = S.sensitivity_figure(df, "cycles", "min", ["a", "b"], "t")
    assert list(data) == ["b", "not_drawn"] and data["not_drawn"] == ["a (1× for every value)"]
    assert "not drawn" in fig._suptitle.get_text()
    plt.close(fig)


def test_parallel_coordinates_lines_carry_design_numbers(demo):
    sec = demo["sections"]["sat-minilm-demo"]
    n_front = int(re.search(r"all 3 objectives \((\d+) designs", sec).group(1))
    meta = demo["metas"]["sat-minilm-demo"]
    d = demo["frames"]["sat-minilm-demo"]
    objs = _objectives(meta)
    fig, data = F.pareto_figure(d, objs, list(meta["parameters"]), "t")
    labels = [t.get_text() for t in fig.axes[1].texts if not t.get_text().startswith(("best", "worst", "all"))]
    shown = set()
    for lab in labels:      # runs of consecutive numbers are written "6\u20139"
        for run in lab.split(", "):
            a, _, b = run.partition("\u2013")
            shown |= set(range(int(a), int(b or a) + 1))
    assert shown == set(range(1, n_front + 1)) == set(data["front_numbers"])
    plt.close(fig)


def test_log_axes_label_their_whole_range():
    for lo, hi in [(0.5, 4.0), (0.52, 3.9), (30_000, 150_000), (1.0, 1e4), (2e5, 7e6)]:
        t = F.log_ticks(lo, hi)
        span = np.log10(hi / lo)
        assert len(t) >= 2 and np.log10(t[0] / lo) <= 0.2 * span and np.log10(hi / t[-1]) <= 0.2 * span, (lo, hi, t)


def test_piuma_dram_axis_has_labelled_ticks_above_2_mb(demo):
    meta = demo["metas"]["piuma-rmat-demo"]
    fig, _ = F.pareto_figure(demo["frames"]["piuma-rmat-demo"], _objectives(meta), list(meta["parameters"]), "t")
    ax = fig.axes[0]
    fig.canvas.draw()
    lo, hi = ax.get_ylim()
    labelled = [t.get_position()[1] for t in ax.get_yticklabels() if t.get_text() and lo <= t.get_position()[1] <= hi]
    assert ax.get_yscale() == "log" and max(labelled) > 2 and np.log10(hi / max(labelled)) <= 0.2 * np.log10(hi / lo)
    plt.close(fig)


def test_hbm_panel_says_yes_and_no(demo):
    assert set(demo["figs"]["flightllm-llama2-demo-roofline"]["data"]["hbm_utilization"]) == {"yes", "no"}
    from accel.arch.flightllm.view import flightllm_roofline

    fig, _ = flightllm_roofline(demo["frames"]["flightllm-llama2-demo"], [], "t")
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == ["on_chip_decode=no", "on_chip_decode=yes"]
    plt.close(fig)


# --- 4. units -------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "metric", "unit"), [
    ("piuma-rmat-demo", "dram_bytes", "MB"), ("systolic-minilm-demo", "pes", "PEs"),
    ("sat-minilm-demo", "dram_bytes", "MB"), ("flightllm-llama2-demo", "weight_bytes", "GB")])
def test_one_unit_in_figure_table_and_text(demo, spec, metric, unit):
    sec = demo["sections"][spec]
    assert f"| {metric} [{unit}] |" in sec                               # table header
    said = re.findall(rf"{metric} \([^)]*\): \*\*[\d,.]+ (\S+?)\*\*", sec) + \
        re.findall(rf"best on {metric} \([\d,.]+ ([^,]+),", sec)
    assert said and set(said) == {unit}, said                            # sentences
    meta = demo["metas"][spec]
    fig, _ = F.pareto_figure(demo["frames"][spec], _objectives(meta), list(meta["parameters"]), "t")
    labels = {fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()}
    if [m for m, _ in _objectives(meta)].index(metric) < 2:
        assert any(lab.startswith(f"{metric} [{unit}]") for lab in labels)  # figure axis
    else:  # a third objective: the parallel-coordinates panel's ends
        ends = [t.get_text() for t in fig.axes[1].texts if t.get_text().startswith(("best", "worst"))]
        assert sum(t.endswith(f" {unit}") for t in ends) == 2
    plt.close(fig)
    assert "[-]" not in sec and not re.search(r"\d bytes\b", sec)


# --- 1. and 2. sentences are computed claims --------------------------------------------------


def test_every_best_names_a_pareto_optimal_design_and_counts_ties(demo):
    for name in SPECS:
        meta, d = demo["metas"][name], demo["frames"][name]
        objs = _objectives(meta)
        cols = [f"metric.{m}" for m, _ in objs]
        complete = d.dropna(subset=cols)
        on_front = pareto_mask(complete[cols].to_numpy(float), [g for _, g in objs])
        front_idx = set(complete.index[on_front])
        sec = demo["sections"][name].split("### Sweep", 1)[0]
        for m, g in objs:
            v = d[f"metric.{m}"]
            best = v.min() if g == "min" else v.max()
            tied = int(np.isclose(v, best, rtol=1e-9, atol=0).sum())
            idx, n = C.best_design(d, objs, (m, g))
            assert n == tied and idx in front_idx, (name, m)
            if tied == len(d):
                assert f"Every design has the same {m}" in sec
                continue
            line = next(ln for ln in sec.splitlines() if ln.startswith(f"- Best {m} ("))
            assert C.design_text(d.loc[idx], F.varied_params(d, list(meta["parameters"]))) in line
            assert ("shared by" in line) == (tied > 1) and (tied == 1 or f"shared by {tied:,} designs" in line)
            # the number is the table's number of that very design
            k = re.search(r"\(#(\d+) on the Pareto front\)", line).group(1)
            row = _front_rows(demo["sections"][name])[k]
            for p in F.varied_params(d, list(meta["parameters"])):
                assert row[p] == F.category_text(d.loc[idx, f"param.{p}"]), (name, m, p)


def _front_rows(section: str) -> dict[str, dict[str, str]]:
    block = section.split("numbered as in the figure):", 1)[1].strip().split("\n\n", 1)[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [dict(zip(head, (c.strip() for c in ln.strip("|").split("|")), strict=True)) for ln in lines[2:]]
    return {r["#"]: r for r in rows}


def test_best_of_a_tie_is_the_pareto_design_not_the_first_one():
    # issue 24: "Best hw_lut" named a dense, non-pipelined design; #11 had the same LUTs
    # and 1.3x fewer cycles
    df = pd.DataFrame({"param.p": ["dense", "sparse", "x"], "metric.hw_lut": [305219.0, 305219.0, 9e5],
                       "metric.cycles": [5.5e6, 4.2e6, 1e6]})
    objs = [("cycles", "min"), ("hw_lut", "min")]
    [_, lut] = C.best_per_objective(df, objs, ["p"])
    assert "shared by 2 designs" in lut and "p=sparse" in lut and "p=dense" not in lut


def test_no_vacuous_sentences(demo):
    for name, sec in demo["sections"].items():
        for a, b in re.findall(r"from ([\d,.]+ ?\S*) to ([\d,.]+ ?\S*?)[;.]", sec):
            assert a != b, (name, a)
        for a, b in re.findall(r"median \*\*([\d.,]+)×\*\*, best \*\*([\d.,]+)×\*\*", sec):
            assert a != b, (name, a)
        assert "worst" not in sec
    # the systolic speedup is one number (2.00x), said once
    assert "**2×** for every one of 27 designs" in demo["sections"]["systolic-minilm-demo"] \
        or "median and best" in demo["sections"]["systolic-minilm-demo"]


def test_constant_objective_is_said_once_not_ranged():
    df = pd.DataFrame({"param.p": [1, 2, 3], "metric.cycles": [3.0, 2.0, 1.0], "metric.lut": [1.0, 2.0, 3.0],
                       "metric.dram_bytes": [299.3e6] * 3})
    objs = [("cycles", "min"), ("lut", "min"), ("dram_bytes", "min")]
    best = C.best_per_objective(df, objs, ["p"])
    assert best[2] == "Every design has the same dram_bytes, **299.3 MB**: it decides nothing in this sweep."
    front = df  # every design is on the front
    trade = C.front_trade(front, objs, {i: i + 1 for i in df.index})
    assert not any("ranges from" in t for t in trade)
    note = F.projection_note(front, objs, {i: i + 1 for i in df.index})
    assert note == ""  # nothing looks dominated in the projection: no "they win on dram_bytes"
    # the parallel-coordinates axis of a value that prints alike is one value, not worst..best
    df["metric.dram_bytes"] = [299.31e6, 299.32e6, 299.33e6]
    fig, _ = F.pareto_figure(df, objs, ["p"], "t")
    texts = [t.get_text() for t in fig.axes[1].texts]
    plt.close(fig)
    assert "all\n299.3 MB" in texts and not any("299.3" in t and t.startswith(("best", "worst")) for t in texts)


def test_projection_subtitle_names_what_the_hidden_designs_win_on(demo):
    meta = demo["metas"]["sat-minilm-demo"]
    d = demo["frames"]["sat-minilm-demo"]
    objs = _objectives(meta)
    cols = [f"metric.{m}" for m, _ in objs]
    front = d[pareto_mask(d[cols].to_numpy(float), [g for _, g in objs])]
    note = F.projection_note(front, objs, {i: n + 1 for n, i in enumerate(front.index)})
    assert note.endswith("they are better on dram_bytes)")
    # a front whose third objective is one value hides nothing behind it
    flat = front.assign(**{"metric.dram_bytes": 299.3e6})
    flat = flat[pareto_mask(flat[cols].to_numpy(float), ["min"] * 3)]
    assert F.projection_note(flat, objs, {i: n + 1 for n, i in enumerate(flat.index)}) == ""


# --- 5. sensitivity compares like with like ----------------------------------------------------


def test_piuma_hash_table_panel_compares_like_with_like(demo):
    data = demo["figs"]["piuma-rmat-demo-sensitivity"]["data"]["hash_table_entries"]
    assert data["note"].startswith("like with like: only the 4 settings of algorithm x threads_per_pipeline")
    assert data["designs"] == 8  # smash-v1/v2 x 8/16 threads, at 1024 and at 2048 entries
    d = demo["frames"]["piuma-rmat-demo"]
    sub, _ = S.like_with_like(d, "hash_table_entries", ["algorithm", "threads_per_pipeline", "hash_table_entries"])
    assert set(sub["param.algorithm"]) == {"smash-v1", "smash-v2"}
    # groups with nothing in common are named, not compared silently
    df = pd.DataFrame({"param.a": [1, 1, 2, 2], "param.alg": ["x", "y", "z", "w"], "metric.c": [1.0, 2, 3, 4]})
    _, note = S.like_with_like(df, "a", ["a", "alg"])
    assert note == "groups differ: a=1: alg in {x, y}; a=2: alg in {w, z}"
    # the same values of every other parameter for each value of a, never in the same
    # combination (a search's sample): said so, not an empty "groups differ:"
    df = pd.DataFrame({"param.a": [1, 1, 2, 2], "param.b": [0, 1, 0, 1], "param.c": [0, 1, 1, 0],
                       "metric.m": [1.0, 2, 3, 4]})
    _, note = S.like_with_like(df, "a", ["a", "b", "c"])
    assert note == "groups differ in their mix of designs: each value of a is a median over different designs"


# --- 6. objectives that stand in for something ---------------------------------------------------


def test_weight_bytes_is_explained_from_the_machine_declaration(demo):
    from accel.arch.flightllm.model import FlightLLMResult

    note = FlightLLMResult.METRIC_NOTES["weight_bytes"]
    sec = demo["sections"]["flightllm-llama2-demo"]
    assert note in sec.split("### Sweep")[0] and f"- {note}" in sec


def test_a_speedup_from_one_design_pair_says_so():
    """A search samples few designs that also ran dense: one pair is one design, not
    "every one of 1 design"."""
    d = pd.DataFrame({"param.prune": ["dense", "2:8", "2:8"], "param.pe_rows": [8, 8, 16],
                      "metric.cycles": [200.0, 100.0, 90.0]})
    (line,) = C.speedups(d, ["prune", "pe_rows"], "prune", "cycles", "min")
    assert "**2×**, from the one design run both ways" in line, line
