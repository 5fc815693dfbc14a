from dataclasses import dataclass

from accel.errors import ConfigError


@dataclass(frozen=True)
class ToyGemmConfig:
    rows: int = 4   # output-stationary array rows (test value)
    cols: int = 4   # array columns (test value)

    def validate(self):
        if self.rows < 1 or self.cols < 1:
            raise ConfigError(f"rows/cols must be >= 1, got {self.rows}x{self.cols}")


PRESETS = {"toy-4x4": ToyGemmConfig(), "toy-8x8": ToyGemmConfig(8, 8)}
DEFAULT_PRESET = "toy-4x4"
