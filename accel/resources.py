"""Where the files accel reads at run time are: in a source checkout or in an installed wheel.

The design fixes the top-level layout of a checkout (``sim/``, ``workloads/sweeps/``,
``rtl/`` beside ``accel/``).  The wheel carries the same folders inside the package
(pyproject.toml's force-include mapping):

    checkout               wheel (site-packages)
    sim/                   accel/_sim/      cocotb benches
    workloads/sweeps/      accel/_specs/    built-in sweep specs (``accel demo``)
    rtl/                   accel/_rtl/      committed Yosys caches, reference Verilog

Every caller asks this module, so nothing else guesses ``parents[2]``.  The packaged
folder wins when both exist: an installed wheel is never mixed with a checkout it
happens to sit beside.  These folders are read-only inputs: nothing writes into them
(builds and caches go under the user cache, outputs where ``--out`` says).

Base layer (beside ``accel.errors``): arch, hw and cli may all import it.
"""

from __future__ import annotations

from pathlib import Path

from accel.errors import AccelError

PKG_ROOT = Path(__file__).resolve().parent      # the `accel` package
CHECKOUT_ROOT = PKG_ROOT.parent                 # the source tree, when accel runs from one

# name -> (folder inside the package in a wheel, folder in a source checkout)
FOLDERS: dict[str, tuple[str, str]] = {
    "sim": ("_sim", "sim"),
    "specs": ("_specs", "workloads/sweeps"),
    "rtl": ("_rtl", "rtl"),
}


def folder(name: str) -> Path:
    """The folder ``name`` (a key of FOLDERS): the packaged copy, else the checkout's."""
    if name not in FOLDERS:
        raise AccelError(f"unknown resource folder {name!r}; known: {', '.join(FOLDERS)}")
    packaged, checkout = FOLDERS[name]
    for cand in (PKG_ROOT / packaged, CHECKOUT_ROOT / checkout):
        if cand.is_dir():
            return cand
    raise AccelError(f"accel's {checkout}/ files are missing (looked in {PKG_ROOT / packaged} "
                     f"and {CHECKOUT_ROOT / checkout}); reinstall accel or run from a checkout")


def specs_dir() -> Path:
    """The built-in sweep specs (``<name>.yaml``)."""
    return folder("specs")


def spec_path(name: str) -> Path:
    """The built-in sweep spec ``name`` (without ``.yaml``)."""
    path = specs_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in specs_dir().glob("*.yaml"))
        raise AccelError(f"no built-in sweep spec {name!r}; known: {', '.join(known)}")
    return path


def sim_dir() -> Path:
    """The cocotb benches (put on ``sys.path`` / the runner's ``test_dir`` by accel.hw)."""
    return folder("sim")


def rtl_dir() -> Path:
    """The committed synthesis caches and reference Verilog (read-only: a fresh synthesis
    result goes to the user cache, not here)."""
    return folder("rtl")

