"""Amaranth RTL of SAT's training datapath, its Verilog/Yosys/Verilator glue.

* the N:M sparse PE array (INT8 or FP16 with FP32 accumulation): contract in
  ``accel/arch/sat/pe_array.py`` (timing) and ``accel/arch/sat/fp16.py`` (numerics);
* the sparse weight generator (both BDWP masks from dense FP16 weights): contract in
  ``accel/arch/sat/weight_gen.py``.
This package builds hardware to those contracts.
"""
