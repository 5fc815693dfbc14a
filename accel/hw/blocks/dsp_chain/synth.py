"""Yosys ``synth_xilinx -family xcup`` counts of DSP-chain configurations, plus what
Yosys made of the DSPs: how many DSP48E2 it inferred, how many take their adder input
over the PCIN cascade, and which pipeline registers (A/B/M/P) it absorbed.

Counts and caching are the shared ``accel.hw.synth.cached_synth``: the committed seeds
``rtl/synth_cache_dsp_chain.json`` (``accel/_rtl`` in a wheel) answer the ``SWEEP``
points, a new configuration's result goes to the user cache.  The DSP report needs
the netlist, which the shared counting run does not keep, so a new configuration takes
one more Yosys pass (``write_json`` after the same ``synth_xilinx``) whose report is
stored with the counts.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from accel.errors import ToolchainError
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.hw.blocks.dsp_chain.verilog import TOP, generate
from accel.hw.synth import FAMILY, SYNTH_TIMEOUT_S, cached_synth, load_cache

CACHE_NAME = "synth_cache_dsp_chain.json"
# the (chain_dsps, dsp_group) points the resource model is fitted on
SWEEP = ((4, 2), (8, 1), (8, 2), (8, 4), (16, 1), (16, 2), (16, 4), (32, 2), (32, 4))
DSP_REGS = ("AREG", "BREG", "MREG", "PREG")


def entries() -> list[dict]:
    """Every cached configuration (seeds, then this machine's results over them)."""
    return list(load_cache(CACHE_NAME).values())


def dsp_report(netlist: dict) -> dict:
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


def dsp_inference(p: ChainParams) -> dict:
    """The netlist pass: ``synth_xilinx`` as the counting run, then ``write_json``."""
    from accel.hw.toolchain import yosys_command

    with tempfile.TemporaryDirectory(prefix="accel-synth-dspchain-") as tmp:
        Path(tmp, "top.v").write_text(generate(p))
        # relative names: the WebAssembly Yosys only sees its working directory
        script = f"read_verilog top.v; synth_xilinx -family {FAMILY} -flatten -top {TOP}; " \
                 "write_json net.json"
        try:
            proc = subprocess.run(yosys_command() + ["-q", "-p", script], capture_output=True,
                                  text=True, timeout=SYNTH_TIMEOUT_S, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"yosys timed out after {SYNTH_TIMEOUT_S} s on {p.name}") from None
        net = Path(tmp, "net.json")
        if proc.returncode != 0 or not net.exists():
            raise ToolchainError(f"yosys netlist pass failed on {p.name} (exit "
                                 f"{proc.returncode})")
        return dsp_report(json.loads(net.read_text()))


def synth(p: ChainParams, force: bool = False) -> dict:
    """Cached counts and DSP report of one configuration (``cached``: whether Yosys was
    skipped)."""
    key = p.config_hash()
    fresh = force or key not in load_cache(CACHE_NAME)
    extra = {"dsp_inference": dsp_inference(p)} if fresh else None
    return cached_synth(p, lambda: generate(p), TOP, CACHE_NAME, key, force, extra)
