"""Stream payload layouts of the sparse PE array, defined once.

The RTL (``array.py``) builds its ports from these ``data.StructLayout``s and the cocotb
testbench (sim/) packs/unpacks beats with ``accel.hw.layouts.pack`` / ``unpack``, which
read field offsets from the same layouts, so the two sides cannot disagree on bit positions.

* ``act_beat``    : ``win[r][i]`` -- R windows of M signed activations (pipelined
  arrays add ``last``: the beat ends its tile);
* ``weight_beat`` : ``val[c][j]``, ``idx[c][j]`` -- C groups of N kept weights and their
  positions 0..M-1 in the window;
* ``result_beat`` : ``row`` and ``acc[c]`` -- one array row of C signed accumulators.

FP16 arrays (``p.dtype == "fp16"``) use the same fields with unsigned raw codes: FP16
activations and weights, FP32 results (each rounded once from an exact sum).
"""

from __future__ import annotations

from amaranth import signed, unsigned
from amaranth.lib import data

from accel.hw.blocks.pe_array.params import ArrayParams


def act_beat(p: ArrayParams) -> data.StructLayout:
    fields = {"win": data.ArrayLayout(data.ArrayLayout(act_shape(p), p.m), p.rows)}
    if p.pipelined:
        fields["last"] = unsigned(1)    # this beat ends its tile (pipelined runs only)
    return data.StructLayout(fields)


def weight_beat(p: ArrayParams) -> data.StructLayout:
    return data.StructLayout({
        "val": data.ArrayLayout(data.ArrayLayout(weight_shape(p), p.n), p.cols),
        "idx": data.ArrayLayout(data.ArrayLayout(unsigned(p.idx_bits), p.n), p.cols)})


def result_beat(p: ArrayParams) -> data.StructLayout:
    return data.StructLayout({
        "row": unsigned(p.row_bits),
        "acc": data.ArrayLayout(acc_shape(p), p.cols)})


# FP16 arrays carry raw codes (unsigned fields: FP16 in, FP32 results out)
def act_shape(p):
    return unsigned(p.act_bits) if p.fp else signed(p.act_bits)


def weight_shape(p):
    return unsigned(p.weight_bits) if p.fp else signed(p.weight_bits)


def acc_shape(p):
    return unsigned(p.acc_bits) if p.fp else signed(p.acc_bits)
