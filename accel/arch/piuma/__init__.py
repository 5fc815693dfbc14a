"""SMASH on PIUMA: cycle-approximate many-threaded SpGEMM model (issue 5).

The public names are imported on first use (PEP 562), so that reading the machine's
registration (``accel.arch.piuma.machine``) for ``accel --help`` loads no model."""

import importlib

_EXPORTS = {"DEFAULT_PRESET": "config", "PRESETS": "config", "PiumaConfig": "config",
            "ALGORITHMS": "model", "MODEL_VERSION": "model", "Result": "model",
            "simulate": "model", "simulate_all": "model"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
