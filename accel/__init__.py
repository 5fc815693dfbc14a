"""accel: a co-design workbench for sparse DNN and graph accelerators."""

__version__ = "0.1.0"
