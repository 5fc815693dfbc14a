"""`accel device list|show`: the device catalogue (accel.devices), with each figure's source."""

from __future__ import annotations

import typer

from accel.cli.common import emit_json, out_console

device_app = typer.Typer(help="The FPGA parts the machines target: resources and their sources.",
                         no_args_is_help=True)


@device_app.command("list")
def list_devices(json_out: bool = typer.Option(False, "--json", help="Print one JSON object.")
                 ) -> None:
    """List every device of the catalogue with its resource counts."""
    from rich.table import Table

    from accel import devices

    devs = [devices.get(n) for n in devices.names()]
    if json_out:
        emit_json({"devices": [d.to_dict() for d in devs]})
        return
    t = Table(title="device catalogue (accel device show NAME: the source of every figure)")
    for col in ("device", "board", "family", *devices.RESOURCES, "off-chip memory"):
        t.add_column(col, justify="right" if col in devices.RESOURCES else "left",
                     overflow="fold")
    for d in devs:
        mem = ", ".join(_memory(m) for m in d.memory)
        t.add_row(d.name, d.board, d.family,
                  *(f"{d.resources[r]:,}" if r in d.resources else "not listed"
                    for r in devices.RESOURCES), mem)
    out_console.print(t)


@device_app.command("show")
def show(name: str = typer.Argument(..., help="Device name (accel device list)."),
         json_out: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """One device: every resource count with the document it comes from."""
    from accel import devices

    d = devices.get(name)
    if json_out:
        emit_json(d.to_dict())
        return
    typer.echo(f"{d.name}: {d.part} on {d.board} ({d.family}, {d.dsp_kind})")
    for r in devices.RESOURCES:
        if r in d.resources:
            typer.echo(f"  {r:7s} {d.resources[r]:>10,}  {d.sources[r]}")
        else:
            typer.echo(f"  {r:7s} {'not listed':>10}  (not in the catalogue: see accel/data/devices.yaml)")
    for m in d.memory:
        typer.echo(f"  memory  {_memory(m)}  {m.source}")


def _memory(m) -> str:
    parts = [m.kind]
    if m.gbytes is not None:
        parts.append(f"{m.gbytes:g} GB")
    if m.channels is not None:
        parts.append(f"{m.channels} ch")
    if m.gbps is not None:
        parts.append(f"{m.gbps:g} GB/s")
    return " ".join(parts)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.add_typer(device_app, name="device")
