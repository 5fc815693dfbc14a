"""`accel bdwp accuracy|study`: the algorithm side of SAT + BDWP and its speedup table."""

from __future__ import annotations

import typer

from accel.cli.common import emit_json, out_console, progress

bdwp_app = typer.Typer(help="BDWP N:M sparse training: accuracy and SAT speedup study.",
                       no_args_is_help=True)


@bdwp_app.command("accuracy")
def accuracy(seed: int = typer.Option(0, "--seed", help="Seed of the weight init, batches and masks."),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Test accuracy of a NumPy MLP on load_digits: dense, SR-STE and BDWP at 2:4 / 2:8."""
    from accel.arch.sat.accuracy import STUDY, train_mlp

    rows = []
    with progress("training MLPs", len(STUDY), enabled=not as_json) as advance:
        for meth, n, m in STUDY:
            from dataclasses import asdict

            rows.append(asdict(train_mlp(meth, n, m, seed)))
            advance()
    if as_json:
        emit_json({"dataset": "sklearn load_digits", "seed": seed, "rows": rows})
        return
    from rich.table import Table

    t = Table(title=f"MLP test accuracy on sklearn load_digits (seed {seed})")
    for col, just in (("method", "left"), ("pattern", "left"), ("test accuracy", "right")):
        t.add_column(col, justify=just)
    for r in rows:
        t.add_row(r["method"], r["pattern"], f"{r['test_accuracy']:.2%}")
    out_console.print(t)


@bdwp_app.command("study")
def study(out: str = typer.Option("reports/sat", "--out", help="folder for speedup.md/.csv"),
          accuracy_too: bool = typer.Option(True, "--accuracy/--no-accuracy",
                                            help="add the load_digits accuracy table"),
          as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """2:8 and 2:4 speedups of resnet18, resnet50, vit-b16, minilm-l6 and the ablation."""
    from accel.arch.sat.study import MODELS, PATTERNS, run_study, write_report
    from accel.files import check_output_dir

    check_output_dir(out, "--out")  # before the minutes of simulation, not after
    with progress("simulating", len(MODELS) * len(PATTERNS), enabled=not as_json) as advance:
        res = run_study(advance=advance)
    if accuracy_too:
        from accel.arch.sat.accuracy import accuracy_study

        res["accuracy"] = accuracy_study()
    files = write_report(res, out)
    res["files"] = [str(f) for f in files]
    if as_json:
        emit_json(res)
        return
    out_console.print((files[0]).read_text())


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.add_typer(bdwp_app, name="bdwp")
