"""FlightLLM (FPGA'24): cycle-approximate model of LLM inference on U280 / VHK158."""

from accel.arch.flightllm.config import DEFAULT_PRESET, PRESETS, FlightLLMConfig
from accel.arch.flightllm.model import MODEL_VERSION, FlightLLMResult, simulate

__all__ = ["DEFAULT_PRESET", "MODEL_VERSION", "PRESETS", "FlightLLMConfig", "FlightLLMResult",
           "simulate"]
