"""Verilog emission of the sparse PE array plus its JSON sidecar.

The sidecar records what a user of the Verilog needs without reading it: parameters,
ports (direction, width, payload field offsets) and the latency formula the RTL obeys,
which is ``accel.arch.sat.pe_array.tile_cycles``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import amaranth
from amaranth.back import verilog
from amaranth.lib import wiring

from accel.arch.sat import pe_array as contract
from accel.hw.blocks.paths import check_out_dir, write_outputs
from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.array import SparsePEArray, array_signature
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.layouts import field_map

TOP = "sparse_pe_array"
SIDECAR_VERSION = 1


def generate(p: ArrayParams) -> str:
    """Verilog text of one configuration (no source-location attributes: stable output)."""
    return verilog.convert(SparsePEArray(p), name=TOP, emit_src=False)


def _ports(p: ArrayParams) -> list[dict]:
    sig = array_signature(p)
    ports = [{"name": "clk", "dir": "in", "width": 1}, {"name": "rst", "dir": "in", "width": 1}]
    for path, member, value in sig.flatten(sig.flip().create()):
        ports.append({"name": "__".join(str(x) for x in path),
                      "dir": "in" if member.flow == wiring.In else "out",
                      "width": len(value.as_value()) if hasattr(value, "as_value") else len(value)})
    return ports


def _fields(layout) -> dict:
    return {name: {"offsets": offs.tolist(), "width": width, "signed": sgn}
            for name, (offs, width, sgn) in field_map(layout).items()}


def sidecar(p: ArrayParams) -> dict:
    out = _sidecar(p)
    if p.fp:
        out["numerics"] = {
            "dtype": "fp16",
            "operands": "FP16 codes; exponent 0 read as zero (DAZ); exponent 31 a normal number",
            "products": "exact integers +-(1024+fa)(1024+fb) << (ea+eb-2), units of 2^-48",
            "sums": f"exact: {p.kulisch_bits}-bit two's-complement accumulator per PE, "
                    "order-free, no rounding inside the array",
            "output": "S * 2^-48 rounded once to FP32, nearest even; S == 0 -> +0",
            "reference": "accel.arch.sat.fp16.gemm_reference_exact",
        }
        out["latency"]["constants"].update({
            "MAC_LATENCY_FP16": contract.MAC_LATENCY_FP16,
            "OUT_LATENCY_FP16": contract.OUT_LATENCY_FP16})
        out["latency"]["formula"] = out["latency"]["formula"].replace(
            "MAC_LATENCY", "MAC_LATENCY_FP16 + OUT_LATENCY_FP16")
    if p.pipelined:
        out["latency"]["pipelined_run"] = {
            "formula": "START_CYCLES + beats[0] + sum(max(beats[i], max(rows, cols)) for i>=1)"
                       " + (cols-1) + " + ("MAC_LATENCY_FP16 + OUT_LATENCY_FP16" if p.fp
                                            else "MAC_LATENCY") + " + rows*DRAIN_BEATS_PER_ROW",
            "function": "accel.arch.sat.pe_array.tiles_cycles(rows, cols, beats, True"
                        + (', "fp16")' if p.fp else ")"),
            "control": "ctrl__start with ctrl__tiles; act__payload 'last' ends each tile; "
                       "a last beat is held until max(rows, cols) steps after the previous one",
        }
    return out


def _sidecar(p: ArrayParams) -> dict:
    return {
        "sidecar_version": SIDECAR_VERSION,
        "top": TOP,
        "params": p.to_dict(),
        "config_hash": p.config_hash(),
        "generator": f"accel.hw (amaranth {amaranth.__version__})",
        "ports": _ports(p),
        "payloads": {"act": _fields(layouts.act_beat(p)),
                     "weight": _fields(layouts.weight_beat(p)),
                     "result": _fields(layouts.result_beat(p))},
        "latency": {
            "formula": "START_CYCLES + beats + (rows-1) + (cols-1) + MAC_LATENCY "
                       "+ rows*DRAIN_BEATS_PER_ROW",
            "constants": {"START_CYCLES": contract.START_CYCLES,
                          "MAC_LATENCY": contract.MAC_LATENCY,
                          "DRAIN_BEATS_PER_ROW": contract.DRAIN_BEATS_PER_ROW},
            "beats_sparse": "ceil(K/M)",
            "beats_dense": "ceil(K/M) * ceil(M/N)",
            "counter": "ctrl__cycles counts the start cycle and every advancing cycle; "
                       "stalls are not counted",
        },
    }


def write(p: ArrayParams, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``<name>.v`` and ``<name>.json``; nothing is left half-written on failure."""
    out = check_out_dir(out_dir)
    paths = write_outputs(out, {f"{p.name}.v": generate(p),
                                f"{p.name}.json": json.dumps(sidecar(p), indent=1) + "\n"})
    return {"verilog": paths[f"{p.name}.v"], "sidecar": paths[f"{p.name}.json"]}
