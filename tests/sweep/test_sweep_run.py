"""The coordinator with the toy machine: resume, failures, CLI errors (exit 2, one line)."""

from __future__ import annotations

import copy
import json
import sqlite3

from sweep_support import TOY_SPEC, metrics_by_key

from accel.sweep import open_frame, parse_spec, run_sweep
from accel.sweep.points import design_points


def test_local_pool_equals_inline_and_resume_does_nothing(tmp_path):
    sp = parse_spec(TOY_SPEC)
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    s1 = run_sweep(sp, a, workers=1)
    s2 = run_sweep(sp, b, workers=2)
    n = len(design_points(sp))
    assert s1.computed == s2.computed == s1.rows == n and s1.failed == 0
    assert metrics_by_key(a) == metrics_by_key(b)
    again = run_sweep(sp, b, workers=2)
    assert again.computed == 0 and again.already_done == n
    df = open_frame(b)
    # the model's own functional check: C = A @ B against float64 NumPy
    assert (df["metric.max_abs_err"] < 1e-3).all()
    # N:M designs take fewer cycles than the same dense design (zeros skipped)
    d = df.set_index(["param.rows", "param.cols", "param.clock_mhz", "param.nm"])["metric.cycles"]
    assert (d.xs("2:8", level="param.nm") < d.xs("dense", level="param.nm")).all()
    fresh = run_sweep(sp, b, workers=1, fresh=True)
    assert fresh.computed == n


def test_failed_points_are_recorded_and_the_sweep_goes_on(tmp_path):
    data = copy.deepcopy(TOY_SPEC)
    data["parameters"]["fail_rows"] = 4      # a simulate option: the toy raises at rows=4
    s = run_sweep(parse_spec(data), tmp_path / "f.sqlite", workers=2)
    df = open_frame(tmp_path / "f.sqlite")
    failed = df[df["status"] == "failed"]
    assert s.failed == len(failed) > 0 and (failed["param.rows"] == 4).all()
    assert failed["error"].str.contains("toy failure at rows=4").all()
    assert (df.loc[df["status"] == "ok", "param.rows"] != 4).all()
    # invalid configurations (validate() raises) are failed rows too, not a crash
    data["parameters"] = {"rows": [0, 2]}
    data["constraints"] = []
    s = run_sweep(parse_spec(data), tmp_path / "g.sqlite", workers=1)
    assert s.failed == 1 and s.rows == 2


def test_cli_sweep_json_resume_and_export(tmp_path, write_spec, cli):
    spec = write_spec(TOY_SPEC)
    db = tmp_path / "r.sqlite"
    rc, out, err = cli("sweep", spec, "--db", db, "--workers", "2", "--json")
    assert rc == 0, err
    s = json.loads(out)
    assert s["computed"] == s["rows"] > 0 and s["rate"] > 0
    rc, out, _ = cli("sweep", spec, "--db", db)
    assert rc == 0 and "already done" in out and "nothing to do" in out
    rc, out, _ = cli("sweep", "export", db, "--format", "csv", "--out", tmp_path / "r.csv", "--json")
    assert rc == 0 and json.loads(out)["rows"] == s["rows"]


def bad(cli, *argv):
    rc, out, err = cli(*argv)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (rc, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_cli_bad_inputs_exit_2_one_line(tmp_path, write_spec, cli):
    def spec_with(**changes):
        d = copy.deepcopy(TOY_SPEC)
        d.update(changes)
        return write_spec(d, f"s{len(list(tmp_path.iterdir()))}.yaml")

    assert "unknown machine 'tpu'" in bad(cli, "sweep", spec_with(machine="tpu"))
    assert "unknown parameter 'rowz'" in bad(cli, "sweep", spec_with(parameters={"rowz": [1]}))
    msg = bad(cli, "sweep", spec_with(parameters={"rows": {"range": {"start": 1, "stop": 4, "step": 0}}}))
    assert "parameters.rows.range.step" in msg and "0" in msg
    assert "syntax error" in bad(cli, "sweep", spec_with(constraints=["rows *"]))
    assert "not allowed" in bad(cli, "sweep", spec_with(constraints=["open('x') == 1"]))
    assert "nope.npz" in bad(cli, "sweep", spec_with(workloads=["nope.npz"]), "--db", tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()  # nothing written for a failed command
    assert "is a directory" in bad(cli, "sweep", spec_with(), "--db", tmp_path)
    db = tmp_path / "old.sqlite"
    run_sweep(parse_spec(TOY_SPEC), db, workers=1)
    before = db.read_bytes()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    assert "schema version 999" in bad(cli, "sweep", spec_with(), "--db", db)
    assert "schema version 999" in bad(cli, "report", db, "--out", tmp_path / "rep")
    assert len(db.read_bytes()) == len(before)
    assert "not found" in bad(cli, "sweep", tmp_path / "missing.yaml")
    assert "--format" in bad(cli, "sweep", "export", db, "--format", "xlsx", "--out", tmp_path / "o")


def test_cli_out_folder_holds_the_store_and_nothing_else(tmp_path, write_spec, cli, monkeypatch):
    """`--out DIR` puts the store at DIR/results.sqlite and writes nothing beside it (a run
    from another folder leaves that folder alone); --db and --out together are refused."""
    spec = write_spec(TOY_SPEC)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    rc, out, err = cli("sweep", spec, "--out", tmp_path / "o", "--workers", "1", "--json")
    assert rc == 0, err
    assert json.loads(out)["db"] == str(tmp_path / "o" / "results.sqlite")
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["results.sqlite"]
    assert list(work.iterdir()) == []
    assert "not both" in bad(cli, "sweep", spec, "--out", tmp_path / "p", "--db", tmp_path / "q.sqlite")
    assert not (tmp_path / "p").exists() and not (tmp_path / "q.sqlite").exists()
