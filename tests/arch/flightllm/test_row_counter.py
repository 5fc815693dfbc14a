"""``compiler.RowCounter`` sizes programs without building them (instruction storage counts
4,096 of them): its row counts must equal those of the built programs, for prefill and
both decode dataflows, on every preset, at lengths around every bucket and block edge."""

import dataclasses

import pytest

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm.decode import decode_parts
from accel.arch.flightllm.model import shape_of, weight_block_ns
from accel.workloads.llm import llm_workload

LENGTHS = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257)


def _inputs(model, sparsity, cfg):
    wl = llm_workload(model, 16, 4, sparsity=sparsity)
    shape = shape_of(wl)
    return shape, C.fused_tiles(shape, weight_block_ns(wl, shape), cfg)


def _rows(parts):
    return [len(p) for p in parts]


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("model,sparsity", [("llama2-7b", "2:16"), ("opt-6.7b", "dense"),
                                            ("tiny", "4:16")])
def test_row_counter_sizes_every_program_as_built(preset, model, sparsity, tiny_config):
    cfg = dataclasses.replace(PRESETS[preset], max_length=512)
    shape, tiles = _inputs(tiny_config if model == "tiny" else model, sparsity, cfg)
    for n in LENGTHS:
        built = C.prefill_parts(shape, tiles, cfg, n)
        counted = C.prefill_parts(shape, tiles, cfg, n, builder=C.RowCounter)
        assert _rows(counted) == _rows(built), ("prefill", n)
        for on_chip in (True, False):
            built = decode_parts(shape, tiles, cfg, n, on_chip)
            counted = decode_parts(shape, tiles, cfg, n, on_chip, builder=C.RowCounter)
            assert _rows(counted) == _rows(built), ("decode", on_chip, n)
