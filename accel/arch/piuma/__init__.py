"""SMASH on PIUMA: cycle-approximate many-threaded SpGEMM model (issue 5)."""

from accel.arch.piuma.config import DEFAULT_PRESET, PRESETS, PiumaConfig
from accel.arch.piuma.model import ALGORITHMS, MODEL_VERSION, Result, simulate, simulate_all

__all__ = ["ALGORITHMS", "DEFAULT_PRESET", "MODEL_VERSION", "PRESETS", "PiumaConfig", "Result",
           "simulate", "simulate_all"]
