"""Validated parameters of one sparse DSP chain (shared by the RTL, the bench, synth)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from accel.arch.flightllm import dsp_chain as contract
from accel.errors import AccelError
from accel.workloads.llm import SPARSE_M

MAX_CHAIN_DSPS = 64     # one chain of 64 cascaded DSP48E2 already spans more than a clock region column (UG579: 24 DSPs per column per clock region on UltraScale+)
ACT_BITS = WEIGHT_BITS = 8   # INT8 activations and weights [paper]
IDX_BITS = 4                 # position 0..15 of a kept weight in its M = 16 group [paper]
P_BITS = 48                  # DSP48E2 P register / cascade width [UG579]
A_BITS = 27                  # DSP48E2 multiplier A input (A:D pre-adder output) [UG579]


RTL_VERSION = 2     # bump when the generated design changes (keys the synth cache)


@dataclass(frozen=True)
class ChainParams:
    chain_dsps: int = 16     # FlightLLMConfig.chain_dsps default
    dsp_group: int = 2       # FlightLLMConfig.dsp_group default [paper]
    acc_bits: int = 32       # per-row accumulator: exact for K up to 2**31 / (127*128) ~ 132K

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        for name in ("chain_dsps", "dsp_group", "acc_bits"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool):
                raise AccelError(f"{name} must be an integer, got {v!r}")
        if not 1 <= self.chain_dsps <= MAX_CHAIN_DSPS:
            raise AccelError(f"chain_dsps must be in 1..{MAX_CHAIN_DSPS}, got {self.chain_dsps}")
        if not 1 <= self.dsp_group <= contract.PACKED_MAX_DSPS:
            raise AccelError(f"dsp_group must be in 1..{contract.PACKED_MAX_DSPS} (a group's "
                             f"cascade holds packed sums of at most that many products), "
                             f"got {self.dsp_group}")
        if self.chain_dsps % self.dsp_group:
            raise AccelError(f"chain_dsps {self.chain_dsps} must be a multiple of dsp_group "
                             f"{self.dsp_group}")
        if not self.sum_bits <= self.acc_bits <= 64:
            raise AccelError(f"acc_bits must be in {self.sum_bits}..64 for a "
                             f"{self.chain_dsps}-DSP chain, got {self.acc_bits}")

    @property
    def groups(self) -> int:
        return self.chain_dsps // self.dsp_group

    @property
    def m(self) -> int:
        return SPARSE_M

    @property
    def sum_bits(self) -> int:
        """Width of one row's pass sum: chain_dsps products of |a w| <= 2**14."""
        return 15 + self.chain_dsps.bit_length() + 1

    @property
    def name(self) -> str:
        return f"dspchain{self.chain_dsps}g{self.dsp_group}_acc{self.acc_bits}"

    def to_dict(self) -> dict:
        return asdict(self)

    def config_hash(self) -> str:
        text = json.dumps({"block": "dsp-chain", "rtl": RTL_VERSION, **self.to_dict()},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]
