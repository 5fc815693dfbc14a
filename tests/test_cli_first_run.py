"""First run: kernel compilation is announced and kept out of the progress rate; the
rate shown is completed / elapsed; `accel cache info|clear` find every cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from accel.cli.common import RateColumn

ROOT = Path(__file__).resolve().parents[1]


def test_rate_is_completed_over_elapsed_not_a_burst_window():
    # 14 points in 28 s: rich's moving window said 56.1/s when they all finished at once
    task = SimpleNamespace(finished=True, finished_time=28.0, elapsed=28.0, completed=14)
    assert RateColumn().render(task).plain.strip() == "0.50/s"
    task = SimpleNamespace(finished=False, finished_time=None, elapsed=0.0, completed=0)
    assert RateColumn().render(task).plain.strip() == "-.-/s"


def test_first_point_runs_first_inside_the_bar_and_out_of_the_rate(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "sweep"))
    import toy_machine

    toy_machine.register()
    from accel.sweep import parse_spec, run_sweep

    spec = parse_spec({"name": "warm", "machine": "toy", "base": "toy-small",
                       "workloads": ["toy:16x64x24"], "parameters": {"rows": [2, 4, 8], "cols": [4, 8]},
                       "objectives": {"cycles": "min"}})
    seen: dict = {"warm": [], "total": [], "progress": 0}
    s = run_sweep(spec, tmp_path / "s.sqlite", workers=1,
                  on_warmup=lambda m: seen["warm"].append(m),
                  on_total=lambda n: seen["total"].append(n),
                  on_progress=lambda n: seen.__setitem__("progress", seen["progress"] + n))
    assert seen["warm"] == ["toy"]
    assert seen["total"] == [6] and seen["progress"] == 6      # N of N: the warm-up point too
    assert s.computed == 6 and s.rows == 6 and s.warmup_seconds >= 0
    again = run_sweep(spec, tmp_path / "s.sqlite", workers=1,
                      on_warmup=lambda m: seen["warm"].append(m))
    assert again.computed == 0 and seen["warm"] == ["toy"]   # nothing to do: no warm-up


def _py(code: str, env_extra: dict) -> str:
    env = {**os.environ, **env_extra}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_cold_kernel_cache_is_detected_then_warm(tmp_path):
    """With an empty kernel cache `kernels_cached` says compile (the notice is printed);
    after one simulation it says cached (no notice on the second run)."""
    code = ("from accel.cli.common import kernels_cached\n"
            "print(kernels_cached('flightllm'))\n"
            "from accel.arch.flightllm import PRESETS, simulate\n"
            "from accel.workloads.llm import llm_workload\n"
            "simulate(llm_workload('llama2-7b', 16, 16), PRESETS['u280'], storage=False)\n"
            "print(kernels_cached('flightllm'))\n")
    out = _py(code, {"ACCEL_NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    assert out.splitlines() == ["False", "True"]
    again = _py("from accel.cli.common import kernels_cached; print(kernels_cached('flightllm'))",
                {"ACCEL_NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    assert again == "True"


def test_cache_info_lists_every_cache_and_clear_removes_them(tmp_path):
    numba = tmp_path / "numba" / "abc" / "sat"
    numba.mkdir(parents=True)
    (numba / "k.nbi").write_bytes(b"x" * 100)
    wl = tmp_path / "accel" / "workloads"
    wl.mkdir(parents=True)
    (wl / "w.npz").write_bytes(b"y" * 1000)
    env = {"ACCEL_NUMBA_CACHE_DIR": str(tmp_path / "numba"), "ACCEL_CACHE_DIR": str(tmp_path / "accel"),
           "YOWASP_CACHE_DIR": str(tmp_path / "yowasp"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    run = "import sys; from accel.cli import main; sys.exit(main(sys.argv[1:]))"

    def accel(*args):
        r = subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=300, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        return r.stdout

    info = json.loads(accel("cache", "info", "--json"))
    by = {c["name"]: c for c in info["caches"]}
    assert set(by) == {"workloads", "numba", "verilator", "synth", "yosys"}
    assert by["numba"]["bytes"] == 100 and by["workloads"]["bytes"] == 1000
    # RTL builds and synthesis results live under the user cache, never in the tree
    assert by["verilator"]["path"] == str(tmp_path / "xdg" / "accel" / "verilator")
    assert by["synth"]["path"] == str(tmp_path / "xdg" / "accel" / "synth")
    table = accel("cache", "info")
    assert "1.0 kB" in table and str(tmp_path / "numba") in table.replace("\n", "")
    cleared = json.loads(accel("cache", "clear", "--only", "numba", "--only", "workloads", "--json"))
    assert cleared["freed_bytes"] == 1100
    assert not (tmp_path / "numba").exists() and not wl.exists()


def test_cache_warm_compiles_ahead_of_the_first_run(tmp_path):
    """`accel cache warm --machine flightllm` on an empty kernel cache compiles the model's
    kernels (kernels_cached flips to True) and keeps the default run's instruction storage
    of each board preset; a machine without a warm-up is named as such."""
    env = {"ACCEL_NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    run = "import sys; from accel.cli import main; sys.exit(main(sys.argv[1:]))"

    def accel(*args):
        r = subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=600, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert _py("from accel.cli.common import kernels_cached; print(kernels_cached('flightllm'))",
               env) == "False"
    first = accel("cache", "warm", "--machine", "flightllm", "--json")
    assert [r["machine"] for r in first["machines"]] == ["flightllm"]
    assert first["machines"][0]["declared"] is True
    assert _py("from accel.cli.common import kernels_cached; print(kernels_cached('flightllm'))",
               env) == "True"
    from accel.arch.flightllm.warm import STORAGE_PRESETS

    kept = list((tmp_path / "numba").rglob("instruction_storage/*.json"))
    assert len(kept) == len(STORAGE_PRESETS)
    again = accel("cache", "warm", "--machine", "flightllm", "--machine", "sat", "--json")
    assert [(r["machine"], r["declared"]) for r in again["machines"]] == [
        ("flightllm", True), ("sat", False)]


def test_every_declared_warm_up_resolves():
    """A machine's `warm` hook names a function that exists (a typo would only show at
    `make install`)."""
    from accel.arch.registry import _ref, machines

    declared = [m for m in machines() if m.warm]
    assert {m.name for m in declared} >= {"piuma", "flightllm"}
    for m in declared:
        assert callable(_ref(m.warm))


def _sim_callback(monkeypatch, terminal: bool, cached: bool):
    """``accel sim``'s callback for a stand-in machine, with stderr a terminal or not and
    its kernels compiled or not; returns (callback, what was printed on stderr)."""
    from accel.arch import registry
    from accel.cli import common, sim

    printed: list[str] = []
    monkeypatch.setattr(type(common.err_console), "is_terminal", property(lambda self: terminal))
    monkeypatch.setattr(common.err_console, "print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    monkeypatch.setattr(common, "kernels_cached", lambda machine: cached)
    model = SimpleNamespace(run=lambda context, **kw: registry.CliOutput(json={"ran": True}))
    machine = SimpleNamespace(name="toy", summary="a stand-in", cli_options=lambda: (),
                              cli_module=lambda: model)
    return sim.build_command(machine), printed


def test_sim_at_a_terminal_says_a_first_run_compiles(monkeypatch, capsys):
    # PIUMA's first run compiles ~10 s; its bar sat at 0 % with nothing said
    command, printed = _sim_callback(monkeypatch, terminal=True, cached=False)
    command(as_json=False)
    assert len(printed) == 1 and "toy: compiling simulation kernels, first run only" in printed[0]


def test_the_first_run_notice_names_accel_cache_warm_only_where_it_warms(monkeypatch):
    """PIUMA declares a warm-up, so the notice points at `accel cache warm`; SAT declares
    none (`accel cache warm` would only say so), so its notice does not promise one."""
    from accel.cli import common

    printed: list[str] = []
    monkeypatch.setattr(common.err_console, "print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    monkeypatch.setattr(common, "kernels_cached", lambda machine: False)
    for machine in ("piuma", "sat", "no-such-machine"):
        common.announce_first_compile(machine)
    assert [("accel cache warm" in p) for p in printed] == [True, False, False], printed


def test_sim_says_nothing_once_compiled_or_off_a_terminal_or_with_json(monkeypatch, capsys):
    for terminal, cached, as_json in ((True, True, False), (False, False, False), (True, False, True)):
        command, printed = _sim_callback(monkeypatch, terminal=terminal, cached=cached)
        command(as_json=as_json)
        assert printed == [], (terminal, cached, as_json)
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"ran": True}
