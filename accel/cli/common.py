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
from rich.measure import Measurement
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
from rich.table import Table
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
    """Items per second since the bar started, for design points and tiles.

    rich's own ``task.speed`` is a short moving window: a sweep whose chunks all finish
    at the end showed ``56.1/s`` for a run that averaged 0.5 points/s.  This is completed
    / elapsed, the rate a user can multiply by time."""

    def render(self, task):
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text("    -.-/s", style="cyan")
        return Text(f"{task.completed / elapsed:7.2f}/s", style="cyan")


class WideConsole(SafeConsole):
    """A console that prints tables at their natural width.

    Rich fits a table to the console by wrapping or cutting cells, and a console whose
    output is piped is 80 columns wide: numbers came out as ``292.…``.  A table wider than
    the console is printed at its own width instead (a terminal folds the long lines)."""

    def print(self, *objects, **kwargs):
        if "width" not in kwargs and any(isinstance(o, Table) for o in objects):
            from rich.errors import MarkupError

            try:
                need = max(Measurement.get(self, self.options.update(max_width=1000), o).maximum
                           for o in objects if isinstance(o, Table))
            except MarkupError:  # cells with markup-like text: SafeConsole prints them plain
                need = 0
            if need > self.width:  # print's own width= is capped at the console's width
                saved, self._width = self._width, need
                try:
                    return super().print(*objects, **kwargs)
                finally:
                    self._width = saved
        return super().print(*objects, **kwargs)


out_console = WideConsole()


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


def numba_cache_dir() -> str:
    from accel.arch._numba_cache import cache_root

    return str(cache_root())


def kernels_cached(machine: str) -> bool:
    """False on the first run of ``machine``: none of its model's kernel modules has a
    compiled kernel in the Numba cache for its current source key
    (``accel.arch._numba_cache``: ``<root>/<source key>/<machine folder>``).  A machine
    whose model lives outside ``accel/arch`` (tests' toy machine) counts as cached.  Any
    one compiled kernel counts: a run compiles the kernels it needs, not all of them."""
    import importlib.util
    from pathlib import Path

    from accel.arch._numba_cache import ARCH_ROOT, package_compiled
    from accel.arch.registry import get
    from accel.errors import AccelError

    try:
        spec = importlib.util.find_spec(get(machine).model.partition(":")[0])
        folder = Path(spec.origin).resolve().parent   # the folder of the machine's model
        folder.relative_to(ARCH_ROOT)
    except (ImportError, AttributeError, ValueError, TypeError, AccelError):
        return True
    return package_compiled(folder)


def announce_first_compile(machine: str) -> None:
    """Say so on stderr when ``machine``'s kernels are not compiled yet: its first run
    compiles them (PIUMA ~10 s, SAT ~2 s), during which a bar would sit at 0 %."""
    if kernels_cached(machine):
        return
    from accel.arch.registry import get
    from accel.errors import AccelError

    try:    # only a machine that declares a warm-up has one for `accel cache warm` to run
        ahead = "; `accel cache warm` compiles them ahead" if get(machine).warm else ""
    except AccelError:
        ahead = ""
    err_console.print(f"[yellow]{machine}: compiling simulation kernels, first run only (cached "
                      f"in {numba_cache_dir()}{ahead})...[/yellow]", soft_wrap=True)


# Every CLI module imports this one, so the help style applies to the whole `accel` tree.
from accel.cli import help_style  # noqa: E402

help_style.install()
