"""``search: {strategy: nsga2, ...}``: validated like the rest of a spec, evaluates its
budget into the same store, resumes by replay, runs on Dask, and the report says how the
front was found (toy machine: fast)."""

from __future__ import annotations

import copy
import sqlite3

import pytest
from sweep_support import TOY_SPEC

from accel.errors import ConfigError
from accel.sweep import parse_spec, run_sweep


def searched(budget=20, seed=0, population=4, **extra) -> dict:
    spec = copy.deepcopy(TOY_SPEC)
    spec["name"] = "toy-search"
    spec["search"] = {"strategy": "nsga2", "budget": budget, "seed": seed,
                      "population": population, **extra}
    return spec


@pytest.mark.parametrize(("change", "words"), [
    ({"strategy": "nsga3"}, "search.strategy must be one of nsga2"),
    ({"strategy": None}, "search.strategy"),
    ({"budget": 0}, "budget must be a positive integer"),
    ({"budget": "many"}, "budget must be a positive integer"),
    ({"seed": -1}, "search.seed"),
    ({"population": 1}, "search.population"),
    ({"population": 50}, "search.population"),        # more than the budget
    ({"generations": 3}, "unknown key 'generations' in search"),
])
def test_search_is_validated_like_the_rest_of_the_spec(change, words):
    spec = searched()
    spec["search"].update(change)
    spec["search"] = {k: v for k, v in spec["search"].items() if v is not None}
    with pytest.raises(ConfigError, match=words):
        parse_spec(spec)


def test_search_needs_objectives_a_budget_and_no_sample():
    spec = searched()
    del spec["objectives"]
    with pytest.raises(ConfigError, match="search needs objectives"):
        parse_spec(spec)
    spec = searched()
    del spec["search"]["budget"]
    with pytest.raises(ConfigError, match="budget"):
        parse_spec(spec)
    spec = searched()
    spec["sample"] = {"n": 5}
    with pytest.raises(ConfigError, match="either sample: or search:"):
        parse_spec(spec)


def _keys(db) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {k for (k,) in conn.execute("SELECT key FROM results")}
    finally:
        conn.close()


def test_search_evaluates_its_budget_feasible_points_and_resumes_by_replay(tmp_path):
    s = run_sweep(parse_spec(searched(budget=20)), tmp_path / "a.sqlite", workers=2)
    assert s.strategy == "nsga2" and s.computed == 20 and s.failed == 0
    conn = sqlite3.connect(tmp_path / "a.sqlite")
    params = [eval(p.replace("true", "True").replace("false", "False"))  # noqa: S307 - JSON dicts
              for (p,) in conn.execute("SELECT params FROM results")]
    conn.close()
    assert len(params) == 20 and all(p["rows"] * p["cols"] <= 128 for p in params)
    again = run_sweep(parse_spec(searched(budget=20)), tmp_path / "a.sqlite", workers=2)
    assert again.computed == 0 and again.already_done == 20      # resumed: nothing to do
    run_sweep(parse_spec(searched(budget=20)), tmp_path / "b.sqlite", workers=1)
    assert _keys(tmp_path / "b.sqlite") == _keys(tmp_path / "a.sqlite")   # seeded: same points
    c = run_sweep(parse_spec(searched(budget=20, seed=1)), tmp_path / "c.sqlite", workers=1)
    assert c.computed == 20 and _keys(tmp_path / "c.sqlite") != _keys(tmp_path / "a.sqlite")


def test_an_interrupted_search_continues_where_it_stopped(tmp_path):
    db = tmp_path / "r.sqlite"
    first = run_sweep(parse_spec(searched(budget=12)), db, workers=2)   # as if stopped at 12
    more = run_sweep(parse_spec(searched(budget=24)), db, workers=2)
    assert first.computed == 12 and more.already_done == 12 and more.computed == 12
    whole = run_sweep(parse_spec(searched(budget=24)), tmp_path / "w.sqlite", workers=2)
    assert whole.computed == 24 and _keys(db) == _keys(tmp_path / "w.sqlite")


def test_search_report_says_how_the_front_was_found(tmp_path):
    from accel.report.summary import write_report

    db = tmp_path / "s.sqlite"
    run_sweep(parse_spec(searched(budget=24)), db, workers=2)
    res = write_report([db], tmp_path / "rep")
    md = (tmp_path / "rep" / "summary.md").read_text()
    assert "### Search" in md and "NSGA2 search (optuna" in md and "24 design points evaluated" in md
    fig = res["figures"] if isinstance(res, dict) and "figures" in res else []
    assert any("convergence" in str(f) for f in fig) or (tmp_path / "rep" / "toy-search-convergence.png").exists()


@pytest.mark.timeout(300)
def test_search_runs_on_dask_like_a_grid(tmp_path):
    local = run_sweep(parse_spec(searched(budget=12)), tmp_path / "l.sqlite", workers=2)
    dask = run_sweep(parse_spec(searched(budget=12)), tmp_path / "d.sqlite", dask_local=2)
    assert dask.executor == "dask" and dask.computed == local.computed == 12
    assert _keys(tmp_path / "d.sqlite") == _keys(tmp_path / "l.sqlite")


def test_search_takes_one_workload():
    spec = searched()
    spec["workloads"] = ["toy:16x64x24", "toy:8x8x8"]
    with pytest.raises(ConfigError, match="exactly one workload"):
        parse_spec(spec)
