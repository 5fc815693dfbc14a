"""`accel demo`: the main job in one command.

Runs the small sweep every registered machine declares (its ``demo_spec`` under
``workloads/sweeps/``, or the wheel's copy, found by ``accel.resources``; workloads are
built if not cached), writes ``reports/demo/`` (figures, summary.md, index.html) and
prints where to look.
"""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, err_console
from accel.errors import AccelError, Interrupted


def demo_specs() -> list[tuple[str, str]]:
    """(machine, spec name) of every registered machine that declares a demo sweep."""
    from accel.arch import registry

    return [(m.name, m.demo_spec) for m in registry.machines() if m.demo_spec]


def demo(
    out: Path = typer.Option(Path("reports/demo"), "--out", help="Output folder."),
    workers: int = typer.Option(None, "--workers", help="Local worker processes [default: cores]."),
    fresh: bool = typer.Option(False, "--fresh", help="Recompute instead of resuming."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Run each machine's small built-in sweep and write reports/demo/."""
    from accel.cli.sweep import run_with_progress
    from accel.files import check_output_dir
    from accel.report import write_report
    from accel.resources import spec_path, specs_dir
    from accel.sweep.executors import check_workers
    from accel.sweep.spec import load_spec

    check_workers(workers)   # bad input is exit 2 before any sweep, not three skipped sweeps
    check_output_dir(out, "--out")
    specs_dir()              # a broken install is one error, not every sweep skipped
    out.mkdir(parents=True, exist_ok=True)
    summaries, problems, dbs = [], {}, []
    specs = demo_specs()
    for _machine, name in specs:
        db = out / f"{name}.sqlite"
        err_console.print(f"[bold]demo[/bold]: {name}")
        try:
            spec = load_spec(spec_path(name))
            s = run_with_progress(spec, db, workers=workers, fresh=fresh)
            summaries.append(s.to_dict())
            dbs.append(db)
        except Interrupted:  # Ctrl-C / SIGTERM stops the demo, it does not skip one sweep
            raise
        except AccelError as exc:  # e.g. a model not installed: report it, run the others
            problems[name] = str(exc)
            err_console.print(f"[red]demo: {name} skipped: {exc}[/red]")
    res = write_report(dbs, out, title=f"accel demo: {', '.join(m for m, _ in specs)} design sweeps") if dbs else {}
    if json_out:
        emit_json({"out": str(out), "sweeps": summaries, "skipped": problems, "report": res})
    else:
        for s in summaries:
            typer.echo(f"{s['spec']}: {s['rows']} design points ({s['computed']} evaluated now, "
                       f"{s['failed']} failed) -> {s['db']}")
        if res:
            typer.echo(f"report: {res['summary']}  (figures and {res['index']} in {out}/)")
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.command("demo")(demo)
