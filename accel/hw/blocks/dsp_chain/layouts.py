"""Stream payloads of the DSP chain, defined once: the RTL builds its ports from these
``data.StructLayout``s and the bench packs / unpacks beats with :func:`pack_beats` /
:func:`unpack_results`, which read the field offsets from the same layouts.

* ``beat``: one chain pass for two activation rows: per DSP a weight ``w`` and its
  4-bit position ``idx``; per DSP group the 16 activations of the M-group it works on
  for row 0 (``act0``, read through the sparse MUX); per DSP the activation of row 1
  (``act1``: dense MM only, the pass's contiguous window of positions; zeros in MV);
  ``last``: the pass ends the output column (the accumulators emit and clear).
* ``result``: the two rows' accumulated outputs ``y0``, ``y1`` of one column.
"""

from __future__ import annotations

import numpy as np
from amaranth import signed, unsigned
from amaranth.lib import data

from accel.hw.blocks.dsp_chain.params import ACT_BITS, IDX_BITS, WEIGHT_BITS, ChainParams


def beat(p: ChainParams) -> data.StructLayout:
    return data.StructLayout({
        "w": data.ArrayLayout(signed(WEIGHT_BITS), p.chain_dsps),
        "idx": data.ArrayLayout(unsigned(IDX_BITS), p.chain_dsps),
        "act0": data.ArrayLayout(data.ArrayLayout(signed(ACT_BITS), p.m), p.groups),
        "act1": data.ArrayLayout(signed(ACT_BITS), p.chain_dsps),
        "last": unsigned(1),
    })


def result(p: ChainParams) -> data.StructLayout:
    return data.StructLayout({"y0": signed(p.acc_bits), "y1": signed(p.acc_bits)})


def _offset(layout: data.StructLayout, name: str) -> tuple[int, int]:
    f = layout[name]
    return f.offset, f.width


def pack_beats(p: ChainParams, w, idx, act0, act1, last) -> np.ndarray:
    """(B, bytes) little-endian payloads of B beats: ``w``/``idx``/``act1`` (B, D),
    ``act0`` (B, groups, 16), ``last`` (B,)."""
    lay = beat(p)
    nb = len(last)
    bits = np.zeros((nb, lay.size), np.uint8)

    def put(name, vals, width):
        off, total = _offset(lay, name)
        v = np.asarray(vals, np.int64).reshape(nb, -1)
        assert v.shape[1] * width == total
        b = (v[:, :, None] >> np.arange(width)) & 1          # two's complement bits
        bits[:, off:off + total] = b.reshape(nb, total)

    put("w", w, WEIGHT_BITS)
    put("idx", idx, IDX_BITS)
    put("act0", act0, ACT_BITS)
    put("act1", act1, ACT_BITS)
    put("last", last, 1)
    return np.packbits(bits, axis=1, bitorder="little")


def unpack_result(p: ChainParams, value: int) -> tuple[int, int]:
    """(y0, y1) of one result payload integer."""
    lay = result(p)
    out = []
    for name in ("y0", "y1"):
        off, width = _offset(lay, name)
        v = (value >> off) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out[0], out[1]
