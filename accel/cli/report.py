"""`accel report DB... --out DIR`: figures, summary.md and index.html from sweep stores."""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json


def report(
    dbs: list[Path] = typer.Argument(..., help="One or more sweep stores (results.sqlite)."),
    out: Path = typer.Option(None, "--out", help="Output folder [default: the first store's folder]."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write Pareto, speedup-vs-N:M, sensitivity and per-machine figures plus a summary."""
    from accel.files import check_output_dir
    from accel.report import write_report
    from accel.sweep.store import Store, check_rows

    for db in dbs:  # every store readable (read-only, rows intact) before any output exists
        with Store(db, readonly=True) as st:
            check_rows(st)
    target = out if out is not None else dbs[0].parent
    check_output_dir(target, "--out")
    res = write_report(dbs, target)
    if json_out:
        emit_json(res)
        return
    typer.echo(f"wrote {len(res['figures'])} figures, {res['summary']} and {res['index']}")


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.command("report")(report)
