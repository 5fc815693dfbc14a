"""`accel sim <machine>`: one command per registered machine, built from its declaration.

Each machine declares its options in its own folder (``accel.arch.registry.CliOption``)
and a ``run(note, **options) -> CliOutput``; this module turns the options into a Typer
command, prints the ``CliOutput`` (rich tables, or one JSON object with --json) and
names no machine.
"""

from __future__ import annotations

import inspect

import typer

from accel.arch import registry
from accel.cli.common import emit_json, err_console, out_console


def _parameter(opt: registry.CliOption) -> inspect.Parameter:
    default = ... if opt.default is registry.REQUIRED else opt.default
    annotation = list[str] if opt.type is list else opt.type
    return inspect.Parameter(opt.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *opt.param_decls(), help=opt.help,
                                                  show_default=opt.shown_default or True))


def build_command(machine: registry.Machine):
    """The Typer callback of ``accel sim <machine.name>``."""
    options = machine.cli_options()

    def command(**kwargs) -> None:
        as_json = kwargs.pop("as_json")
        # status lines are for people at a terminal; in logs a refused command's stderr
        # is its one `error:` line
        quiet = as_json or not err_console.is_terminal
        note = (lambda msg: None) if quiet else (lambda msg: err_console.print(f"[bold]{msg}[/]"))
        out = machine.cli_module().run(note, **kwargs)
        if as_json:
            emit_json(out.json)
            return
        for table in out.tables:
            _print_table(table)

    params = [_parameter(o) for o in options]
    params.append(inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                    default=typer.Option(False, "--json",
                                                         help="Print one JSON object.")))
    command.__signature__ = inspect.Signature(params)
    command.__name__ = f"sim_{machine.name}"
    command.__doc__ = machine.summary
    return command


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
