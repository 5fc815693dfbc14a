"""`accel sim <machine>` and each machine's own `accel <group> <verb>` commands, built from
their declarations in the machine folders.

Each machine declares its options in its own folder (``accel.arch.registry.CliOption``)
and a ``run(note, **options) -> CliOutput``, ``note`` a ``CliContext`` (called, a status
line; ``note.progress``, a bar); it may also declare further commands
(``Machine.commands``: ``CliCommand``, e.g. ``accel bdwp study``).  This module turns the
options into Typer commands, prints the ``CliOutput`` (rich tables, or one JSON object with
--json), exits with its ``exit_code`` and names no machine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import typer

from accel.arch import registry
from accel.cli.common import (
    announce_first_compile,
    emit_json,
    err_console,
    out_console,
    progress,
)


def _parameter(opt: registry.CliOption) -> inspect.Parameter:
    default = ... if opt.default is registry.REQUIRED else opt.default
    annotation = list[str] if opt.type is list else opt.type
    return inspect.Parameter(opt.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *opt.param_decls(), help=opt.help,
                                                  show_default=opt.shown_default or True))


def _note(as_json: bool) -> Callable[[str], None]:
    # status lines are for people at a terminal; in logs a refused command's stderr
    # is its one `error:` line
    if as_json or not err_console.is_terminal:
        return lambda msg: None
    return lambda msg: err_console.print(f"[bold]{msg}[/]")


def _command(options: tuple[registry.CliOption, ...], run: Callable[..., registry.CliOutput],
             name: str, doc: str):
    """A Typer callback with ``options`` + ``--json`` that calls ``run(as_json, **options)``
    and prints its CliOutput."""

    def command(**kwargs) -> None:
        as_json = kwargs.pop("as_json")
        out = run(as_json, **kwargs)
        if as_json:
            emit_json(out.json)
        else:
            for table in out.tables:
                _print_table(table)
            if out.text:
                out_console.print(out.text)
        if out.exit_code:
            raise typer.Exit(out.exit_code)

    params = [_parameter(o) for o in options]
    params.append(inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                    default=typer.Option(False, "--json",
                                                         help="Print one JSON object.")))
    command.__signature__ = inspect.Signature(params)
    command.__name__ = name
    command.__doc__ = doc
    return command


def _context(as_json: bool) -> registry.CliContext:
    return registry.CliContext(note=_note(as_json),
                               progress=lambda what, total: progress(what, total,
                                                                     enabled=not as_json),
                               as_json=as_json, live=not as_json and err_console.is_terminal)


def build_command(machine: registry.Machine):
    """The Typer callback of ``accel sim <machine.name>``."""

    def run(as_json: bool, **kw) -> registry.CliOutput:
        context = _context(as_json)
        if context.live:   # at a terminal: a first run's compile is said, not a stuck bar
            announce_first_compile(machine.name)
        return machine.cli_module().run(context, **kw)

    return _command(machine.cli_options(), run, f"sim_{machine.name}", machine.summary)


def build_machine_command(cmd: registry.CliCommand):
    """The Typer callback of a machine's own ``accel <group> <verb>``."""

    def run(as_json: bool, **kw) -> registry.CliOutput:
        return cmd.run(_context(as_json), **kw)

    return _command(cmd.options, run, f"{cmd.group}_{cmd.verb}".replace("-", "_"), cmd.help)


def _print_table(table: registry.CliTable) -> None:
    from rich.table import Table

    t = Table(title=table.title)
    for i, col in enumerate(table.columns):
        t.add_column(col, justify="left" if i == 0 and len(table.columns) == 2 else "right")
    for row in table.rows:
        t.add_row(*row)
    out_console.print(t)
    for line in table.notes:
        out_console.print(line)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add `accel sim <name>` for every machine in the registry that declares a CLI."""
    for machine in registry.machines():
        if machine.cli:
            sim_app.command(machine.name, help=machine.summary)(build_command(machine))


def register_machine_commands(app: typer.Typer, taken: set[str]) -> None:
    """Add every machine's own commands (``Machine.commands``) as `accel <group> <verb>`.
    A group may not reuse a word of the CLI's own (``taken``)."""
    groups: dict[str, typer.Typer] = {}
    seen: set[tuple[str, str]] = set()
    for machine in registry.machines():
        for cmd in machine.cli_commands():
            if cmd.group in taken or (cmd.group, cmd.verb) in seen:
                raise RuntimeError(f"machine {machine.name} declares `accel {cmd.group} "
                                   f"{cmd.verb}`, words accel's CLI already uses")
            seen.add((cmd.group, cmd.verb))
            if cmd.group not in groups:
                groups[cmd.group] = typer.Typer(help=cmd.group_help or cmd.help,
                                                no_args_is_help=True)
                app.add_typer(groups[cmd.group], name=cmd.group)
            groups[cmd.group].command(cmd.verb, help=cmd.help)(build_machine_command(cmd))
