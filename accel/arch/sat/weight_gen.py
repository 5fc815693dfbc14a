"""The sparse weight generator: the contract between the SAT model and its RTL.

SAT regenerates its N:M weights from the dense weights every training step.  BDWP needs
two masks of each weight W (out, in): the *forward* mask, top-N of every M consecutive
input channels, and the *backward* mask, top-N of every M consecutive output channels
(``accel.workloads.prune.bdwp_masks``).  The RTL generator (block ``weight-gen``,
``accel.hw.blocks.weight_gen``) reads W once and produces both:

* input beat: one M x L block of W -- output channels o0..o0+M-1, input channels
  i0..i0+L-1 (``lanes`` = L, a multiple of M) -- as FP16 codes.  Blocks are streamed
  row-block by row-block: ``for ob in range(ceil(out/M)): for ib in range(ceil(in/L))``;
  edges are zero-padded (zeros rank like the padding of ``formats.nm_compress``);
* output beat: the block's forward groups (each of the M rows holds L/M groups of M
  along input channels) and its backward groups (each of the L columns is one group of
  M along output channels): per group the N kept values and their positions 0..M-1 in
  ascending position order -- exactly ``nm_compress``'s values/indices;
* selection: top-N by magnitude (the 15 magnitude bits of the FP16 code, which order
  finite FP16 values as ``abs`` does), ties to the lower position, as ``prune.py``.

Timing: the unit takes one block per cycle and registers its result (``GEN_LATENCY``);
a run of ``beats`` blocks after one ``start`` takes ``gen_cycles(beats)`` cycles with
unstalled streams, and its cycle counter (start cycle + advancing cycles) equals that
under any valid/ready stalls.  Checked by tests/hw (amaranth.sim and Verilator).
"""

from __future__ import annotations

GEN_START_CYCLES = 1   # `start` accepted -> first block may enter
GEN_LATENCY = 1        # selection network is combinational into one output register


def gen_beats(out_ch: int, in_ch: int, m: int, lanes: int) -> int:
    """Blocks (= input beats) to stream a W of (out_ch, in_ch) through the generator."""
    if out_ch <= 0 or in_ch <= 0 or m <= 0 or lanes <= 0 or lanes % m:
        raise ValueError("need positive sizes and lanes a multiple of m")
    return -(-out_ch // m) * -(-in_ch // lanes)


def gen_cycles(beats: int) -> int:
    """Cycles from ``start`` to ``done`` for a run of ``beats`` blocks, unstalled."""
    if beats < 0:
        raise ValueError("beats must be >= 0")
    if beats == 0:
        return GEN_START_CYCLES
    return GEN_START_CYCLES + beats + GEN_LATENCY
