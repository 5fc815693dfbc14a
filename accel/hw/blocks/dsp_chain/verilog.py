"""Verilog of one chain configuration (stable text: no source-location attributes)."""

from __future__ import annotations

from amaranth.back import verilog

from accel.hw.blocks.dsp_chain.chain import SparseDSPChain
from accel.hw.blocks.dsp_chain.params import ChainParams

TOP = "dsp_chain"


def generate(p: ChainParams) -> str:
    return verilog.convert(SparseDSPChain(p), name=TOP, emit_src=False)
