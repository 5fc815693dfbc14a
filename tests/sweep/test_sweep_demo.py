"""`accel demo` end to end (slow: it builds the MiniLM training workloads when not cached)."""

from __future__ import annotations

import json
import re

import pytest


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_writes_summary_and_figures(tmp_path, cli):
    out = tmp_path / "demo"
    rc, stdout, err = cli("demo", "--out", out, "--json")
    assert rc == 0, err
    res = json.loads(stdout)
    assert res["skipped"] == {}
    from accel.arch import registry

    # every registered machine's demo sweep runs (a new machine brings its own spec)
    expected = {m.demo_spec for m in registry.machines() if m.demo_spec}
    assert {"sat-minilm-demo", "piuma-rmat-demo", "flightllm-llama2-demo"} <= expected
    assert {s["spec"] for s in res["sweeps"]} == expected
    summary = (out / "summary.md").read_text()
    for stem in ("sat-minilm-demo-phases", "flightllm-llama2-demo-roofline",
                 "piuma-rmat-demo-threads-traffic", "sat-minilm-demo-pareto"):
        assert (out / f"{stem}.png").stat().st_size > 10_000
        assert (out / f"{stem}.svg").stat().st_size > 10_000
        assert f"{stem}.png" in summary
    # issue 14: conclusions first, the rival of the README's SMASH claim, a FlightLLM front
    # with more than one design and both devices told apart, valid HTML5
    lines = [ln for ln in summary.splitlines() if ln.strip()]
    assert lines[1] == "## Conclusions"
    assert "gustavson-dense" in summary
    figs = json.loads((out / "figures.json").read_text())
    assert len(figs["flightllm-llama2-demo-pareto"]["data"]["front_numbers"]) > 1
    # every spec's conclusions say whether points failed and, if so, why (grouped by reason)
    for section in summary.split("\n## ")[2:]:
        concl = section.split("### Sweep", 1)[0]
        assert re.search(r"designs evaluated, none failed\.", concl) or "failed, by reason:" in concl, section[:80]
        if "none failed" in concl:
            assert concl.count("failed") == 1, "the run says 'none failed' once"
    import html5lib

    html5lib.HTMLParser(strict=True).parse((out / "index.html").read_text())
