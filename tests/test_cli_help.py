"""`accel ... --help` reads like a tool's help: every command described, metavars instead of
type tags, every default shown, literal text; `accel --version`; tables not truncated."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer

from accel.cli import app, main

TYPE_TAG = re.compile(r"<(?:str|int|float|bool|path|list\[[^\]]*\]|[a-z_]+)>")


def _commands():
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, path):
        out.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])
    walk(root, [])
    return out


COMMANDS = _commands()
IDS = [" ".join(p) or "accel" for p, _ in COMMANDS]


def test_every_command_is_found():
    names = set(IDS)
    assert {"accel", "sim flightllm", "sim sat", "sim piuma", "sweep run", "report", "demo",
            "cache info", "cache clear", "bdwp accuracy"} <= names


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_command_has_a_description(path, cmd):
    text = (cmd.help or cmd.short_help or "").strip()
    assert text, f"`accel {' '.join(path)}` has no description"


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_help_text_has_no_type_tags_braces_or_dangling_dots(path, cmd, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert not TYPE_TAG.search(out), TYPE_TAG.search(out).group(0)
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage
    assert not re.search(r"\s\.(\s|$)", out), "a description ends in ' .'"
    assert "[default: ]" not in out and "[default: (" not in out


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_every_option_is_required_a_flag_or_shows_its_default(path, cmd, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option row
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    for p in cmd.params:
        if not isinstance(p, typer.core.TyperOption) or p.hidden or p.name in ("help",) or p.is_eager:
            continue
        if p.required or (p.is_flag and not p.secondary_opts):
            continue  # a plain flag is off unless given
        row = next(line for line in out.splitlines()
                   if re.match(rf"\W*\*?\s*{re.escape(p.opts[0])}(\s|,)", line))
        assert "[default:" in row, f"accel {' '.join(path)} {p.opts[0]}: no default shown"


def test_flightllm_help_has_description_metavars_and_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["sim", "flightllm", "--help"]) == 0
    out = capsys.readouterr().out
    assert "FlightLLM" in out.split("Options")[0]
    assert re.search(r"--weight-bits\s+X\s.*\[default: ", out)
    assert re.search(r"--set\s+KEY=VALUE", out)
    assert re.search(r"--json\s{2,}print", out)  # a flag shows no value


def test_sweep_run_usage_names_the_argument():
    assert main(["sweep", "run", "--help"]) == 0


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"accel {version('accel')}"


def test_tables_are_not_truncated_when_piped(tmp_path):
    """Piped stdout has no terminal width (rich assumes 80 columns): numbers stay whole."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "dumb"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "accel.cli", "sim", "flightllm", "--prefill", "32",
                        "--decode", "32"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout and "..." not in r.stdout, r.stdout
    assert re.search(r"decode tokens/s\s*│\s*[\d.]+", r.stdout), r.stdout
