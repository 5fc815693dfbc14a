"""The `accel` command line: `accel <noun> <verb>`.

Thin by design: each sub-module parses flags, calls the public API and prints (rich
tables for people, exactly one JSON object with --json).  User errors (AccelError, bad
flags, unreadable or unwritable paths, inputs too large to hold) become exit code 2
with one line on stderr; see ``main`` for the other exit codes.
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
    cache,
    demo,
    design,
    device,
    report,
    rtl,
    sim,
    sweep,
    workload,
)

for _mod in (workload, sim, rtl, sweep, report, design, demo, cache, device):
    _mod.register(app, sim_app)
# then the machines' own commands (`accel <group> <verb>`, Machine.commands: studies,
# validations), declared in their folders; a group may not take a word used above
sim.register_machine_commands(
    app, {g.name for g in app.registered_groups} | {c.name for c in app.registered_commands})


# --- numbers from the command line: one check for every command -------------------------
def _check_number(name: str, value) -> None:
    from accel.configs import check_number

    check_number(name, value, "--" + name.rstrip("_").replace("_", "-"))


def _guarded(callback):
    """The command, with every numeric argument checked first (finite; integers bounded;
    seeds non-negative), so no command can be handed NaN or 10^30 by its flags."""
    import functools

    @functools.wraps(callback)
    def run(*args, **kwargs):
        for name, value in kwargs.items():
            _check_number(name, value)
        return callback(*args, **kwargs)

    return run


def _guard_all(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_accel_guarded", False):
            info.callback = _guarded(info.callback)
            info.callback._accel_guarded = True
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _guard_all(group.typer_instance)


_guard_all(app)


def _one_line(text: str, limit: int = 400) -> str:
    """First line of a message, bounded: an error is one line whatever it quotes."""
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    line = lines[0].strip() if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _os_message(exc: OSError) -> str:
    what = exc.strerror or type(exc).__name__
    where = f": {exc.filename}" if exc.filename else ""
    return f"{what}{where}"


# Modules inside which an exception must not be raised from a signal handler: Numba's
# compiler calls back from LLVM through ctypes, and an exception raised in that callback
# is dropped by ctypes and leaves LLVM's state broken (a SIGTERM during a first-run
# compile ended in a segfault).  The signal is delivered again once the compile is left.
_NO_RAISE_MODULES = ("llvmlite", "numba")
_REDELIVER_S = 0.05


def _inside(frame, prefixes) -> bool:
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.split(".", 1)[0] in prefixes:
            return True
        frame = frame.f_back
    return False


def _on_signal(signum, frame):  # pragma: no cover - exercised by subprocess tests
    from accel.errors import Stop

    if _inside(frame, _NO_RAISE_MODULES):
        import os
        import threading

        timer = threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    raise Stop(signum)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the return value is the exit code (0 ok, 1 failed check, 2 bad input,
    130/143 interrupted).  Anything a user can cause ends as one ``error:`` line."""
    import signal
    import threading

    from accel.errors import Interrupted, Stop

    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, _on_signal)
    try:
        rv = app(args=argv, standalone_mode=False)
        return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    except AccelError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except _NO_ARGS as exc:
        exc.show()
        return 0
    except _USAGE as exc:
        # one line, not click's usage block: what was wrong and with which value
        print(f"error: {_one_line(exc.format_message())}", file=sys.stderr)
        return 2
    except _ABORT:
        print("error: aborted", file=sys.stderr)
        return 130
    except _EXIT as exc:
        return exc.exit_code
    except Stop as exc:
        print(f"error: {'terminated (SIGTERM)' if exc.signum == 15 else 'interrupted'}",
              file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Interrupted as exc:  # pragma: no cover - AccelError above catches it first
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except MemoryError:
        print("error: out of memory: the input is larger than this machine can hold",
              file=sys.stderr)
        return 2
    except RecursionError:
        print("error: input nested too deeply", file=sys.stderr)
        return 2
    except UnicodeError as exc:  # e.g. a non-UTF-8 file name printed to a strict stream
        print(f"error: cannot encode or decode text ({type(exc).__name__}: {exc.reason})",
              file=sys.stderr)
        return 2
    except OSError as exc:  # read-only or full disk, permissions: the environment, not accel
        print(f"error: {_one_line(_os_message(exc))}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def entry() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
