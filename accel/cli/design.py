"""`accel design build`: one design of a sweep (or a design file, or a preset) -> a checked
build folder with its Verilog, co-simulation, resources and design sheet."""

from __future__ import annotations

from pathlib import Path

import typer

from accel.cli.common import emit_json, err_console
from accel.errors import AccelError


def build(
    source: str = typer.Argument(None, metavar="STORE_OR_SPEC",
                                 help="A sweep store (.sqlite), its folder, its spec YAML, or a "
                                      "design.yaml of an earlier build."),
    design: str = typer.Option(None, "--design", metavar="N|KEY",
                               help="Number in the report's Pareto table, or a point key (or "
                                    "a prefix of >= 6 of its hex digits; digits that start a "
                                    "key name it).",
                               show_default="required with a sweep store"),
    out: Path = typer.Option(..., "--out", help="Output folder (new, or an earlier build)."),
    spec: str = typer.Option(None, "--spec", help="Spec name, when the store holds several.",
                             show_default="the store's only spec"),
    preset: str = typer.Option(None, "--preset", help="Build a machine preset instead of a "
                               "sweep design, e.g. sat-vcu1525.", show_default="off"),
    workload: str = typer.Option("minilm-l6", "--workload", help="Workload of a --preset build."),
    prune: str = typer.Option(None, "--prune", help="Prune pattern of a --preset build.",
                              show_default="bdwp:2:8"),
    tiles: int = typer.Option(2, "--tiles", help="Tiles co-simulated per phase "
                              "(fwd, bwd_data, bwd_weight)."),
    stalls: bool = typer.Option(True, "--stalls/--no-stalls", help="Also run random "
                                "valid/ready stalls and a reset."),
    cosim_array: str = typer.Option(None, "--cosim-array", metavar="RxC",
                                    help="Co-simulate a smaller twin (same dtype, N, M, "
                                         "pipelining) on the design's tiles; the sheet says so.",
                                    show_default="the design's own size"),
    synth: bool = typer.Option(True, "--synth/--no-synth", help="Yosys synthesis of a small "
                               "twin (cached when built before)."),
    synth_max_pes: int = typer.Option(16, "--synth-max-pes", help="PE budget of a new Yosys "
                                      "run when the cache has no twin (4x4 FP16: 1-2 minutes)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the random stalls."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Verilog, Verilator co-simulation of the design's own tiles, resources against its
    device, and a design sheet (design.md, design.html) in --out."""
    from accel.report.design import build as B
    from accel.report.design.select import choose

    meta = None
    if preset is not None:
        if source is not None or design is not None:
            raise AccelError("--preset builds a preset: drop STORE_OR_SPEC and --design")
        choice = B.from_preset(preset, workload, prune)
    elif source is None:
        raise AccelError("name a sweep store, spec or design.yaml (or pass --preset)")
    elif B.is_design_file(Path(source)):
        if design is not None:
            raise AccelError("a design.yaml is one design: drop --design")
        choice = B.from_file(Path(source))
    else:
        if design is None:
            raise AccelError("--design N (the report's Pareto table number) or a point key is "
                             "needed with a sweep store")
        choice = choose(source, design, spec)
        meta = _spec_meta(choice)

    def note(text: str) -> None:
        err_console.print(f"[bold]design[/bold]: {text}", markup=True, highlight=False,
                          soft_wrap=True)

    res = B.build(choice, out, tiles=tiles, stalls=stalls, cosim_array=cosim_array, synth=synth,
                  synth_max_pes=synth_max_pes, seed=seed, note=note, spec_meta=meta)
    if json_out:
        emit_json(res)
    else:
        from accel.report.design.sheet import verdict

        c = res["cosim"]
        typer.echo(f"{res['design']}: {c['tiles']} tiles co-simulated, "
                   f"{c['output_mismatches']} output and {c['cycle_mismatches']} cycle "
                   f"mismatches; {verdict(res).replace('**', '')}")
        typer.echo(f"sheet: {out / 'design.md'} and {out / 'design.html'}")
    if not res["ok"]:
        typer.echo(f"error: co-simulation mismatch: {res['mismatch']}", err=True)  # one line
        raise typer.Exit(1)


def _spec_meta(choice) -> dict | None:
    from accel.sweep.store import Store

    with Store(choice.source["store"], readonly=True) as st:
        return st.specs().get(choice.source["spec"])


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    design_app = typer.Typer(help="From a sweep design to a checked build: Verilog, "
                                  "co-simulation, resources, design sheet.",
                             no_args_is_help=True)
    design_app.command("build")(build)
    app.add_typer(design_app, name="design")
