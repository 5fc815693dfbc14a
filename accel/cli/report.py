"""CLI commands (placeholder: filled in by the issue that owns this noun)."""

import typer


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add this module's commands to the root app or the `accel sim` group."""
