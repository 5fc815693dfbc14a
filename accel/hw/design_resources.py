"""Resources of the parts of a design outside the RTL blocks' own models: on-chip buffers
(SAT, FlightLLM) and FlightLLM's DSP chains multiplied out to the whole engine.

Registered as derived sweep metrics (``Machine.derived_metrics``).  Every metric is named
``hw_<part>_<resource>`` so the sweep's fit check (``accel.sweep.fit``) adds it to the
design's use of ``<resource>`` beside the blocks' own ``hw_<resource>``.  Only what can be
counted from the configuration is counted; what is not (control, DMA, host and memory
interfaces, SAT's weight-update engine and weight generator) is named in the docstrings
and the report, never filled in with a guess.

Buffer mapping (a documented choice; a synthesis tool may map differently):

* an activation or weight buffer feeding the array goes to UltraRAM: 288 Kb blocks with a
  72-bit port (UG573 UltraScale Memory Resources: URAM288 is 4K x 72).  Blocks = the
  larger of what holds its capacity and what delivers the array's operand width in one
  cycle (one beat per cycle is what ``accel.arch.sat.pe_array`` times);
* an output (partial-sum) buffer goes to 36 Kb block RAM, 72 bits wide in simple
  dual-port mode (UG573: RAMB36E2 512 x 72), read-modify-written each accumulate;
* a buffer's ``*_kb`` is its whole capacity (both halves when double-buffered): a URAM
  or BRAM port pair reads one half while the other is filled.
"""

from __future__ import annotations

import math

from accel.devices import BRAM36_KBITS, URAM_KBITS

URAM_PORT_BITS = 72    # UG573: URAM288 data width
BRAM36_PORT_BITS = 72  # UG573: RAMB36E2 in simple dual-port mode, 512 x 72


def blocks(kbytes: float, port_bits: int, block_kbits: int, block_port_bits: int) -> int:
    """Memory blocks for a buffer of ``kbytes`` read ``port_bits`` per cycle."""
    by_capacity = math.ceil(kbytes * 8 / block_kbits)
    by_width = math.ceil(port_bits / block_port_bits)
    return max(by_capacity, by_width)


def sat_buffer_metrics(config, workload, metrics) -> dict[str, float]:
    """SAT's three on-chip buffers as URAM / BRAM36 (module doc).  Operand widths of one
    beat (``accel.arch.sat.pe_array``): activations R windows x M x ``act_bytes``;
    weights C groups x N kept x (``weight_bytes`` + index bits); results one array row of
    C accumulators (``acc_bytes``) per cycle."""
    c = config
    act_bits = c.pe_rows * c.group_m * c.act_bytes * 8
    w_bits = c.pe_cols * c.mults_per_pe * (c.weight_bytes * 8 + c.index_bits)
    out_bits = c.pe_cols * c.acc_bytes * 8
    uram = (blocks(c.act_buffer_kb, act_bits, URAM_KBITS, URAM_PORT_BITS)
            + blocks(c.weight_buffer_kb, w_bits, URAM_KBITS, URAM_PORT_BITS))
    bram = blocks(c.output_buffer_kb, out_bits, BRAM36_KBITS, BRAM36_PORT_BITS)
    return {"hw_buffer_uram": float(uram), "hw_buffer_bram36": float(bram)}


def flightllm_metrics(config, workload, metrics) -> dict[str, float]:
    """FlightLLM's engine and buffers: the DSP-chain resource model (fitted on Yosys
    builds of ``accel.hw.blocks.dsp_chain``) x chains per core x cores, and the per-core
    buffers (weight, activation, KV, global) as URAM by capacity.  The buffers' port
    widths are not public, so no width floor is applied: the count is a lower bound.
    Nothing else of the design (MISC unit, instruction memory, HBM and host interfaces)
    is counted.  No metric when the synthesis cache is too small to fit the model."""
    try:
        from accel.hw.blocks.dsp_chain import resources
        from accel.hw.blocks.dsp_chain.synth import entries

        per_chain = resources.predict(_chain_model(tuple(map(_key, entries())), resources),
                                      config.chain_dsps, config.dsp_group)
    except (ImportError, ValueError, KeyError):
        return {}
    n = resources.chains_per_core(config)["chains"] * config.cores
    out = {f"hw_chains_{r.lower()}": float(round(per_chain[r] * n)) for r in resources.RESOURCES}
    kb = (config.weight_buffer_kb + config.act_buffer_kb + config.kv_buffer_kb
          + config.global_buffer_kb)
    out["hw_buffer_uram"] = float(config.cores * math.ceil(kb * 8 / URAM_KBITS))
    return out


def _key(entry: dict) -> tuple:
    """A cache entry as a hashable tuple (the fit is memoised on the cache's contents)."""
    return (entry["params"]["chain_dsps"], entry["params"]["dsp_group"],
            tuple(sorted((k, float(v)) for k, v in entry["resources"].items()
                         if isinstance(v, int | float))))


_MODELS: dict[tuple, dict] = {}


def _chain_model(key: tuple, resources) -> dict:
    if key not in _MODELS:
        _MODELS[key] = resources.fit([{"params": {"chain_dsps": d, "dsp_group": g},
                                       "resources": dict(r)} for d, g, r in key])
    return _MODELS[key]
