"""`accel sweep SPEC.yaml` (run / resume a design-space sweep) and `accel sweep export`."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click
import typer
from typer.core import TyperGroup

from accel.cli.common import announce_first_compile, emit_json, err_console, progress
from accel.errors import AccelError

# = accel.sweep.executors.DEFAULT_POINT_TIMEOUT, repeated so `accel --help` need not
# import the sweep package (pandas); tests/robustness checks the two agree
DEFAULT_POINT_TIMEOUT = 600.0


class _DefaultRunGroup(TyperGroup):
    """`accel sweep SPEC` means `accel sweep run SPEC`; `accel sweep export DB` is a verb."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


sweep_app = typer.Typer(cls=_DefaultRunGroup, no_args_is_help=True,
                        help="Design-space sweeps: `accel sweep SPEC.yaml` (short for `accel sweep run SPEC.yaml`) runs or resumes a spec; `accel sweep export DB` exports a store.")


def run_with_progress(sp, db, quiet: bool = False, **kwargs):
    """run_sweep with a rich bar on stderr sized to the points still to do (N of N: the
    first point, which compiles or loads the kernels, is one of them).  When the
    machine's kernels are not compiled yet that is announced, so a slow first minute is
    explained; the summary's rate leaves that first point out."""
    from accel.sweep.runner import run_sweep

    def on_warmup(machine: str) -> None:
        if not quiet:
            announce_first_compile(machine)

    with ExitStack() as stack:
        box: dict = {}

        def on_total(n: int) -> None:
            box["advance"] = stack.enter_context(
                progress(f"sweep {sp.name}", n, enabled=not quiet and n > 0))

        def on_progress(n: int) -> None:
            box["advance"](n)

        if not quiet and err_console.is_terminal:  # a status line for people, not for logs
            err_console.print(f"[dim]sweep {sp.name}: resolving workloads and design points...[/dim]")
        summary = run_sweep(sp, db, on_total=on_total, on_progress=on_progress,
                            on_warmup=on_warmup, **kwargs)
    if not quiet and summary.warmup_seconds >= 2.0:
        err_console.print(f"[dim]sweep {sp.name}: first point (kernel compile or load) took "
                          f"{summary.warmup_seconds:.1f} s, kept out of the rate[/dim]", soft_wrap=True)
    return summary


@sweep_app.command("run")
def run(
    spec: Path = typer.Argument(..., help="Sweep spec YAML (e.g. one of workloads/sweeps/*.yaml)."),
    db: Path = typer.Option(None, "--db", help="SQLite store file (instead of --out).",
                            show_default="OUT/results.sqlite"),
    out: Path = typer.Option(None, "--out", help="Folder of the store, OUT/results.sqlite; the "
                             "run writes nothing else.", show_default="reports/<spec name>"),
    workers: int = typer.Option(None, "--workers", help="Local worker processes [default: cores]."),
    scheduler: str = typer.Option(None, "--scheduler", help="Run on a Dask cluster: tcp://HOST:PORT.", show_default="local processes"),
    dask_local: int = typer.Option(None, "--dask-local", help="Start a Dask LocalCluster with N workers on 127.0.0.1.", show_default="off"),
    fresh: bool = typer.Option(False, "--fresh", help="Discard the store's results and start over."),
    point_timeout: float = typer.Option(
        DEFAULT_POINT_TIMEOUT, "--point-timeout",
        help="Seconds one design point may run before its worker is replaced and the point "
             "recorded failed."),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="On resume, evaluate failed points again."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Run (or resume) the sweep in SPEC; finished points in the store are skipped."""
    from accel.sweep.spec import load_spec

    if db is not None and out is not None:
        raise AccelError("use either --db FILE or --out DIR, not both")
    sp = load_spec(spec)
    if out is not None:
        db = out / "results.sqlite"
    summary = run_with_progress(sp, db, quiet=quiet, workers=workers, scheduler=scheduler,
                                dask_local=dask_local, fresh=fresh, point_timeout=point_timeout,
                                retry_failed=retry_failed)
    if json_out:
        emit_json(summary.to_dict())
        return
    s = summary
    if s.discarded:
        typer.echo(f"--fresh: discarded the {s.discarded:,} rows {s.db} held")
    if s.computed == 0:
        typer.echo(f"{s.spec}: all {s.rows} design points already done in {s.db}; nothing to do "
                   f"(--fresh to start over)")
        return
    typer.echo(f"{s.spec}: {s.computed:,} design points evaluated ({s.failed:,} failed), "
               f"{s.already_done:,} already done; first point {s.warmup_seconds:.1f} s (kernels), "
               f"the rest in {s.seconds:.1f} s on {s.workers} {s.executor} workers: "
               f"{s.rate:.2f} design points/s")
    if s.infeasible:
        typer.echo(f"{s.infeasible:,} of them do not fit the spec's device (stored, marked "
                   "feasible = 0; the report leaves them out of every front)")
    if s.strategy != "grid":
        typer.echo(f"{s.strategy} search: {s.points:,} points proposed, {s.computed + s.already_done:,} "
                   f"evaluated in all (repeats and constraint violations cost nothing)")
    typer.echo(f"store: {s.db}   report: accel report {s.db} --out {Path(s.db).parent}")


@sweep_app.command("export")
def export_cmd(
    db: Path = typer.Argument(..., help="Sweep store (results.sqlite)."),
    fmt: str = typer.Option("csv", "--format", help="Format: csv or parquet."),
    out: Path = typer.Option(..., "--out", help="Output file."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Export every row of a store (params and metrics as columns) to CSV or Parquet."""
    from accel.sweep.store import export

    n = export(db, out, fmt)
    if json_out:
        emit_json({"db": str(db), "out": str(out), "format": fmt, "rows": n})
    else:
        typer.echo(f"wrote {n} rows to {out}")


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.add_typer(sweep_app, name="sweep")
