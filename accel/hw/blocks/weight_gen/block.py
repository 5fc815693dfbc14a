"""SAT's sparse weight generator (both BDWP N:M masks from dense FP16 weights) as an RTL block."""

from accel.hw.blocks.registry import Block

BLOCK = Block(
    name="weight-gen",
    summary="SAT's sparse weight generator: both BDWP N:M masks of a dense FP16 weight, "
            "one M x L block per cycle",
    contract="accel.arch.sat.weight_gen",
    options="accel.hw.blocks.weight_gen.cli:OPTIONS",
    generate="accel.hw.blocks.weight_gen.cli:generate",
    synth="accel.hw.blocks.weight_gen.cli:synth",
    cosim="accel.hw.blocks.weight_gen.cli:cosim",
    bench="cocotb_weight_gen",
    synth_cache="synth_cache_fp16.json",
)
