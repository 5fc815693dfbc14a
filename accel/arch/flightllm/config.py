"""FlightLLM machine parameters and the ``u280`` / ``vhk158`` presets.

Tags in the comments: [paper] FlightLLM, FPGA'24 (arXiv 2401.03868); [artifact] the
authors' public demo; [datasheet] AMD/Xilinx product data; [derived] arithmetic on the
above; [assumption] nothing public says, the value is a documented choice to vary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accel import devices
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
    sfu_elems_per_cycle: int = 16     # MISC (softmax/norm/SiLU/eltwise/RoPE) elements/cycle per core: SOFTMAX/LAYERNORM/ELTWISE/SILU_PARALLEL_K 16 [artifact profile/config.yaml]
    misc_setup_cycles: int = 32       # pipeline fill of one MISC instruction [assumption]
    sys_sync_cycles: int = 225        # end-of-step barrier (sampled token back to the embedding LD), ~1 us [assumption]
    compute_issue_cycles: int = 4     # MM/MV instruction overhead before its first beat enters the chain: fetch from the instruction buffer, decode, wait-token check, issue, one cycle each [assumption: the controller is not public]
    count_chain_fill: bool = True     # each MM/MV instruction also waits for the DSP chain's pipeline to fill and drain: dsp_chain.chain_fill_cycles(chain_dsps, dsp_group), 10 cycles at 16/2 [RTL: accel rtl cosim dsp-chain, cycle-exact]; False = an instruction costs its beats only
    mv_cols_per_instr: int = 512      # output columns one MV instruction computes (MV_START_N_NUM); an op's N, and each head's attention N (context for QK^T, head_dim for AV), is padded up to it and the padding is computed densely [artifact profile/config.yaml, IR_linear_mv.py, IR_attention_mv.py]
    misc_norm_passes: int = 2         # softmax and RMSNorm read their data twice (statistics, then normalise) [artifact inst_profiler.time_MISC]
    mm_cols_per_instr: int = 16       # output columns one MM instruction computes (MM_START_N_NUM) [artifact profile/config.yaml]
    # How the SLRs share an op (each SLR is one core with its own engines and its own
    # hbm_channels / cores HBM channels; an IR op ends with a SYS that synchronises all
    # SLRs [artifact inst_generator.py], so the op lasts as long as its busiest SLR):
    slr_whole_instr_split: bool = True  # an op's output columns are dealt to the SLRs in whole MV (mv_cols_per_instr) or MM (mm_cols_per_instr) instructions, attention in whole heads, so the busiest SLR computes ceil(instructions / cores) of them [artifact IR_linear_mv.py / IR_attention_mv.py emit whole MV_START_N_NUM instructions, per head; the split itself is not public: assumption]; False = a perfectly even split
    slr_broadcast_inputs: bool = True   # every SLR loads the whole input vector/activation of an op (it computes its own output columns over all K), i.e. cores x the bytes, from the slices the SLRs stored [artifact IR_linear_mv.py: an op's input vector is an LD into the SLR's own B buffer; that every SLR loads all of it: assumption]; False = one load shared by all SLRs
    slr_parallel_efficiency: float = 1.0  # what-if knob only, 1.0 in every preset (a test checks it): scales every unit's rate (compute and HBM); not a mechanism [CHANGELOG 0.5]
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
    index_bits: int = 4               # sparse index per kept weight of an op in FSB (N:16) mode, its 16:16 blocks included [paper; artifact IR_linear_mv.py: meta loads when mask_mode is fsb]
    fsb_all_linears: bool = True      # every linear op runs in FSB mode: its kept weights carry index_bits and its blocks an FSB byte even where all blocks are 16:16.  U280: the paper runs a model compressed with N:M block sparsity in every linear layer, so its board program (binary only) is compiled for the sparse format throughout [paper; assumption: the board keeps all-16:16 ops in FSB mode]; the only decode program public (the authors' VHK158 IR) gives dense ops mask_mode none, i.e. no index and no FSB byte (vhk158-artifact: False) [artifact IR_linear_mv.py].  With False an op is in FSB mode only if one of its blocks has N < 16
    block_meta_bytes: int = 1         # FSB byte (N) of each 16x16 block of a sparse op [paper; artifact FSB_BUFFER_BANK_WIDTH_B 1]
    act_bits: int = 8                 # INT8 activations [artifact]
    kv_bits: int = 8                  # INT8 KV cache [artifact]
    # --- compilation --------------------------------------------------------------------
    prefill_bucket: int = 128         # length-adaptive prefill bucket [artifact]
    decode_bucket: int = 16           # length-adaptive decode bucket [artifact]
    attn_block: int = 64              # block-sparse attention block in prefill [paper]
    attn_local_blocks: int = 4        # kept key blocks before the diagonal (incl. it) per query block [assumption]
    attn_global_blocks: int = 1       # leading key blocks every query block keeps [assumption]
    prefill_weight_stream: bool = False  # True: prefill keeps one group of mm_token_tile token rows in the A buffer and streams every weight tile past it, once per group ("fix A, swap B"), each SLR's slice of a tile through the HBM switch from its one B-buffer channel at the cross-channel efficiency [artifact IR_linear_mm.py: per MM_PARALLEL_M-row group LD A then LD B, cross_hbm_channel True, parallel_channel_num 1; config.yaml B_BUFFER_HBM_CHANNEL_NUM 1].  False (U280): weight-stationary over the prompt, each tile loaded once, striped over every channel [assumption: the U280 board program is binary only]
    softmax_per_head: bool = True     # decode QK^T goes head by head (whole heads, one per SLR per round, one K LD per MV of mv_cols_per_instr keys) and each head's softmax runs as soon as its MVs are done, overlapping the next heads' [artifact IR_attention_mv.py: MV_release_MISC at each head's last MV; inst_generator.py fuses the softmax into attention_mv].  Ablation (on-chip decode only; test_functional, test_goldens): False = one softmax after every head's scores
    on_chip_decode: bool = True       # the decode dataflow a run uses unless told otherwise: activations stay on chip [paper]; False = every op's output goes through HBM (the artifact's generator: inst_generator.py stores every op)
    fuse_misc_into_mv: bool = False   # decode via HBM: a MISC op that follows an MV (RoPE, SiLU, eltwise, softmax) runs inside the MV op, before its store [artifact inst_generator.py]; False = nothing fused, the paper's off-chip baseline [assumption]
    int32_bias_qkvo: bool = False     # q/k/v/o_proj each load an INT32 bias (N x 4 B) through one of the port's own channels before their weights, as the authors' LLaMA2 IR does [artifact IR llama2_*: bias_flag true on q/k/v/out_proj; IR_linear_mv.py / IR_linear_mm.py: LD bias, one channel, not cross]; False: LLaMA has no bias to load [assumption]
    qk_weight_density: float = 1.0    # kept fraction of q_proj/k_proj weights, unstructured (no index, no FSB); their bytes and MACs scale by it [artifact IR: param sparse_ratio 0.7 with mask_mode none]
    instruction_bytes: int = 32       # encoded instruction width; artifact ISA width not public [assumption]
    max_length: int = 2048            # maximum sequence length the instruction store serves [paper]
    # --- board ------------------------------------------------------------------------
    board_power_w: float = 45.0       # U280 running FlightLLM [paper]
    price_usd: float = 7500.0         # Alveo U280 list price [assumption]
    device: str = "xcu280"            # the part on the board, from the accel.devices catalogue (sweeps check fit against it) [paper: Alveo U280]

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
        for f in ("misc_setup_cycles", "compute_issue_cycles", "sys_sync_cycles", "attn_global_blocks",
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
        if self.max_length < max(self.prefill_bucket, self.decode_bucket):
            raise ConfigError(f"max_length {self.max_length} is shorter than a length bucket "
                              f"(prefill {self.prefill_bucket}, decode {self.decode_bucket})")
        if self.mv_cols_per_instr <= 0 or self.mv_cols_per_instr % 16:
            raise ConfigError(f"mv_cols_per_instr must be a positive multiple of 16, got "
                              f"{self.mv_cols_per_instr}")
        if self.mm_cols_per_instr <= 0:
            raise ConfigError(f"mm_cols_per_instr must be positive, got {self.mm_cols_per_instr}")
        if self.misc_norm_passes < 1:
            raise ConfigError(f"misc_norm_passes must be >= 1, got {self.misc_norm_passes}")
        for f in ("hbm_efficiency", "hbm_cross_channel_efficiency", "slr_parallel_efficiency",
                  "qk_weight_density"):
            if not 0 < getattr(self, f) <= 1:
                raise ConfigError(f"{f} must be in (0, 1], got {getattr(self, f)}")
        devices.check_name(self.device, "device")
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
    prefill_weight_stream=True,       # the authors' VHK158 compiler streams the weights once per token group (mm_token_tile rows), each SLR's slice through the switch on one channel [artifact IR_linear_mm.py]
    board_power_w=75.0,               # no measurement (simulated board) [assumption]
    price_usd=12000.0,                # VHK158 evaluation kit class price [assumption]
    device="xcvh1582",                # the VHK158's Versal HBM part [UG1611 VHK158 board user guide]
)
VHK158.validate()

# The authors' VHK158 profiler (artifact profile/), replicated from its settings and IR.
VHK158_ARTIFACT = replace(
    VHK158, name="vhk158-artifact",
    cores=4,                          # SLR_NUM 4 [artifact profile/config.yaml]
    mv_macs_per_core=64 * 16,         # MV_PARALLEL N x K x M = 64 x 16 x 1 per SLR [artifact]
    mm_macs_per_core=2 * 16 * 128,    # MM_PARALLEL N x K x M = 2 x 16 x 128 per SLR [artifact]
    mm_token_tile=128,                # MM_START_M_NUM: token rows per MM instruction [artifact]
    sfu_elems_per_cycle=16,           # SOFTMAX/LAYERNORM/ELTWISE/SILU_PARALLEL_K per SLR [artifact]
    misc_setup_cycles=0,              # the profiler charges no instruction overhead [artifact inst_profiler]
    compute_issue_cycles=0,           # idem [artifact inst_profiler]
    count_chain_fill=False,           # nor any pipeline fill: an MV/MM instruction is its MACs over the array's rate [artifact inst_profiler]
    sys_sync_cycles=1,                # time_SYS: one cycle [artifact inst_profiler]
    hbm_channel_gbps=819.2 * 2**30 / 1e9 / 32,  # HBM_BW_GB_PER_SEC 819.2, converted with 1024^3 B per GB [artifact utils/config_generator.py]
    hbm_efficiency=0.70,              # HBM_BW_SAME_CHANNEL_EFFICIENCY [artifact]
    hbm_cross_channel_efficiency=0.35,  # HBM_BW_CROSS_CHANNEL_EFFICIENCY [artifact]
    hbm_capacity_gb=8.0,              # HBM_TOTAL_SIZE_GB 8 [artifact]
    weight_bits=4.0,                  # the IR's INT8 weights are loaded with bandwidth_ratio 2, "2 stands for INT4" [artifact IR_linear_mv.py]
    on_chip_decode=False,             # the artifact's dataflow: every op stored [artifact inst_generator.py]
    fuse_misc_into_mv=True,           # [artifact inst_generator.py]
    fsb_all_linears=False,            # its IR: q/k unstructured (mask_mode none), the rest dense: no index, no FSB byte [artifact IR llama2_decode_token_*.yaml]
    int32_bias_qkvo=True,             # [artifact IR, IR_linear_mv.py]
    qk_weight_density=0.7,            # q_proj/k_proj sparse_ratio 0.7, mask_mode none [artifact IR llama2_decode_token_*.yaml]
    # The profiler times the whole model's instruction stream on ONE SLR's engines (one
    # 64x16 MV array, the A buffer's 8 HBM channels) and divides every instruction's time
    # by ``correction_factor = 3.2`` (inst_profiler.py, unexplained there; 3.2 / SLR_NUM 4
    # reads as 80 % of a perfect split).  This preset copies no such factor: it splits the
    # work over ``cores`` SLRs itself, in whole MV instructions / heads, with every SLR
    # loading an op's whole input and a SYS barrier per op (slr_* fields above);
    # ``accel flightllm validate`` reports what that gives and what remains.
    price_usd=12000.0,                # [assumption] as vhk158
)
VHK158_ARTIFACT.validate()

PRESETS: dict[str, FlightLLMConfig] = {"u280": U280, "vhk158": VHK158,
                                       "vhk158-artifact": VHK158_ARTIFACT}
DEFAULT_PRESET = "u280"
