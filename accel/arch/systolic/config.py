"""Systolic-array parameters (SCALE-Sim's machine): a frozen dataclass, presets, validation.

The machine is the R x C array of single-MAC PEs that SCALE-Sim (Samajdar et al., ISPASS
2020; v3: Raj et al., 2025) times in its compute model, with its three dataflows and its
N:M convention (the reduction axis K shortened to the kept rows, metadata costing no
cycles).  Load with ``accel.configs.load_config(PRESETS, arch, sets)``, or from SCALE-Sim's
own ``scale.cfg`` with :func:`accel.arch.systolic.scalesim_io.read_scale_cfg`.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.errors import ConfigError

# ws: weights stay in the PEs (SCALE-Sim's "ws"); os: outputs stay; is: inputs stay.
DATAFLOWS = ("ws", "os", "is")
MAX_ARRAY_SIDE = 4096   # larger arrays than any built (TPU v1: 256) -- bounds the fold walk


@dataclass(frozen=True)
class SystolicConfig:
    array_rows: int = 32          # SCALE-Sim example scale.cfg ArrayHeight (REFERENCE.md section 4 runs)
    array_cols: int = 32          # SCALE-Sim example scale.cfg ArrayWidth
    dataflow: str = "ws"          # SCALE-Sim example scale.cfg Dataflow
    sparsity_support: bool = True  # SCALE-Sim [sparsity] SparsitySupport: false = N:M layers run dense
    clock_mhz: float = 1000.0     # SCALE-Sim reports cycles only; 1 GHz is a placeholder so seconds = cycles / 1e9

    def validate(self) -> None:
        for name in ("array_rows", "array_cols"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ARRAY_SIDE:
                raise ConfigError(f"{name} must be a whole number in 1..{MAX_ARRAY_SIDE}, got {v!r}")
        if self.dataflow not in DATAFLOWS:
            raise ConfigError(f"dataflow must be one of {', '.join(DATAFLOWS)}, got {self.dataflow!r}")
        if not isinstance(self.sparsity_support, bool):
            raise ConfigError(f"sparsity_support must be true or false, got {self.sparsity_support!r}")
        if not (self.clock_mhz > 0 and self.clock_mhz < float("inf")):
            raise ConfigError(f"clock_mhz must be a positive finite number, got {self.clock_mhz}")

    @property
    def pes(self) -> int:
        return self.array_rows * self.array_cols


PRESETS: dict[str, SystolicConfig] = {
    # SCALE-Sim's example configuration (scale.cfg of its repository: 32x32, ws)
    "scalesim-32x32-ws": SystolicConfig(),
    "scalesim-32x32-os": SystolicConfig(dataflow="os"),
    "scalesim-32x32-is": SystolicConfig(dataflow="is"),
    # Google TPU v1 matrix unit: 256x256 MACs, weight-stationary, 700 MHz (Jouppi et al., ISCA 2017)
    "tpu-v1": SystolicConfig(array_rows=256, array_cols=256, dataflow="ws", clock_mhz=700.0),
}
DEFAULT_PRESET = "scalesim-32x32-ws"

for _cfg in PRESETS.values():
    _cfg.validate()
