"""Yosys ``synth_xilinx -family xcup`` counts of DSP-chain configurations, cached in the
committed ``rtl/synth_cache_dsp_chain.json``, plus what Yosys made of the DSPs: how many
DSP48E2 it inferred, how many take their adder input over the PCIN cascade, and which
pipeline registers (A/B/M/P) it absorbed.

(The shared ``accel.hw.synth.cached_synth`` of the block registry is not on this branch;
this module keeps its own cache file handling, to be switched over when it lands.)
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from accel.atomic_write import atomic_write
from accel.errors import ToolchainError
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.hw.blocks.dsp_chain.verilog import TOP, generate
from accel.hw.synth import FAMILY, SYNTH_TIMEOUT_S, classify
from accel.hw.toolchain import yosys_command

CACHE_NAME = "synth_cache_dsp_chain.json"
CACHE_PATH = Path(__file__).resolve().parents[4] / "rtl" / CACHE_NAME
# the (chain_dsps, dsp_group) points the resource model is fitted on
SWEEP = ((4, 2), (8, 1), (8, 2), (8, 4), (16, 1), (16, 2), (16, 4), (32, 2), (32, 4))
DSP_REGS = ("AREG", "BREG", "MREG", "PREG")


def load_cache(path: Path = CACHE_PATH) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _dsp_report(netlist: dict) -> dict:
    """DSP48E2 cells of the flattened netlist: cascade links (PCIN driven by another
    DSP's PCOUT) and the absorbed pipeline registers."""
    mods = netlist["modules"]
    mod = mods.get(TOP) or max(mods.values(), key=lambda x: len(x.get("cells", {})))
    dsps = {n: c for n, c in mod["cells"].items() if c["type"] == "DSP48E2"}
    pcout_bits = set()
    for c in dsps.values():
        pcout_bits.update(b for b in c["connections"].get("PCOUT", []) if isinstance(b, int))
    cascaded = sum(1 for c in dsps.values()
                   if any(b in pcout_bits for b in c["connections"].get("PCIN", [])))
    regs = Counter()
    for c in dsps.values():
        for r in DSP_REGS:
            regs[f"{r}={int(str(c['parameters'].get(r, '0')), 2)}"] += 1
    return {"dsp48e2": len(dsps), "pcin_cascaded": cascaded, "registers": dict(sorted(regs.items()))}


def run_yosys(p: ChainParams) -> dict:
    with tempfile.TemporaryDirectory(prefix="accel-synth-dspchain-") as tmp:
        Path(tmp, "top.v").write_text(generate(p))
        # relative names: the WebAssembly Yosys only sees its working directory
        script = (f"read_verilog top.v; synth_xilinx -family {FAMILY} -flatten -top {TOP}; "
                  f"tee -q -o stat.json stat -json; write_json net.json")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(yosys_command() + ["-q", "-p", script], capture_output=True,
                                  text=True, timeout=SYNTH_TIMEOUT_S, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"yosys timed out after {SYNTH_TIMEOUT_S} s on {p.name}") from None
        if proc.returncode != 0 or not Path(tmp, "stat.json").exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ToolchainError(f"yosys failed on {p.name}: {last[0]}")
        report = json.loads(Path(tmp, "stat.json").read_text())
        dsp = _dsp_report(json.loads(Path(tmp, "net.json").read_text()))
    design = report.get("design") or next(iter(report["modules"].values()))
    cells = {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}
    return {"params": p.to_dict(), "family": FAMILY, "resources": classify(cells),
            "cells": cells, "dsp_inference": dsp,
            "yosys_seconds": round(time.perf_counter() - t0, 1)}


def synth(p: ChainParams, force: bool = False, path: Path = CACHE_PATH) -> dict:
    """Cached counts of one configuration (``cached``: whether Yosys was skipped)."""
    key = p.config_hash()
    cache = load_cache(path)
    if key in cache and not force:
        return {**cache[key], "config_hash": key, "cached": True}
    entry = run_yosys(p)
    cache = load_cache(path)            # re-read: another run may have added entries
    cache[key] = entry
    if os.access(path.parent, os.W_OK):
        atomic_write(path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return {**entry, "config_hash": key, "cached": False}
