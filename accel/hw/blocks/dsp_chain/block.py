"""FlightLLM's configurable sparse DSP chain as an RTL block (a declaration only)."""

from accel.hw.blocks.registry import Block

BLOCK = Block(
    name="dsp-chain",
    summary="FlightLLM's sparse DSP chain (N:16 sparse MUX, packed INT8 DSP48E2 cascades, "
            "reduction tree, overflow adjust; dense/sparse MV, dense MM)",
    contract="accel.arch.flightllm.dsp_chain",
    options="accel.hw.blocks.dsp_chain.cli:OPTIONS",
    generate="accel.hw.blocks.dsp_chain.cli:generate",
    synth="accel.hw.blocks.dsp_chain.cli:synth",
    cosim="accel.hw.blocks.dsp_chain.cli:cosim",
    bench="cocotb_dsp_chain",
    synth_cache="synth_cache_dsp_chain.json",
)
