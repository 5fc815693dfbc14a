"""Parameters of the PIUMA-style graph processor the SMASH model runs on.

One simulated *die* by default: 8 cores, each with 4 multi-threaded pipelines of 16
threads plus 2 single-threaded pipelines (66 threads/core, as PIUMA's public material
says), a 4 MB scratchpad and a 192 KB non-coherent cache per core, and DRAM with 8-byte
access granularity.  Everything the papers leave open (clock, latencies, bank counts,
hash and window parameters) is a named field with a one-line reason.  Times are in core
clock cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from accel.errors import ConfigError

HASH_FUNCTIONS = ("fibonacci", "modulo")   # multiplicative (Knuth) or low bits of the column
COLLISION_POLICIES = ("linear", "quadratic")
ENTRY_BYTES = 16                          # one hash slot: 8-byte key word + 8-byte value


def _pow2(x: int) -> bool:
    return x > 0 and (x & (x - 1)) == 0


@dataclass(frozen=True)
class PiumaConfig:
    # --- machine size -------------------------------------------------------------------
    cores: int = 8                      # one PIUMA die = 8 cores [paper/press]; keeps scale-14 runs fast
    mt_pipelines: int = 4               # multi-threaded pipelines per core: 4x16 + 2 = 66 threads [paper]
    threads_per_pipeline: int = 16      # threads per multi-threaded pipeline [paper]
    st_pipelines: int = 2               # single-threaded pipelines per core [paper]
    issue_width: int = 1                # instructions per cycle per pipeline (in-order, scalar) [assumption]
    clock_ghz: float = 1.0              # not public; 1 GHz is a round assumption for a low-power many-core
    # --- scratchpad and atomics ---------------------------------------------------------
    spad_bytes: int = 4 * 1024 * 1024   # 4 MB scratchpad per core [paper]
    spad_banks: int = 16                # not public; word-interleaved banks per core [assumption]
    spad_latency: int = 4               # not public; SRAM access in the core [assumption]
    atomic_cycles: int = 2              # bank busy time of a near-memory atomic RMW (read+write) [assumption]
    remote_atomic_latency: int = 40     # round trip of an atomic to another core's scratchpad over the mesh [assumption]
    # --- cache -------------------------------------------------------------------------
    cache_bytes: int = 192 * 1024       # 192 KB data cache per core [paper]
    cache_line_bytes: int = 64          # not public; conventional line. Uncached streams use 8-byte words
    cache_latency: int = 4              # not public [assumption]
    # --- DRAM ----------------------------------------------------------------------------
    dram_latency: int = 120             # not public; ~120 ns DDR5 load-to-use at 1 GHz [assumption]
    dram_channels: int = 4              # not public; DDR5 channels per die [assumption]
    dram_mtps: float = 4400.0           # DDR5-4400 [paper]: 4400 M 8-byte transfers/s per channel
    dram_interleave_bytes: int = 256    # channel interleave granule [assumption]
    word_bytes: int = 8                 # DRAM access granularity [paper]
    max_outstanding: int = 8            # memory requests in flight per thread [assumption]
    # --- execution engine ---------------------------------------------------------------
    sync_quantum: int = 200             # lax synchronisation window between pipelines (Sniper-style) [assumption]
    mul_cycles: int = 1                 # issue slots of a multiply (+accumulate operand move) [assumption]
    hash_cycles: int = 2                # issue slots to compute the hash (mul + shift/mask) [assumption]
    compare_cycles: int = 1             # one compare-and-branch of a merge/sort/intersection step [assumption]
    scan_slots_per_cycle: int = 1       # hash slots examined per issue slot during write-back [assumption]
    step_pps: int = 128                 # engine granularity: products per thread step (not hardware; rmat:12 cycles move <=7% over 32..1024)
    step_columns: int = 32              # engine granularity: inner-product columns per step (not hardware)
    step_slots: int = 64                # engine granularity: a longer instruction run (a write-back sort, a 128-product step) is issued in pieces of this many slots, round-robin with the pipeline's other threads, instead of holding the pipeline (not hardware)
    # --- SMASH ---------------------------------------------------------------------------
    hash_table_entries: int = 2048      # per-thread table (v1/v2): 66 x 2048 x 16 B = 2.1 MB of the 4 MB spad
    hash_function: str = "fibonacci"    # not public; Knuth multiplicative hash of the column index
    collision_policy: str = "linear"    # not public; open addressing with linear probing
    sorted_output: bool = False         # write-back compacts the table into CSR [thesis]; True also sorts each C row's columns (n log2 n compares). The simulator always hands back canonical (sorted) CSR to compare with SciPy; row order is not part of the matrix
    max_load: float = 0.75              # fill limit before a new key spills to DRAM [assumption]
    window_rows: int = 1                # v1: rows per window, windows dealt round-robin to threads (4096 rows / 528 threads leaves no room for bigger windows) [assumption]
    token_rows: int = 1                 # v2/v3: light rows per token (atomic fetch-add); same grain as v1's windows [assumption]
    token_pps: int = 1024               # v2/v3: a row with more partial products is cut into tokens of ~this many, merged by helpers into the owner's table; 1024 cuts rmat:12's 40k-product hub row over ~40 threads while a token's fetch-add (~45 cycles) stays <2% of its work; 0 = whole rows [assumption]
    poll_cycles: int = 64               # a row owner waiting for its helpers re-reads the open-token counter in its own scratchpad this often (one issue slot each) [assumption]
    fragment_entries: int = 256         # v3: slots per scratchpad fragment [assumption]
    pool_fraction: float = 1.0          # v3: share of the scratchpad in the fragment pool (v3 has no fixed tables) [assumption]
    max_fragments: int = 128            # v3: fragments one row's table may take (32768 slots) [assumption]
    # --- baselines ---------------------------------------------------------------------
    dense_acc_cached: bool = False      # gustavson-dense: the dense accumulator's random read-modify-writes go uncached, 16 B each, using PIUMA's 8-byte DRAM granularity; True sends them through the 64-B lines of the 192 KB cache, which 66 threads x N x 16 B of accumulators thrash [mapping choice]

    @property
    def threads_per_core(self) -> int:
        return self.mt_pipelines * self.threads_per_pipeline + self.st_pipelines

    @property
    def threads(self) -> int:
        return self.cores * self.threads_per_core

    @property
    def pipelines(self) -> int:
        return self.cores * (self.mt_pipelines + self.st_pipelines)

    @property
    def dram_words_per_cycle(self) -> float:
        """Per channel: 8-byte transfers per core clock."""
        return self.dram_mtps / (1000.0 * self.clock_ghz)

    @property
    def pool_fragments(self) -> int:
        return int(self.spad_bytes * self.pool_fraction) // (ENTRY_BYTES * self.fragment_entries)

    def validate(self) -> None:
        positive = ("cores", "threads_per_pipeline", "issue_width", "spad_bytes", "spad_banks",
                    "spad_latency", "atomic_cycles", "remote_atomic_latency", "cache_bytes",
                    "cache_line_bytes", "cache_latency", "dram_latency", "dram_channels",
                    "dram_interleave_bytes", "max_outstanding", "sync_quantum", "mul_cycles",
                    "hash_cycles", "compare_cycles", "scan_slots_per_cycle", "window_rows",
                    "token_rows", "max_fragments", "step_pps", "step_columns", "poll_cycles",
                    "step_slots")
        for name in positive:
            v = getattr(self, name)
            if v <= 0:
                raise ConfigError(f"{name} must be positive, got {v}")
        for name in ("mt_pipelines", "st_pipelines"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.token_pps < 0:
            raise ConfigError(f"token_pps must be >= 0 (0 = whole rows), got {self.token_pps}")
        if self.threads_per_core <= 0:
            raise ConfigError("a core needs at least one pipeline (mt_pipelines + st_pipelines)")
        if self.clock_ghz <= 0 or self.dram_mtps <= 0:
            raise ConfigError(f"clock_ghz and dram_mtps must be positive, got "
                              f"{self.clock_ghz}, {self.dram_mtps}")
        if self.word_bytes != 8:
            raise ConfigError(f"word_bytes is PIUMA's 8-byte DRAM granularity, got {self.word_bytes}")
        if self.dram_interleave_bytes % self.word_bytes:   # channels interleave whole words
            raise ConfigError(f"dram_interleave_bytes must be a multiple of word_bytes "
                              f"({self.word_bytes}), got {self.dram_interleave_bytes}")
        if not _pow2(self.cache_line_bytes) or self.cache_line_bytes < 8:
            raise ConfigError(f"cache_line_bytes must be a power of two >= 8, got {self.cache_line_bytes}")
        if self.cache_bytes < self.cache_line_bytes:
            raise ConfigError(f"cache_bytes {self.cache_bytes} is smaller than one line")
        if not _pow2(self.hash_table_entries) or self.hash_table_entries < 16:
            raise ConfigError(f"hash_table_entries must be a power of two >= 16, got "
                              f"{self.hash_table_entries}")
        need = self.threads_per_core * self.hash_table_entries * ENTRY_BYTES
        if need > self.spad_bytes:
            raise ConfigError(f"hash_table_entries={self.hash_table_entries}: "
                              f"{self.threads_per_core} tables need {need} B > spad_bytes={self.spad_bytes}")
        if not _pow2(self.fragment_entries) or self.fragment_entries < 16:
            raise ConfigError(f"fragment_entries must be a power of two >= 16, got {self.fragment_entries}")
        if not _pow2(self.max_fragments):
            raise ConfigError(f"max_fragments must be a power of two, got {self.max_fragments}")
        if not 0.0 < self.pool_fraction <= 1.0:
            raise ConfigError(f"pool_fraction must be in (0, 1], got {self.pool_fraction}")
        if self.pool_fragments < 1:
            raise ConfigError("fragment pool holds no fragment: raise pool_fraction or spad_bytes")
        if not 0.0 < self.max_load <= 1.0:
            raise ConfigError(f"max_load must be in (0, 1], got {self.max_load}")
        if self.hash_function not in HASH_FUNCTIONS:
            raise ConfigError(f"unknown hash_function {self.hash_function!r}; known: "
                              f"{', '.join(HASH_FUNCTIONS)}")
        if self.collision_policy not in COLLISION_POLICIES:
            raise ConfigError(f"unknown collision_policy {self.collision_policy!r}; known: "
                              f"{', '.join(COLLISION_POLICIES)}")


PRESETS: dict[str, PiumaConfig] = {"piuma": PiumaConfig()}
DEFAULT_PRESET = "piuma"
for _cfg in PRESETS.values():
    _cfg.validate()
