"""`accel bdwp accuracy|study`: the algorithm side of SAT + BDWP and its speedup table.

Declarations for ``accel.cli`` (``Machine.commands``); the studies are imported when a
command runs, so ``accel --help`` stays light.
"""

from __future__ import annotations

from accel.arch.registry import CliCommand, CliContext, CliOption, CliOutput, CliTable

GROUP_HELP = "BDWP N:M sparse training: accuracy and SAT speedup study."


def accuracy(ctx: CliContext, seed: int, numerics: str) -> CliOutput:
    from dataclasses import asdict

    from accel.arch.sat.accuracy import NUMERICS, STUDY, train_mlp
    from accel.errors import ConfigError

    chosen = NUMERICS if numerics == "both" else (numerics,)
    if numerics != "both" and numerics not in NUMERICS:
        raise ConfigError(f"--numerics {numerics!r}: expected one of {', '.join(NUMERICS)}, both")
    rows = []
    with ctx.progress("training MLPs", len(STUDY) * len(chosen)) as advance:
        for method, n, m in STUDY:
            for num in chosen:
                rows.append(asdict(train_mlp(method, n, m, seed, numerics=num)))
                advance()
    by = {(r["method"], r["pattern"], r["numerics"]): r["test_accuracy"] for r in rows}
    keys = dict.fromkeys((r["method"], r["pattern"]) for r in rows)
    table = CliTable(f"MLP test accuracy on sklearn load_digits (seed {seed})",
                     ("method", "pattern", *(f"test accuracy ({num})" for num in chosen)),
                     tuple((meth, pat, *(f"{by[meth, pat, num]:.2%}" for num in chosen))
                           for meth, pat in keys),
                     notes=("sat-fp16: every GEMM as SAT's FP16 array computes it (FP16 operands, "
                            "exact sum rounded once to FP32), loss scale 1024",)
                     if "sat-fp16" in chosen else ())
    return CliOutput({"dataset": "sklearn load_digits", "seed": seed, "rows": rows}, (table,))


def study(ctx: CliContext, out: str, accuracy_too: bool) -> CliOutput:
    from accel.arch.sat.study import MODELS, PATTERNS, run_study, write_report
    from accel.files import check_output_dir

    check_output_dir(out, "--out")  # before the minutes of simulation, not after
    with ctx.progress("simulating", len(MODELS) * len(PATTERNS)) as advance:
        res = run_study(advance=advance)
    if accuracy_too:
        from accel.arch.sat.accuracy import accuracy_study

        res["accuracy"] = accuracy_study()
    files = write_report(res, out)
    res["files"] = [str(f) for f in files]
    return CliOutput(res, text=files[0].read_text())


COMMANDS = (
    CliCommand("bdwp", "accuracy", "Test accuracy of a NumPy MLP on load_digits: dense, SR-STE "
               "and BDWP at 2:4 / 2:8.",
               (CliOption("seed", int, 0, "Seed of the weight init, batches and masks."),
                CliOption("numerics", str, "both", "Numerics: float64 (the algorithm), sat-fp16 (every GEMM "
                          "in SAT's FP16 array numerics) or both.")),
               accuracy, GROUP_HELP),
    CliCommand("bdwp", "study", "2:8 and 2:4 speedups of resnet18, resnet50, vit-b16, minilm-l6 "
               "and the ablation.",
               (CliOption("out", str, "reports/sat", "Folder for speedup.md and speedup.csv."),
                CliOption("accuracy_too", bool, True, "Add the load_digits accuracy table.",
                          ("--accuracy/--no-accuracy",))),
               study, GROUP_HELP),
)
