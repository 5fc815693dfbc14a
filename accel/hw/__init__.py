"""Amaranth RTL of the SAT N:M sparse PE array, its Verilog/Yosys/Verilator glue.

The micro-architecture and its cycle contract are described in
``accel/arch/sat/pe_array.py``; this package builds hardware to that contract.
"""
