"""The SAT sparse PE array (INT8 or FP16, one tile per start or pipelined) as an RTL block."""

from accel.hw.blocks.registry import Block

BLOCK = Block(
    name="pe-array",
    summary="SAT's N:M sparse PE array (INT8, or FP16 with exact accumulation to FP32; one tile per "
            "start or pipelined)",
    contract="accel.arch.sat.pe_array",
    options="accel.hw.blocks.pe_array.cli:OPTIONS",
    generate="accel.hw.blocks.pe_array.cli:generate",
    synth="accel.hw.blocks.pe_array.cli:synth",
    cosim="accel.hw.blocks.pe_array.cli:cosim",
    bench="cocotb_pe_array",
    synth_cache="synth_cache.json",
)
