from dataclasses import dataclass

from accel.errors import ConfigError


@dataclass(frozen=True)
class ToyConfig:
    rows: int = 8          # array rows (test value)
    cols: int = 8          # array columns (test value)
    clock_mhz: float = 200.0  # clock (test value)

    def validate(self):
        if self.rows < 1 or self.cols < 1:
            raise ConfigError(f"rows/cols must be >= 1, got {self.rows}x{self.cols}")
        if self.rows * self.cols > 1_000_000:
            raise ConfigError(f"array too large: {self.rows}x{self.cols}")


PRESETS = {"toy-small": ToyConfig(), "toy-big": ToyConfig(rows=32, cols=32)}
DEFAULT_PRESET = "toy-small"
