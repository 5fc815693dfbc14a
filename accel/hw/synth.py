"""FPGA resource counts from Yosys ``synth_xilinx -family xcup`` (UltraScale+, as the
VCU1525/XCVU9P and U280 boards of SAT and FlightLLM), cached by configuration hash.

Shared by every RTL block.  Two layers of cache, one key space per file name:

* the committed seeds ``rtl/<name>.json`` (``accel/_rtl`` in a wheel): read-only, they
  ship with accel so the resource models and the tests never re-run Yosys;
* the user cache ``<cache_root>/synth/<name>.json``: every new result (and every
  ``accel rtl synth --force``) is written there, never into the package or the tree.

:func:`load_cache` reads both (a user entry replaces a seed of the same key).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from accel.atomic_write import atomic_write
from accel.errors import ToolchainError
from accel.hw.blocks.paths import rtl_dir, synth_cache_dir
from accel.hw.depth import blif_depth
from accel.hw.toolchain import yosys_command

FAMILY = "xcup"   # UltraScale+ primitives: LUT6, FDRE, CARRY8, DSP48E2, RAMB36E2
SYNTH_TIMEOUT_S = 3600

# Xilinx primitive -> reported resource class
_CLASSES = {
    "LUT": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
    "FF": ("FDRE", "FDSE", "FDCE", "FDPE"),
    "CARRY": ("CARRY4", "CARRY8"),
    "DSP48E2": ("DSP48E2",),
    "BRAM": ("RAMB18E2", "RAMB36E2"),
    "LUTRAM": ("RAM32M", "RAM64M", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM256X1D",
               "RAM32M16", "RAM64M8", "SRL16E", "SRLC32E"),
    "MUXF": ("MUXF7", "MUXF8", "MUXF9"),
}


def classify(cells: dict[str, int]) -> dict[str, int]:
    out = {k: sum(int(cells.get(c, 0)) for c in prims) for k, prims in _CLASSES.items()}
    out["cells_total"] = int(sum(cells.values()))
    return out


def _read(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):     # a damaged user cache is rebuilt, never fatal
        return {}


def seed_path(name: str) -> Path:
    return rtl_dir() / name


def user_path(name: str) -> Path:
    return synth_cache_dir() / name


def load_cache(name: str, seeds_only: bool = False) -> dict:
    """Entries of cache file ``name`` (e.g. ``synth_cache.json``): the committed seeds,
    then (unless ``seeds_only``) this machine's results over them."""
    out = dict(_read(seed_path(name)))
    if not seeds_only:
        out.update(_read(user_path(name)))
    return out


def store(name: str, key: str, entry: dict) -> None:
    """Add one entry to the user cache file ``name`` (re-read first: another run may
    have added entries); a cache that cannot be written only costs a re-run later."""
    path = user_path(name)
    cache = _read(path)
    cache[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass


def cached_synth(params, verilog: Callable[[], str], top: str, cache_name: str, key: str,
                 force: bool = False, extra: dict | None = None) -> dict:
    """Cached Yosys counts of one block configuration: ``params`` has ``name`` and
    ``to_dict``; ``verilog()`` gives its text (only called when Yosys runs); ``extra``
    is stored with a new entry.  ``cached`` in the result says whether Yosys ran."""
    cache = load_cache(cache_name)
    if key in cache and not force:
        return {**cache[key], "config_hash": key, "cached": True}
    entry = {**run_yosys(params, verilog(), top), **(extra or {})}
    store(cache_name, key, entry)
    return {**entry, "config_hash": key, "cached": False}


def run_yosys(p, text: str, top: str) -> dict:
    """Synthesise one configuration (any params object with ``name`` and ``to_dict``)
    from its Verilog ``text`` with top module ``top``; returns counts plus the raw
    primitive histogram and the logic depth between registers (``accel.hw.depth``)."""
    cmd = yosys_command()
    with tempfile.TemporaryDirectory(prefix="accel-synth-") as tmp:
        v = Path(tmp) / "top.v"
        v.write_text(text)
        stat = Path(tmp) / "stat.json"
        blif = Path(tmp) / "netlist.blif"
        # relative names: the WebAssembly Yosys only sees its working directory; the
        # mapped netlist is kept for the logic-depth walk (accel.hw.depth)
        script = (f"read_verilog {v.name}; synth_xilinx -family {FAMILY} -flatten -top {top}; "
                  f"tee -q -o {stat.name} stat -json; write_blif -gates {blif.name}")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd + ["-q", "-p", script], capture_output=True, text=True,
                                  timeout=SYNTH_TIMEOUT_S, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"yosys timed out after {SYNTH_TIMEOUT_S} s on {p.name}") from None
        if proc.returncode != 0 or not stat.exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ToolchainError(f"yosys failed on {p.name}: {last[0]}")
        report = json.loads(stat.read_text())
        depth = blif_depth(blif.read_text()) if blif.exists() else None
    design = report.get("design") or next(iter(report["modules"].values()))
    cells = {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}
    return {"params": p.to_dict(), "family": FAMILY, "resources": classify(cells),
            "cells": cells, "yosys_seconds": round(time.perf_counter() - t0, 1),
            "depth": depth}
