"""RTL blocks: one folder per block, one line in :mod:`accel.hw.blocks.registry`.

Shared plumbing every block uses: :mod:`.paths` (where the testbenches, seeds, builds
and caches are, in a checkout and in a wheel) and :mod:`.cosim_runner` (verilate once
per configuration, run a cocotb bench, collect its outcomes).
"""
