"""Validated parameters of one sparse PE-array configuration (shared by RTL, CLI, synth)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from accel.errors import AccelError

# Window sizes the activation multiplexers are built for: powers of two so a kept
# weight's position is exactly log2(M) bits (2:4, 2:8 from SAT; M = 16 from FlightLLM).
SUPPORTED_M = (2, 4, 8, 16)
# Operand widths the generator accepts: 2 bits is the smallest signed multiply that means
# anything; 16 bits covers INT16/FP16-mantissa experiments; beyond that use DSP cascades.
MIN_OPERAND_BITS, MAX_OPERAND_BITS = 2, 16
MAX_ACC_BITS = 64      # the NumPy reference wraps in int64
# Datapaths of the same component: "int8" (signed integers, wrap-around accumulators) or
# "fp16" (FP16 operands, exact fixed-point accumulators, FP32 results; rules in
# accel/arch/sat/fp16.py).
DTYPES = ("int8", "fp16")
FP16_BITS, FP32_BITS = 16, 32
MAX_DIM = 64           # rows/cols: 64x64 PEs is already far beyond one SLR for M = 16
BEATS_BITS = 16        # tile length register: up to 65535 beats (K up to ~1M at 2:16)
CYCLES_BITS = 32       # cycle counter width: 4e9 cycles per tile is never reached
# FP16 products as fixed-point integers in units of 2^-48 (accel/arch/sat/fp16.py):
# |(1024+fa)(1024+fb) << (ea+eb-2)| < 2^22 * 2^60, so 82 magnitude bits
FP16_PRODUCT_BITS = 82
# Revision of the FP16 RTL, salted into its config hashes: the exact-accumulation datapath
# replaced FP32 adders in every PE, so no synthesis or build of that one is ever reused
FP16_DATAPATH = "exact-accumulate"
MAX_TILE_BEATS = (1 << BEATS_BITS) - 1   # one-tile arrays: the beat register; pipelined
                                         # runs: the host refuses longer tiles (cosim)


def kulisch_bits(n: int) -> int:
    """Width of the FP16 PE's exact accumulator: a tile sums at most MAX_TILE_BEATS * n
    products of < 2^82, so 82 + ceil(log2(MAX_TILE_BEATS * n)) magnitude bits + a sign
    (n = 2: 82 + 17 + 1 = 100) -- no rounding or overflow inside the array."""
    return FP16_PRODUCT_BITS + (MAX_TILE_BEATS * n - 1).bit_length() + 1


@dataclass(frozen=True)
class ArrayParams:
    rows: int
    cols: int
    n: int
    m: int
    act_bits: int = 8       # INT8 activations (SAT/FlightLLM datapaths)
    weight_bits: int = 8    # INT8 weights
    acc_bits: int = 32      # 32-bit accumulators, as a DSP48E2 P register holds
    # Shadow accumulators: runs of tiles back to back (tile i+1 feeds while tile i
    # drains); timing ``accel.arch.sat.pe_array.tiles_cycles(..., pipelined=True)``.
    # Off = the original one-tile-per-start design (the committed rtl/*.v).
    pipelined: bool = False
    # "fp16": SAT's training datapath (act/weight 16-bit FP16 codes, acc a 32-bit FP32
    # code); "int8" keeps the integer engine.  act/weight/acc_bits then must be 16/16/32.
    dtype: str = "int8"

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        for name in ("rows", "cols", "n", "m", "act_bits", "weight_bits", "acc_bits"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool):
                raise AccelError(f"{name} must be an integer, got {v!r}")
        if not isinstance(self.pipelined, bool):
            raise AccelError(f"pipelined must be true or false, got {self.pipelined!r}")
        if self.dtype not in DTYPES:
            raise AccelError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.fp and (self.act_bits, self.weight_bits, self.acc_bits) != (
                FP16_BITS, FP16_BITS, FP32_BITS):
            raise AccelError(f"--dtype fp16 has 16-bit operands and 32-bit accumulators, got "
                             f"act {self.act_bits}, weight {self.weight_bits}, acc {self.acc_bits}")
        if self.rows <= 0 or self.cols <= 0:
            raise AccelError(f"PE array must be non-empty, got {self.rows}x{self.cols}")
        if self.rows > MAX_DIM or self.cols > MAX_DIM:
            raise AccelError(f"PE array larger than {MAX_DIM}x{MAX_DIM}: {self.rows}x{self.cols}")
        if self.m not in SUPPORTED_M:
            raise AccelError(f"M={self.m} not supported; supported M: "
                             f"{', '.join(map(str, SUPPORTED_M))}")
        if not 1 <= self.n <= self.m:
            raise AccelError(f"N:M needs 1 <= N <= M, got {self.n}:{self.m}")
        for name in ("act_bits", "weight_bits"):
            v = getattr(self, name)
            if not MIN_OPERAND_BITS <= v <= MAX_OPERAND_BITS:
                raise AccelError(f"--{name.replace('_', '-')} must be in "
                                 f"{MIN_OPERAND_BITS}..{MAX_OPERAND_BITS}, got {v}")
        prod = self.act_bits + self.weight_bits
        if not prod <= self.acc_bits <= MAX_ACC_BITS:
            raise AccelError(f"--acc-bits {self.acc_bits} cannot hold a {self.act_bits}x"
                             f"{self.weight_bits}-bit product ({prod} bits); need "
                             f"{prod}..{MAX_ACC_BITS}")

    @property
    def fp(self) -> bool:
        return self.dtype == "fp16"

    @classmethod
    def fp16(cls, rows: int, cols: int, n: int, m: int, pipelined: bool = False):
        return cls(rows, cols, n, m, FP16_BITS, FP16_BITS, FP32_BITS, pipelined, "fp16")

    @property
    def kulisch_bits(self) -> int:
        """FP16 arrays: width of every PE's exact accumulator (:func:`kulisch_bits`)."""
        return kulisch_bits(self.n)

    @property
    def idx_bits(self) -> int:
        return max(1, (self.m - 1).bit_length())

    @property
    def row_bits(self) -> int:
        return max(1, (self.rows - 1).bit_length())

    @property
    def dense_engine(self) -> bool:
        return self.n == self.m

    @property
    def name(self) -> str:
        kind = ("_fp16acc32" if self.fp else
                f"_a{self.act_bits}w{self.weight_bits}acc{self.acc_bits}")
        return (f"pe{self.rows}x{self.cols}_n{self.n}m{self.m}{kind}"
                + ("_pipe" if self.pipelined else ""))

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.pipelined:
            # the default design keeps its original dict, so its config hash (build dirs,
            # rtl/synth_cache.json keys) and the committed sidecars stay the same
            del d["pipelined"]
        if not self.fp:
            del d["dtype"]      # same reason: INT8 hashes and sidecars predate dtype
        return d

    def config_hash(self) -> str:
        """Short stable hash: names the build directory and the synthesis cache entry."""
        d = self.to_dict()
        if self.fp:
            d["datapath"] = FP16_DATAPATH
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]
