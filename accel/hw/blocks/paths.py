"""Where an RTL block's files are: testbenches and committed seeds (read-only, shipped
with accel) and Verilator builds and synthesis results (written, under the user cache).

* ``sim_dir()``: the cocotb benches.  In a wheel the build configuration force-includes
  the top-level ``sim/`` as package data ``accel/_sim``; in a source checkout it is the
  repository's ``sim/`` beside ``accel/``.
* ``rtl_dir()``: committed Yosys caches (``rtl/synth_cache*.json``, read-only seeds):
  ``accel/_rtl`` in a wheel, the repository's ``rtl/`` in a checkout.
* ``cache_root()``: ``$XDG_CACHE_HOME/accel``, else ``~/.cache/accel``; ``build_dir()``
  and ``synth_cache_dir()`` live under it, never in the source tree or the current folder.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import sys
from pathlib import Path

from accel.atomic_write import atomic_write
from accel.errors import AccelError

_PKG = Path(__file__).resolve().parents[2]      # .../accel
_CHECKOUT = _PKG.parent                         # the repository root in a checkout
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _shipped(package_name: str, checkout_name: str) -> Path:
    """``accel/<package_name>`` when installed from a wheel, else ``<repo>/<checkout_name>``."""
    installed = _PKG / package_name
    return installed if installed.is_dir() else _CHECKOUT / checkout_name


def sim_dir() -> Path:
    return _shipped("_sim", "sim")


def rtl_dir() -> Path:
    return _shipped("_rtl", "rtl")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/accel`` (else ``~/.cache/accel``).  Not ``ACCEL_CACHE_DIR``: that
    one moves the workload cache (tests point it at a temporary folder per session);
    Verilator builds cost minutes each and are kept, like the Numba kernels."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accel"


def verilator_root() -> Path:
    """Every block's Verilator builds (what ``accel cache`` lists as ``verilator``)."""
    return cache_root() / "verilator"


def synth_cache_dir() -> Path:
    """Yosys results computed on this machine (what ``accel cache`` lists as ``synth``)."""
    return cache_root() / "synth"


@functools.cache
def _environment() -> tuple[str, str]:
    """This interpreter's environment (its prefix) and the cocotb installation it imports."""
    spec = importlib.util.find_spec("cocotb")
    where = spec.origin if spec and spec.origin else "no-cocotb"
    return os.path.realpath(sys.prefix), os.path.realpath(where)


def toolchain_key() -> str:
    """Which environment a build belongs to: a Verilator build's makefile names files of
    the cocotb installation that made it (``.../cocotb/share/lib/verilator/verilator.cpp``),
    so two virtualenvs (a checkout's and a wheel's, say) must not share one build folder:
    one rebuilding there breaks the other, and a deleted venv breaks every later build."""
    return "env-" + hashlib.sha256("|".join(_environment()).encode()).hexdigest()[:10]


# A build folder names the environment that made it in this file (two lines: the prefix,
# the cocotb module).  Without it a build of a deleted virtualenv cannot be told from a
# live one, and such builds pile up: every fresh clone's test run (CI, ``.ci/run``) makes
# a new venv and so ~5 GB of new builds, which nothing can ever use again.
ENVIRONMENT_FILE = "environment"


def record_environment(bdir: Path) -> None:
    """Write ``bdir/environment`` (what made this build) unless it already says so."""
    text = "\n".join(_environment()) + "\n"
    mark = bdir / ENVIRONMENT_FILE
    try:
        if not mark.is_file() or mark.read_text() != text:
            atomic_write(mark, text)
    except OSError:
        pass   # an unwritable record only means the folder is never pruned


def prune_stale_builds(root: Path | None = None) -> list[Path]:
    """Delete every block's build folders (``verilator/<block>/<config>/env-*``) whose
    recorded environment no longer exists: its prefix or its cocotb module is gone, so
    no process can use the build again (its makefile names the deleted files).  A folder
    without a record is left alone: nothing says whose it is.  Returns what was removed."""
    import shutil

    root = verilator_root() if root is None else root
    removed = []
    for mark in sorted(root.glob(f"*/*/env-*/{ENVIRONMENT_FILE}")):
        try:
            lines = mark.read_text().splitlines()
        except OSError:
            continue
        if len(lines) != 2 or all(os.path.exists(x) for x in lines):
            continue
        shutil.rmtree(mark.parent, ignore_errors=True)
        removed.append(mark.parent)
    return removed


def build_dir(block_name: str, config_hash: str) -> Path:
    """The Verilator build folder of one block configuration in this environment (created
    on use): ``verilator/<block>/<config hash>/<toolchain key>``."""
    for part in (block_name, config_hash):
        if not _SAFE.match(part):
            raise ValueError(f"unsafe build folder name {part!r}")
    return verilator_root() / block_name / config_hash / toolchain_key()


def check_out_dir(out_dir: str | os.PathLike) -> Path:
    """``accel rtl generate --out``: create the folder if needed and prove it writable,
    else one-line AccelError (before anything is generated)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AccelError(f"cannot create output folder {str(out)!r}: {exc.strerror}") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise AccelError(f"output folder {str(out)!r} is not writable")
    return out


def write_outputs(out: Path, files: dict[str, str]) -> dict[str, Path]:
    """Write each ``{file name: text}`` into ``out`` atomically (never half-written)."""
    paths = {}
    for name, text in files.items():
        try:
            paths[name] = atomic_write(out / name, text)
        except OSError as exc:
            raise AccelError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
    return paths
