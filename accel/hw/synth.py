"""FPGA resource counts from Yosys ``synth_xilinx -family xcup`` (UltraScale+, as the
VCU1525/XCVU9P and U280 boards of SAT and FlightLLM), cached by configuration hash.

The cache is a committed JSON (``rtl/synth_cache.json``) so the resource model and the
tests never re-run Yosys; ``accel rtl synth --force`` refreshes an entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from accel.atomic_write import atomic_write
from accel.errors import ToolchainError
from accel.hw.params import ArrayParams
from accel.hw.toolchain import yosys_command
from accel.hw.verilog import TOP, generate

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_PATH = REPO_ROOT / "rtl" / "synth_cache.json"
# pipelined builds (shadow accumulators) are cached apart, next to their one-tile twins in
# CACHE_PATH, so the base resource model keeps fitting exactly the one-tile designs
PIPELINED_CACHE_PATH = REPO_ROOT / "rtl" / "synth_cache_pipelined.json"
# FP16 arrays (one-tile and pipelined) and the sparse weight generator: their own file,
# so the INT8 resource model keeps fitting exactly the INT8 designs
FP16_CACHE_PATH = REPO_ROOT / "rtl" / "synth_cache_fp16.json"
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


def load_cache(path: Path = CACHE_PATH) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def run_yosys(p, text: str | None = None, top: str = TOP) -> dict:
    """Synthesise one configuration (an ArrayParams, or any params object with ``name``
    and ``to_dict`` plus its Verilog ``text`` and ``top``); returns counts plus the raw
    primitive histogram."""
    cmd = yosys_command()
    with tempfile.TemporaryDirectory(prefix="accel-synth-") as tmp:
        v = Path(tmp) / "top.v"
        v.write_text(generate(p) if text is None else text)
        stat = Path(tmp) / "stat.json"
        # relative names: the WebAssembly Yosys only sees its working directory
        script = (f"read_verilog {v.name}; synth_xilinx -family {FAMILY} -flatten -top {top}; "
                  f"tee -q -o {stat.name} stat -json")
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
    design = report.get("design") or next(iter(report["modules"].values()))
    cells = {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}
    return {"params": p.to_dict(), "family": FAMILY, "resources": classify(cells),
            "cells": cells, "yosys_seconds": round(time.perf_counter() - t0, 1)}


def cache_path_for(p: ArrayParams) -> Path:
    if p.fp:
        return FP16_CACHE_PATH
    return PIPELINED_CACHE_PATH if p.pipelined else CACHE_PATH


def synth(p: ArrayParams, force: bool = False, cache_path: Path | None = None) -> dict:
    """Cached resource counts of one configuration (``cached`` says whether Yosys ran)."""
    if cache_path is None:
        cache_path = cache_path_for(p)
    key = p.config_hash()
    cache = load_cache(cache_path)
    if key in cache and not force:
        return {**cache[key], "config_hash": key, "cached": True}
    entry = run_yosys(p)
    cache = load_cache(cache_path)          # re-read: another run may have added entries
    cache[key] = entry
    if os.access(cache_path.parent, os.W_OK):
        atomic_write(cache_path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return {**entry, "config_hash": key, "cached": False}


def synth_weight_gen(g, force: bool = False, cache_path: Path = FP16_CACHE_PATH) -> dict:
    """Cached Yosys counts of the sparse weight generator (``GenParams``), kept in
    ``FP16_CACHE_PATH`` under ``wgen-<hash>`` (the FP16 array model skips them)."""
    from accel.hw.gen_cosim import TOP as GEN_TOP
    from accel.hw.gen_cosim import generate as gen_verilog

    key = "wgen-" + g.config_hash()
    cache = load_cache(cache_path)
    if key in cache and not force:
        return {**cache[key], "config_hash": key, "cached": True}
    entry = run_yosys(g, gen_verilog(g), GEN_TOP)
    entry["unit"] = "weight-gen"
    cache = load_cache(cache_path)
    cache[key] = entry
    if os.access(cache_path.parent, os.W_OK):
        atomic_write(cache_path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return {**entry, "config_hash": key, "cached": False}
