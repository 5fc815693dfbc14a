"""`accel report`: figure files, the plotted Pareto data, summary.md and index.html."""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
from sweep_support import TOY_SPEC

from accel.sweep import parse_spec, run_sweep
from accel.sweep.pareto import pareto_mask


def test_report_files_and_pareto_data(tmp_path, cli):
    db = tmp_path / "r.sqlite"
    run_sweep(parse_spec(TOY_SPEC), db, workers=1)
    out = tmp_path / "rep"
    rc, stdout, err = cli("report", db, "--out", out, "--json")
    assert rc == 0, err
    res = json.loads(stdout)
    pngs = [p for p in res["figures"] if p.endswith(".png")]
    svgs = [p for p in res["figures"] if p.endswith(".svg")]
    stems = {p.rsplit("/", 1)[1][:-4] for p in pngs}
    assert {"toy-small-pareto", "toy-small-speedup-nm", "toy-small-sensitivity"} <= stems
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] >= 300 and img.shape[1] >= 400, (p, img.shape)
        assert img[..., :3].std() > 0.05  # not a blank canvas
    for p in svgs:
        text = open(p).read()
        assert "<svg" in text and len(text) > 5000
    summary = (out / "summary.md").read_text()
    assert "Pareto" in summary and "toy-small-pareto.png" in summary and "| rows |" in summary
    html = (out / "index.html").read_text()
    assert html.count("data:image/png;base64,") == len(pngs)

    figs = json.loads((out / "figures.json").read_text())["toy-small-pareto"]["data"]
    front, everything = np.array(figs["front"]), np.array(figs["all"])
    goals = [g for _, g in figs["objectives"]]
    assert goals == ["min", "min"] and len(front) >= 2
    # every plotted front point is non-dominated among all plotted points ...
    for f in front:
        dominated = np.all(everything <= f, axis=1) & np.any(everything < f, axis=1)
        assert not dominated.any(), f
    # ... and the plotted front is exactly the set of non-dominated points
    true_front = {tuple(r) for r in everything[pareto_mask(everything, goals)]}
    assert {tuple(r) for r in front} == true_front
