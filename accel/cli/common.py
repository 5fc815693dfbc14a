"""Helpers shared by the CLI modules: JSON output, progress bars on stderr."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class SafeConsole(Console):
    """A rich Console that never fails on text it did not write: a path, op name or
    provenance value containing ``[/x]`` is rich markup, and a MarkupError after the
    work is done would be a traceback.  On such an error the same objects are printed
    again with markup off."""

    def print(self, *objects, **kwargs):  # noqa: A003 - rich's name
        from rich.errors import MarkupError

        try:
            super().print(*objects, **kwargs)
        except MarkupError:
            saved = self._markup
            self._markup = False
            try:
                super().print(*objects, **{**kwargs, "markup": False})
            finally:
                self._markup = saved


err_console = SafeConsole(stderr=True)


class RateColumn(ProgressColumn):
    """Items per second, for design points and tiles (rich only ships a bytes/s column)."""

    def render(self, task):
        speed = task.finished_speed or task.speed
        return Text("  -.-/s" if speed is None else f"{speed:7.1f}/s", style="cyan")
out_console = SafeConsole()


def _default(o: Any):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite(obj: Any) -> Any:
    """NaN/inf become null: JSON has no NaN, and a bare ``NaN`` breaks every parser but
    Python's.  (Validation keeps NaN out of inputs; this is the last line for outputs.)"""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite(obj.tolist())
    return obj


def to_json(obj: Any) -> str:
    return json.dumps(_finite(obj), default=_default, indent=None, allow_nan=False)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(description: str, total: int | None, enabled: bool = True) -> Iterator:
    """A rich progress bar on stderr with rate and ETA; yields an ``advance(n=1)`` callable."""
    if not enabled or not err_console.is_terminal:  # bars are for people, not for logs
        yield lambda n=1: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), RateColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False) as prog:
        task = prog.add_task(description, total=total)
        try:
            yield lambda n=1: prog.advance(task, n)
        except BaseException:
            # a failed command's bar vanishes: its stderr is the one `error:` line
            prog.live.transient = True
            raise


def track(items: Iterable, description: str, total: int | None = None) -> Iterator:
    items = list(items) if total is None else items
    total = len(items) if total is None else total
    with progress(description, total) as advance:
        for it in items:
            yield it
            advance()
