"""Machine-specific commands and README rows live in the machine folders, behind the
registry's hooks (``Machine.commands``, ``Machine.readme_claims``); the CLI, report and
sweep layers iterate the registry and spell no machine name."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import sys
from pathlib import Path

import pytest
import typer

from accel.arch import registry

TOY = Path(__file__).parent / "registry_toy"
ACCEL = Path(registry.__file__).resolve().parents[1]


@pytest.fixture
def toy(monkeypatch):
    """The toy machine with its own command and claim, registered as a plug-in would be."""
    monkeypatch.syspath_prepend(str(TOY))
    from toy_gemm.machine import MACHINE

    m = dataclasses.replace(MACHINE, name="toy-hooks", commands="toy_gemm.commands:COMMANDS",
                            readme_claims=("toy_gemm.commands:claims",))
    monkeypatch.setitem(registry._EXTRA, m.name, m)
    yield m
    for mod in [k for k in sys.modules if k == "toy_gemm" or k.startswith("toy_gemm.")]:
        sys.modules.pop(mod)


def _app(taken=frozenset()):
    from accel.cli import sim

    app = typer.Typer()
    sim.register_machine_commands(app, set(taken))
    return app


def test_a_machine_command_is_built_from_its_declaration(toy, capsys):
    app = _app()
    assert app(["toy-study", "check", "--size", "3", "--json"], standalone_mode=False) in (0, None)
    assert json.loads(capsys.readouterr().out) == {"size": 3, "all_ok": True}
    app(["toy-study", "check"], standalone_mode=False)
    out = capsys.readouterr().out
    assert "toy check" in out and "toy note" in out and "toy text" in out


def test_a_failed_check_exits_1_with_its_output(toy, capsys):
    rc = _app()(["toy-study", "check", "--no-ok", "--json"], standalone_mode=False)
    assert rc == 1
    assert json.loads(capsys.readouterr().out)["all_ok"] is False


def test_a_group_may_not_take_a_cli_word(toy, monkeypatch):
    with pytest.raises(RuntimeError, match="toy-study check"):
        _app({"toy-study"})
    twin = dataclasses.replace(toy, name="toy-twin")   # a second machine, the same command
    monkeypatch.setitem(registry._EXTRA, twin.name, twin)
    with pytest.raises(RuntimeError, match="toy-twin declares `accel toy-study check`"):
        _app()


def test_readme_rows_come_from_the_hooks(toy, monkeypatch):
    from accel.report import readme_results

    monkeypatch.setattr(registry, "MACHINES", {"toy": "tests' toy machine"})
    monkeypatch.setattr(registry, "get", lambda name: toy)
    assert readme_results.rows() == [("toy claim", "1.00×", "2.5×")]


def test_readme_rows_skip_machines_registered_at_run_time(toy, monkeypatch):
    """A plug-in (or a test's toy) registered in the same process adds no README rows."""
    from accel.report import readme_results

    seen = []
    monkeypatch.setattr(registry, "MACHINES", {})
    monkeypatch.setattr(registry, "_EXTRA", {"toy": toy})
    monkeypatch.setattr(type(toy), "claims", lambda self: seen.append(self.name) or [])
    assert readme_results.rows() == [] and seen == []


def test_the_cli_builds_the_machines_own_commands():
    from accel.cli import app

    groups = {g.name: g.typer_instance for g in app.registered_groups}
    verbs = {name: sorted(c.name for c in t.registered_commands) for name, t in groups.items()
             if name in ("bdwp", "flightllm")}
    assert verbs == {"bdwp": ["accuracy", "study"], "flightllm": ["validate"]}
    declared = {(c.group, c.verb) for m in registry.machines() for c in m.cli_commands()}
    assert {("bdwp", "accuracy"), ("bdwp", "study"), ("flightllm", "validate")} <= declared


def test_validate_exits_1_when_a_reference_check_misses(monkeypatch, capsys):
    from accel.arch.flightllm import validate as v
    from accel.cli import main

    monkeypatch.setattr(v, "validate", lambda cfg, on_chip=False: {"all_ok": False, "rows": []})
    assert main(["flightllm", "validate", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["all_ok"] is False
    monkeypatch.setattr(v, "validate", lambda cfg, on_chip=False: {"all_ok": True, "rows": []})
    assert main(["flightllm", "validate", "--json"]) == 0


# --- no machine name in the generic layers ---------------------------------------------
GENERIC = ("cli", "report", "sweep")


def _spelled(path: Path, names: list[str]) -> list[str]:
    """Where ``path`` spells a machine name in code: an import of its folder, an identifier
    with the name as a word, or a string (not a docstring or comment) holding the name as a
    word ("sat-minilm" is a spec's name, not the machine's)."""
    src = path.read_text()
    tree = ast.parse(src)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    alternatives = "|".join(map(re.escape, names))
    word = re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")
    idents = "|".join(re.escape(n.replace("-", "_")) for n in names)
    ident = re.compile(rf"(?:^|_)({idents})(?:_|$)")
    hits = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            hits += [f"{where} imports {m}" for m in mods
                     if any(m.startswith(f"accel.arch.{n}") for n in names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and word.search(node.value):
                hits.append(f"{where} string {node.value[:60]!r}")
        elif isinstance(node, ast.Name | ast.arg | ast.FunctionDef | ast.ClassDef | ast.Attribute):
            name = getattr(node, "id", None) or getattr(node, "arg", None) or \
                getattr(node, "name", None) or getattr(node, "attr", None)
            if name and ident.search(name.lower()):
                hits.append(f"{where} identifier {name}")
    return hits


def test_generic_layers_spell_no_machine_name():
    names = list(registry.MACHINES)
    hits = [h for layer in GENERIC for p in sorted((ACCEL / layer).rglob("*.py"))
            for h in _spelled(p, names)]
    assert not hits, "\n".join(hits)


def test_the_name_check_can_fail(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""sat in a docstring is prose."""\n# flightllm in a comment\n'
                     'from accel.arch.sat import study\n'
                     'def sat_cost_row():\n    return run("flightllm", "sat-minilm")\n')
    hits = _spelled(probe, ["sat", "flightllm"])
    assert len(hits) == 3, hits   # the import, the function name, the "flightllm" string
