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
from accel.atomic_write import atomic_write
from accel.errors import AccelError
from accel.hw import layouts
from accel.hw.params import ArrayParams
from accel.hw.pe_array import SparsePEArray, array_signature

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
            for name, (offs, width, sgn) in layouts.field_map(layout).items()}


def sidecar(p: ArrayParams) -> dict:
    out = _sidecar(p)
    if p.pipelined:
        out["latency"]["pipelined_run"] = {
            "formula": "START_CYCLES + beats[0] + sum(max(beats[i], max(rows, cols)) for i>=1)"
                       " + (cols-1) + MAC_LATENCY + rows*DRAIN_BEATS_PER_ROW",
            "function": "accel.arch.sat.pe_array.tiles_cycles(rows, cols, beats, True)",
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


def check_out_dir(out_dir: str | os.PathLike) -> Path:
    """Create ``out_dir`` if needed and prove it writable, else one-line AccelError."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AccelError(f"cannot create output folder {str(out)!r}: {exc.strerror}") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise AccelError(f"output folder {str(out)!r} is not writable")
    return out


def write(p: ArrayParams, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``<name>.v`` and ``<name>.json``; nothing is left half-written on failure."""
    out = check_out_dir(out_dir)
    text = generate(p)
    v_path, j_path = out / f"{p.name}.v", out / f"{p.name}.json"
    try:
        atomic_write(v_path, text)
        atomic_write(j_path, json.dumps(sidecar(p), indent=1) + "\n")
    except OSError as exc:
        raise AccelError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
    return {"verilog": v_path, "sidecar": j_path}
