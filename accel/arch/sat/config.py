"""SAT engine parameters: a frozen dataclass, presets, validation.

The SAT paper (Fang et al., TCAD 2023) does not publish the PE-array size, clock or
buffer sizes of its VCU1525 build, so every such number below is a named field whose
comment says where the default comes from.  Load with
``accel.configs.load_config(PRESETS, arch, sets)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel import devices
from accel.arch.sat.pe_array import DTYPES
from accel.errors import ConfigError
from accel.workloads.nm import parse_nm

DATAFLOWS = ("os", "ws")          # buffer-level loop order, see accel/arch/sat/schedule.py
OPTIMIZERS = ("sgd", "adam")


def parse_pattern(text: str) -> tuple[int, int]:
    """``"2:8"`` -> (2, 8); raises ConfigError naming the text."""
    return parse_nm(text, "N:M pattern", error=ConfigError)


@dataclass(frozen=True)
class SatConfig:
    # --- sparse tensor engine (PE array; tile timing from accel/arch/sat/pe_array.py) ---
    pe_rows: int = 32              # not public; 32x32x2 = 2048 FP16 multipliers fits the 6840 DSP48E2 of an XCVU9P with room for adders/control
    pe_cols: int = 32              # not public; square array (same reasoning as pe_rows)
    mults_per_pe: int = 2          # hardware N: multipliers per PE (BDWP's headline pattern is 2:8)
    group_m: int = 8               # widest activation window a PE's selection mux takes (M of 2:8)
    supported_patterns: tuple[str, ...] = ("1:4", "2:4", "1:8", "2:8", "4:8")  # any N:M with M <= group_m; N > mults_per_pe costs ceil(N/mults_per_pe) beats per group
    pipelined_tiles: bool = True   # RTL-verified (accel/hw ArrayParams(pipelined=True), Verilator regression incl. FP16): shadow accumulators overlap a tile's drain with the next tile's feed (pe_array.tiles_cycles); false = one tile per start (the paper does not say which SAT has; a start-per-tile array would expose ~R+C cycles per 32x32 tile)
    array_dtype: str = "fp16"      # PE-array datapath whose RTL contract times the tiles (accel/hw ArrayParams.dtype; pe_array.datapath_latency): SAT trains in FP16; "int8" = the integer engine
    clock_mhz: float = 200.0       # not public; a typical closing frequency for a large FP16 array on UltraScale+ VU9P
    # --- on-chip buffers (each double-buffered: half is filled while the other is used) ---
    act_buffer_kb: int = 512       # not public; XCVU9P has ~43 MB BRAM+URAM, SAT-class designs use a few MB in total
    weight_buffer_kb: int = 512    # not public; same reasoning as act_buffer_kb
    output_buffer_kb: int = 256    # not public; holds FP32 partial sums of a tile column panel
    # --- off-chip memory: VCU1525 has 4 DDR4-2400 72-bit DIMM channels (64 data bits) ---
    dram_channels: int = 4         # VCU1525 user guide: four DDR4 channels
    dram_gbps_per_channel: float = 19.2   # DDR4-2400 x 64 bit = 19.2 GB/s peak per channel
    dram_efficiency: float = 0.75  # sustained/peak for long sequential bursts through the Xilinx MIG (typ. 0.7-0.85)
    # --- data widths ---
    act_bytes: int = 2             # FP16 activations and gradients (SAT computes in FP16)
    weight_bytes: int = 2          # FP16 weights fed to the engine
    acc_bytes: int = 4             # FP32 partial sums when they spill off-chip
    out_bytes: int = 2             # FP16 GEMM outputs written back
    index_bits: int = 3            # position of a kept weight inside its group: ceil(log2(group_m))
    master_bytes: int = 4          # FP32 master weights in the update engine (paper: FP32 master copy)
    # --- weight-update vector engine ---
    update_lanes: int = 64         # not public; FP32 lanes, one weight per lane per cycle
    optimizer: str = "sgd"         # sgd (momentum: 1 FP32 state) as in SR-STE's ResNet recipe; adam: 2 FP32 states
    # --- sparse-weight generation (RTL accel/hw/weight_gen.py, contract arch/sat/weight_gen.py) ---
    sorter_lanes: int = 32         # generator lanes L: input channels of the M x L weight block taken per cycle (both masks out); 32 from secondary notes on SAT's 32-lane sparse online reduction engine
    # --- dataflow ---
    default_dataflow: str = "os"   # used when offline scheduling is off (output-stationary is the RTL tile's own order)
    # --- the part the design must fit (accel.devices catalogue; sweeps check fit against it) ---
    device: str = "xcvu9p"         # SAT's board is a VCU1525, whose part is an XCVU9P [paper]

    def validate(self) -> None:
        for name in ("pe_rows", "pe_cols", "mults_per_pe", "group_m", "act_buffer_kb",
                     "weight_buffer_kb", "output_buffer_kb", "dram_channels", "act_bytes",
                     "weight_bytes", "acc_bytes", "out_bytes", "master_bytes", "update_lanes",
                     "sorter_lanes"):
            v = getattr(self, name)
            if v <= 0:
                raise ConfigError(f"{name} must be positive, got {v}")
        if not isinstance(self.pipelined_tiles, bool):
            raise ConfigError(f"pipelined_tiles must be true or false, got {self.pipelined_tiles!r}")
        if self.array_dtype not in DTYPES:
            raise ConfigError(f"array_dtype must be one of {', '.join(DTYPES)}, "
                              f"got {self.array_dtype!r}")
        if self.index_bits < 0:
            raise ConfigError(f"index_bits must be >= 0, got {self.index_bits}")
        if (1 << self.index_bits) < self.group_m:
            raise ConfigError(f"index_bits={self.index_bits} cannot address a group of "
                              f"group_m={self.group_m}")
        for name in ("clock_mhz", "dram_gbps_per_channel", "dram_efficiency"):
            v = getattr(self, name)
            if not v > 0:
                raise ConfigError(f"{name} must be positive, got {v}")
        if self.dram_efficiency > 1:
            raise ConfigError(f"dram_efficiency must be <= 1, got {self.dram_efficiency}")
        if self.mults_per_pe > self.group_m:
            raise ConfigError(f"mults_per_pe={self.mults_per_pe} exceeds group_m={self.group_m}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.default_dataflow not in DATAFLOWS:
            raise ConfigError(f"default_dataflow must be one of {', '.join(DATAFLOWS)}, "
                              f"got {self.default_dataflow!r}")
        devices.check_name(self.device, "device")
        for pat in self.supported_patterns:
            n, m = parse_pattern(pat)
            if m > self.group_m:
                raise ConfigError(f"supported pattern {pat} has M={m} > group_m={self.group_m}")
            if self.sorter_lanes % m:
                raise ConfigError(f"sorter_lanes={self.sorter_lanes} must be a multiple of M={m} "
                                  f"(pattern {pat}): the generator takes M x lanes blocks")

    # --- derived quantities -------------------------------------------------------------
    @property
    def bytes_per_cycle(self) -> float:
        """Sustained DRAM bytes per engine clock."""
        return (self.dram_channels * self.dram_gbps_per_channel * self.dram_efficiency
                * 1e9 / (self.clock_mhz * 1e6))

    @property
    def mac_rate(self) -> int:
        """Multiplies the array can issue per cycle (rows x cols x mults)."""
        return self.pe_rows * self.pe_cols * self.mults_per_pe

    @property
    def optimizer_states(self) -> int:
        return 1 if self.optimizer == "sgd" else 2

    def patterns(self) -> set[tuple[int, int]]:
        return {parse_pattern(p) for p in self.supported_patterns}

    def check_pattern(self, n: int, m: int, where: str = "") -> None:
        if (n, m) not in self.patterns():
            raise ConfigError(f"N:M {n}:{m}{where} not supported by the configured engine "
                              f"(supported_patterns: {', '.join(self.supported_patterns)})")


PRESETS: dict[str, SatConfig] = {
    "sat-vcu1525": SatConfig(),
}
DEFAULT_PRESET = "sat-vcu1525"

for _cfg in PRESETS.values():
    _cfg.validate()
