"""The issue's headline case (llama2-7b, u280, [128, 512]) as a regression test.

On the U280 every linear op runs in FSB mode (``fsb_all_linears``: the paper's model is
N:M block-sparse in every linear layer, so each kept weight carries its 4-bit index and
each block an FSB byte, 16:16 blocks included): decode streams about 7.5 bits per weight
and is LD-bound at the HBM's streaming efficiency.  That one mechanism puts both of the
paper's U280 figures in reach at once: ~55 tokens/s and 65.9 % HBM utilisation.  Without
it (the artifact's VHK158 accounting, dense ops index-free) decode is MV-bound and far
faster than the board.
"""

import dataclasses

import pytest

from accel.arch.flightllm import compiler as C
from accel.arch.flightllm import decode as D
from accel.arch.flightllm.config import PRESETS
from accel.arch.flightllm.model import run_program, simulate, weight_block_ns
from accel.arch.flightllm.study import PAPER
from accel.workloads.llm import llm_workload, shape_of

U280 = PRESETS["u280"]


def test_headline_decode_and_hbm_utilisation():
    w = llm_workload("llama2-7b", 128, 512)
    on = simulate(w, U280, storage=False, compute_outputs=False)
    off = simulate(w, U280, on_chip_decode=False, storage=False, compute_outputs=False)
    tok_s = PAPER["u280 llama2-7b decode tok/s"]
    assert abs(on.decode_tokens_per_s / tok_s - 1) < 0.15          # the issue's +-15 %
    assert max(on.unit_busy, key=on.unit_busy.get) == "LD" and on.unit_busy["LD"] > 0.95
    # the paper's 65.9 %: LD-bound at the streaming efficiency, a little below it
    assert abs(on.hbm_utilization - 0.659) < 0.02
    assert on.hbm_utilization < U280.hbm_efficiency
    assert off.hbm_utilization < on.hbm_utilization - 0.03       # paper: 35.6 % off-chip
    assert off.decode_tokens_per_s < on.decode_tokens_per_s
    # ablation: without the index on all-16:16 ops decode is MV-bound, 1.6-1.9x faster
    noidx = simulate(w, dataclasses.replace(U280, fsb_all_linears=False), storage=False,
                     compute_outputs=False)
    assert max(noidx.unit_busy, key=noidx.unit_busy.get) == "MV"
    assert 1.6 < noidx.decode_tokens_per_s / on.decode_tokens_per_s < 1.9


def test_u280_decode_bytes_and_growth_by_mechanism():
    """The step moves the weight stream (values + indices + FSB bytes) once, and grows with
    context by the attention ops, which the per-op barrier keeps off the weight stream:
    the concat's re-read of K and V, then QK^T and AV over the cached entries."""
    w = llm_workload("llama2-7b", 128, 16)
    sh = shape_of(w)
    t = C.fused_tiles(sh, weight_block_ns(w, sh), U280)
    runs = {c: run_program(D.decode_program(sh, t, U280, c), U280) for c in (144, 528)}
    hz = U280.clock_mhz * 1e6
    weights = sum(t[n].total_bytes for n in ("qkv", "o_proj", "ffn_in", "ffn_out")) \
        * sh.layers + t["lm_head"].total_bytes
    kept = sh.layers * (4 * sh.hidden ** 2 + 3 * sh.hidden * sh.ffn) + sh.vocab * sh.hidden
    assert weights * 8 / kept == pytest.approx(3.5 + 4 + 8 / 256, rel=0.01)  # value, index, FSB
    r = runs[144]
    assert r.hbm_bytes == pytest.approx(weights, rel=0.06)
    ld_rate = U280.hbm_peak_gbps * 1e9 * U280.hbm_efficiency           # bytes/s streaming
    assert r.cycles / hz == pytest.approx(r.hbm_bytes / ld_rate, rel=0.08)
    # growth: per token of context each layer re-reads K and V (concat) and reads them
    # again in QK^T / AV, i.e. 4 x kv_dim bytes, serialised behind the op barriers
    growth_s = (runs[528].cycles - runs[144].cycles) / hz / 384
    kv_bytes = 4 * sh.kv_dim * sh.layers
    assert 1.0 < growth_s / (kv_bytes / ld_rate) < 1.35
    extra = (runs[528].hbm_bytes - runs[144].hbm_bytes) / 384
    assert extra == pytest.approx(kv_bytes, rel=0.02)
