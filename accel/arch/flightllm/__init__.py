"""FlightLLM (FPGA'24): cycle-approximate model of LLM inference on U280 / VHK158.

The public names are imported on first use (PEP 562), so that reading the machine's
registration (``accel.arch.flightllm.machine``) for ``accel --help`` loads no model."""

import importlib

_EXPORTS = {"DEFAULT_PRESET": "config", "PRESETS": "config", "FlightLLMConfig": "config",
            "MODEL_VERSION": "model", "FlightLLMResult": "model", "simulate": "model"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
