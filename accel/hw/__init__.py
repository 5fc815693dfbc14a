"""Amaranth RTL of the accelerators' datapaths, their Verilog/Yosys/Verilator glue.

Every block is a folder under ``accel/hw/blocks/`` and one line in
``accel/hw/blocks/registry.py`` (``accel rtl generate|synth|cosim BLOCK``):

* ``pe-array``: SAT's N:M sparse PE array (INT8, or FP16 with FP32 accumulation):
  contract in ``accel/arch/sat/pe_array.py`` (timing) and ``accel/arch/sat/fp16.py``
  (numerics);
* ``weight-gen``: the sparse weight generator (both BDWP masks from dense FP16
  weights): contract in ``accel/arch/sat/weight_gen.py``.

Shared here: ``synth.py`` (Yosys and its cache), ``toolchain.py`` (the PyPI EDA tools),
``layouts.py`` (payload packing), ``fp.py`` (FP16/FP32 arithmetic units),
``resource_metrics.py`` (the PE array's resources as sweep metrics).  This package
builds hardware to the contracts in ``accel.arch``.
"""
