"""`accel ... --help` reads like one tool's help: every command and every option described, in
one style (a sentence: capital letter, full stop), boolean options in --x/--no-x pairs where
they switch a setting, metavars instead of type tags, every default shown, literal text;
`accel --version`; tables not truncated; what the README says of `accel --help` is so."""

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
    assert re.search(r"--json\s{2,}Print one JSON object\.", out)  # a flag shows no value


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


# --- every option of every command: described, one style, booleans in pairs ------------------

# Commands whose files other branches are rewriting (issue 24: "blocks" owns accel/cli/rtl.py,
# "pkg" moves accel/cli/bdwp.py and flightllm.py); their help is checked all the same, and a
# failure there is expected until those branches are merged -- then delete this set.
OTHER_BRANCHES = ()
# Flags that ask the command to do something (print JSON, start over, be quiet), not settings
# of a model: a --no- form would only restate the default.
ACTION_FLAGS = {"--json", "--fresh", "--quiet", "--force", "--retry-failed", "--version", "--waves",
                "--compress", "--training"}


def _options():
    out = []
    for path, cmd in COMMANDS:
        for p in cmd.params:
            if isinstance(p, typer.core.TyperOption) and p.name != "help":
                marks = [pytest.mark.xfail(reason="help text on another branch", strict=False)] \
                    if path and path[0] in OTHER_BRANCHES else []
                out.append(pytest.param(path, p, id=f"{' '.join(path) or 'accel'} {p.opts[0]}", marks=marks))
    return out


OPTIONS = _options()


@pytest.mark.parametrize(("path", "opt"), OPTIONS)
def test_every_option_has_a_description_in_one_style(path, opt):
    text = (opt.help or "").strip()
    assert text, "no description"
    assert text[0].isupper() or text[0].isdigit(), f"starts in lower case: {text!r}"
    assert text.endswith("."), f"does not end with a full stop: {text!r}"
    assert "|" not in text, f"alternatives written with '|' (write 'a, b or c'): {text!r}"


@pytest.mark.parametrize(("path", "opt"), [o for o in OPTIONS if o.values[1].is_flag])
def test_boolean_settings_come_in_pairs(path, opt):
    """A flag that switches a setting can be said both ways (--compute/--no-compute); one
    that is on by default must have a --no- form, or it could never be turned off."""
    if opt.opts[0] in ACTION_FLAGS:
        assert not opt.default, f"{opt.opts[0]} is an action flag but on by default"
        return
    assert opt.secondary_opts, f"{opt.opts[0]} has no --no- pair"


def test_a_flag_name_has_one_form_across_commands():
    forms: dict[str, set] = {}
    for o in OPTIONS:
        path, opt = o.values
        if opt.is_flag and not (path and path[0] in OTHER_BRANCHES):
            forms.setdefault(opt.opts[0], set()).add(bool(opt.secondary_opts))
    assert not {k: v for k, v in forms.items() if len(v) > 1}


def test_the_walker_fails_on_a_bad_option():
    import click

    bad = click.Option(["--seed"], type=int, default=0, help="")
    with pytest.raises(AssertionError, match="no description"):
        test_every_option_has_a_description_in_one_style([], bad)
    lower = click.Option(["--seed"], type=int, default=0, help="print one JSON object")
    with pytest.raises(AssertionError, match="lower case"):
        test_every_option_has_a_description_in_one_style([], lower)
    single = click.Option(["--compute"], is_flag=True, default=False, help="X.")
    with pytest.raises(AssertionError, match="no --no- pair"):
        test_boolean_settings_come_in_pairs([], single)


def test_accel_help_lists_what_the_readme_says(capsys, monkeypatch):
    """README: `accel --help` shows the command groups; `accel sim sat --help` etc. every
    option with its default (checked above for every command)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("accel --help"))
    assert "the command groups" in line and "every option, its default" in line
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    root = typer.main.get_command(app)
    for name in root.commands:
        assert re.search(rf"│ {re.escape(name)}\s", out), name


def test_small_numbers_are_printed_with_their_digits(tiny_llm_config, capsys, monkeypatch):
    """issue 24: the tiny-llama run printed "energy (J) 0.0": 0.0112 J at one decimal."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["sim", "flightllm", "--model", tiny_llm_config, "--prefill", "16", "--decode", "4"]) == 0
    out = capsys.readouterr().out
    energy = re.search(r"energy \(J\) / tokens per J\s*│\s*([\d.e+-]+) /", out).group(1)
    assert float(energy) > 0 and energy != "0.0"
