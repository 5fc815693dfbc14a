"""Buildable datapaths of whole machines, as ``accel design build`` needs them.

One module per machine whose datapath is all RTL blocks of ``accel.hw.blocks``; the
machine names it in its registry entry (``Machine.design``), so the generic design
builder (``accel.report.design``) never names a machine.  A module provides
``blocks(config, knobs)`` (the blocks and their parameters), ``phase_tiles(workload,
blocks, per_phase)`` (the design's own tiles), ``model_cycles(array, beats)`` (the
model's cycles of a run of tiles) and ``weight_for_gen(...)`` (the generator's input).
"""
