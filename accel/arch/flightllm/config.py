"""FlightLLM machine parameters and the ``u280`` / ``vhk158`` presets.

Tags in the comments: [paper] FlightLLM, FPGA'24 (arXiv 2401.03868); [artifact] the
authors' public demo; [datasheet] AMD/Xilinx product data; [derived] arithmetic on the
above; [assumption] nothing public says, the value is a documented choice to vary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accel.errors import ConfigError

WEIGHT_BITS_SUPPORTED = (2.0, 3.0, 3.5, 4.0, 8.0)   # INT2/3/4 mixes dequantised to INT8 [paper]


@dataclass(frozen=True)
class FlightLLMConfig:
    name: str = "u280"
    # --- compute ----------------------------------------------------------------------
    cores: int = 3                    # one core per SLR of the XCU280 [paper]
    clock_mhz: float = 225.0          # U280 build [paper]
    mm_macs_per_core: int = 4096      # INT8 MACs/cycle per core in MM mode [paper]
    mv_macs_per_core: int = 1024      # INT8 MACs/cycle per core in MV mode [paper]
    chain_dsps: int = 16              # DSP48s per sparse chain (one dot-product unit) [assumption: 16 = one M-group per pass]
    dsp_group: int = 2                # DSP48s per group between reduction nodes [paper]
    overflow_adjust_min_dsps: int = 9  # chains of >= 9 DSPs need the overflow-adjust stage [paper: skipped for <= 8]
    sfu_elems_per_cycle: int = 64     # MISC (softmax/norm/SiLU/eltwise/RoPE) elements/cycle per core [assumption]
    misc_setup_cycles: int = 32       # pipeline fill of one MISC instruction [assumption]
    sys_sync_cycles: int = 225        # end-of-step barrier (sampled token back to the embedding LD), ~1 us [assumption]
    compute_setup_cycles: int = 24    # MM/MV instruction issue + chain fill (~chain length + adder tree) [assumption]
    # --- HBM (per pseudo channel; see _kernels.execute for how a transfer is timed) -------
    hbm_channels: int = 32            # U280 HBM2: 2 stacks x 16 pseudo channels, one AXI port each [datasheet PG276]
    hbm_channel_gbps: float = 14.375  # 460 GB/s / 32 [paper]; PG276: 256-bit AXI x 450 MHz = 14.4 GB/s per PC
    hbm_efficiency: float = 0.70      # a port streaming its own pseudo channels: the authors' HBM_BW_SAME_CHANNEL_EFFICIENCY [artifact profile/config.yaml]; Shuhai (FCCM'20) measured 0.92 (425 of 460.8 GB/s) for ideal long streams on a bare design
    hbm_cross_channel_efficiency: float = 0.35  # a transfer through the HBM switch to another port's channel: HBM_BW_CROSS_CHANNEL_EFFICIENCY [artifact profile/config.yaml]
    hbm_latency_ns: float = 107.0     # request -> first data, page hit: Shuhai ~48 AXI cycles @ 450 MHz [measured]
    hbm_row_miss_ns: float = 31.0     # opening a row per channel per transfer: tRP + tRCD ~14 + 14 ns [JEDEC HBM2]; Shuhai page miss - hit ~14 cycles @ 450 MHz
    hbm_access_bytes: int = 32        # HBM2 access granule: BL4 x 64-bit pseudo channel; smaller/ragged pieces cost a full one [datasheet PG276]
    hbm_interleave_bytes: int = 256   # channel interleave granule: every tensor is striped over all channels [paper], 256 B = one 8-beat AXI burst [assumption]
    hbm_capacity_gb: float = 8.0      # U280 HBM2 capacity [datasheet]
    # --- on-chip buffers (per core) -----------------------------------------------------
    weight_buffer_kb: int = 2048      # weight/KV tile slots; U280 has ~28 MB URAM over 3 SLRs [datasheet/assumption]
    weight_tile_kb: int = 512         # bytes one LD/MV instruction pair moves (all cores) [assumption]
    act_buffer_kb: int = 1024         # activation rows held by one MM instruction [assumption]
    kv_buffer_kb: int = 512           # KV chunk one attention LD moves (all cores) [assumption]
    global_buffer_kb: int = 4096      # residual stream / fused intermediates of a decode step [assumption]
    mm_token_tile: int = 64           # token rows per MM instruction (64 x 11008 INT8 ~ act buffer) [derived]
    # --- data formats -----------------------------------------------------------------
    weight_bits: float = 3.5          # mixed-precision average (INT4/3/2) [paper/artifact]
    index_bits: int = 4               # sparse index per kept weight, N=16 tiles included [paper]
    block_meta_bytes: int = 1         # N of each 16x16 weight block [paper]
    act_bits: int = 8                 # INT8 activations [artifact]
    kv_bits: int = 8                  # INT8 KV cache [artifact]
    # --- compilation --------------------------------------------------------------------
    prefill_bucket: int = 128         # length-adaptive prefill bucket [artifact]
    decode_bucket: int = 16           # length-adaptive decode bucket [artifact]
    attn_block: int = 64              # block-sparse attention block in prefill [paper]
    attn_local_blocks: int = 4        # kept key blocks before the diagonal (incl. it) per query block [assumption]
    attn_global_blocks: int = 1       # leading key blocks every query block keeps [assumption]
    instruction_bytes: int = 32       # encoded instruction width; artifact ISA width not public [assumption]
    max_length: int = 2048            # maximum sequence length the instruction store serves [paper]
    # --- board ------------------------------------------------------------------------
    board_power_w: float = 45.0       # U280 running FlightLLM [paper]
    price_usd: float = 7500.0         # Alveo U280 list price [assumption]

    @property
    def hbm_peak_gbps(self) -> float:
        return self.hbm_channels * self.hbm_channel_gbps

    @property
    def weight_slots(self) -> int:
        return max(1, self.weight_buffer_kb * self.cores // self.weight_tile_kb)

    def validate(self) -> None:
        pos_int = ("cores", "mm_macs_per_core", "mv_macs_per_core", "chain_dsps", "dsp_group",
                   "sfu_elems_per_cycle", "hbm_channels", "hbm_interleave_bytes", "hbm_access_bytes",
                   "weight_buffer_kb", "weight_tile_kb", "act_buffer_kb", "kv_buffer_kb",
                   "global_buffer_kb", "mm_token_tile", "index_bits", "act_bits", "kv_bits",
                   "prefill_bucket", "decode_bucket", "attn_block", "attn_local_blocks",
                   "instruction_bytes", "max_length")
        for f in pos_int:
            if getattr(self, f) <= 0:
                raise ConfigError(f"{f} must be positive, got {getattr(self, f)}")
        for f in ("misc_setup_cycles", "compute_setup_cycles", "sys_sync_cycles", "attn_global_blocks",
                  "block_meta_bytes", "overflow_adjust_min_dsps"):
            if getattr(self, f) < 0:
                raise ConfigError(f"{f} must be >= 0, got {getattr(self, f)}")
        for f in ("clock_mhz", "hbm_channel_gbps", "hbm_capacity_gb", "board_power_w",
                  "price_usd"):
            if getattr(self, f) <= 0:
                raise ConfigError(f"{f} must be positive, got {getattr(self, f)}")
        for f in ("hbm_latency_ns", "hbm_row_miss_ns"):
            if getattr(self, f) < 0:
                raise ConfigError(f"{f} must be >= 0, got {getattr(self, f)}")
        for f in ("hbm_efficiency", "hbm_cross_channel_efficiency"):
            if not 0 < getattr(self, f) <= 1:
                raise ConfigError(f"{f} must be in (0, 1], got {getattr(self, f)}")
        if self.weight_bits not in WEIGHT_BITS_SUPPORTED:
            raise ConfigError(f"weight bits {self.weight_bits:g} not supported; supported: "
                              f"{', '.join(f'{b:g}' for b in WEIGHT_BITS_SUPPORTED)}")
        if self.chain_dsps % self.dsp_group:
            raise ConfigError(f"chain_dsps {self.chain_dsps} must be a multiple of dsp_group "
                              f"{self.dsp_group}")
        if self.weight_tile_kb > self.weight_buffer_kb * self.cores:
            raise ConfigError(f"weight_tile_kb {self.weight_tile_kb} exceeds the weight buffer "
                              f"({self.weight_buffer_kb * self.cores} KB over all cores)")


U280 = FlightLLMConfig()
FlightLLMConfig.validate(U280)

# Versal HBM VHK158, simulated by the authors [paper]: 32 GB HBM at 819 GB/s, 4 SLRs.
VHK158 = replace(
    U280, name="vhk158",
    cores=4,                          # one core per SLR, 4 SLRs [paper]
    hbm_channels=32,                  # the authors' VHK158 model: HBM_CHANNEL_NUM 32 [artifact profile/config.yaml]
    hbm_channel_gbps=819.2 / 32,      # 819 GB/s total [paper]; HBM_BW_GB_PER_SEC 819.2 [artifact]
    hbm_capacity_gb=32.0,             # [paper]
    board_power_w=75.0,               # no measurement (simulated board) [assumption]
    price_usd=12000.0,                # VHK158 evaluation kit class price [assumption]
)
VHK158.validate()

PRESETS: dict[str, FlightLLMConfig] = {"u280": U280, "vhk158": VHK158}
DEFAULT_PRESET = "u280"
