"""The `accel` command line: `accel <noun> <verb>`.

Thin by design: each sub-module parses flags, calls the public API and prints (rich
tables for people, exactly one JSON object with --json).  User errors (AccelError, bad
flags) become exit code 2 with one line on stderr; nothing else is caught.
"""

from __future__ import annotations

import sys

import click
import typer

from accel.errors import AccelError

try:  # Typer >= 0.29 vendors its own copy of click; its exceptions are distinct classes
    from typer._click import exceptions as _tclick
except ImportError:  # pragma: no cover - older Typer uses click itself
    _tclick = click.exceptions

_USAGE = (click.UsageError, _tclick.UsageError)
_NO_ARGS = (click.exceptions.NoArgsIsHelpError, _tclick.NoArgsIsHelpError)
_ABORT = (click.exceptions.Abort, typer.Abort)
_EXIT = (click.exceptions.Exit, typer.Exit)


app = typer.Typer(
    name="accel",
    help="Sparse accelerator co-design workbench: models, RTL, sweeps, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("accel")
        except PackageNotFoundError:  # a source tree on PYTHONPATH, not installed
            v = "unknown (not installed)"
        typer.echo(f"accel {v}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                       help="Print the installed version and exit.")) -> None:
    """Sparse accelerator co-design workbench: models, RTL, sweeps, reports."""


sim_app = typer.Typer(help="Run a machine model on a workload.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")

# Each module registers its commands on `app` (or `sim_app`; `sim` adds one command per
# machine in accel.arch.registry).  Kept as an explicit list
# so `accel --help` is the same on every machine and import errors are loud.
from accel.cli import (  # noqa: E402
    bdwp,
    cache,
    demo,
    flightllm,
    report,
    rtl,
    sim,
    sweep,
    workload,
)

for _mod in (workload, sim, flightllm, bdwp, rtl, sweep, report, demo, cache):
    _mod.register(app, sim_app)


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except AccelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except _NO_ARGS as exc:
        exc.show()
        return 0
    except _USAGE as exc:
        # one line, not click's usage block: what was wrong and with which value
        print(f"error: {exc.format_message().splitlines()[0]}", file=sys.stderr)
        return 2
    except _ABORT:
        print("error: aborted", file=sys.stderr)
        return 130
    except _EXIT as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


def entry() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
