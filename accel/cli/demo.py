"""`accel demo`: the main job in one command.

Builds the MiniLM-L6 workloads if they are not cached, runs the small versions of the
three built-in sweeps (``workloads/sweeps/*-demo.yaml``), writes ``reports/demo/``
(figures, summary.md, index.html) and prints where to look.
"""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, err_console
from accel.errors import AccelError, Interrupted

DEMO_SPECS = ("sat-minilm-demo", "piuma-rmat-demo", "flightllm-llama2-demo")


def specs_folder() -> Path:
    import accel

    folder = Path(accel.__file__).resolve().parents[1] / "workloads" / "sweeps"
    if not folder.is_dir():
        raise AccelError(f"built-in sweep specs not found at {folder} (run from a source checkout)")
    return folder


def demo(
    out: Path = typer.Option(Path("reports/demo"), "--out", help="Output folder."),
    workers: int = typer.Option(None, "--workers", help="Local worker processes [default: cores]."),
    fresh: bool = typer.Option(False, "--fresh", help="Recompute instead of resuming."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Run the three small built-in sweeps and write reports/demo/."""
    from accel.cli.sweep import run_with_progress
    from accel.files import check_output_dir
    from accel.report import write_report
    from accel.sweep.executors import check_workers
    from accel.sweep.spec import load_spec

    check_workers(workers)   # bad input is exit 2 before any sweep, not three skipped sweeps
    check_output_dir(out, "--out")
    folder = specs_folder()
    out.mkdir(parents=True, exist_ok=True)
    summaries, problems, dbs = [], {}, []
    for name in DEMO_SPECS:
        db = out / f"{name}.sqlite"
        err_console.print(f"[bold]demo[/bold]: {name}")
        try:
            spec = load_spec(folder / f"{name}.yaml")
            s = run_with_progress(spec, db, workers=workers, fresh=fresh)
            summaries.append(s.to_dict())
            dbs.append(db)
        except Interrupted:  # Ctrl-C / SIGTERM stops the demo, it does not skip one sweep
            raise
        except AccelError as exc:  # e.g. a model not installed: report it, run the others
            problems[name] = str(exc)
            err_console.print(f"[red]demo: {name} skipped: {exc}[/red]")
    res = write_report(dbs, out, title="accel demo: SAT, FlightLLM and PIUMA design sweeps") if dbs else {}
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
