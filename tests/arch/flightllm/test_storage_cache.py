"""Instruction storage is counted once per (shape, tiles, config, dataflow) and read back
from the user cache afterwards: the stored count must equal a fresh count, a different
input must never be served another's count, and a damaged entry is counted again."""

import dataclasses
import json

import pytest

from accel.arch.flightllm import PRESETS
from accel.arch.flightllm import compiler as C
from accel.arch.flightllm.model import shape_of, weight_block_ns
from accel.arch.flightllm.storage import _cache_file, count_storage, instruction_storage
from accel.workloads.llm import llm_workload

CFG = dataclasses.replace(PRESETS["u280"], max_length=128)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(tmp_path))
    return tmp_path


def _inputs(model, sparsity="dense", cfg=CFG):
    wl = llm_workload(model, 16, 4, sparsity=sparsity)
    shape = shape_of(wl)
    return shape, C.fused_tiles(shape, weight_block_ns(wl, shape), cfg), cfg


@pytest.mark.parametrize("on_chip", [True, False])
def test_stored_count_equals_a_fresh_count(cache, tiny_config, on_chip):
    shape, tiles, cfg = _inputs(tiny_config)
    first = instruction_storage(shape, tiles, cfg, on_chip)
    path = _cache_file(shape, tiles, cfg, on_chip)
    assert path.is_file() and path.is_relative_to(cache)
    assert json.loads(path.read_text()) == first == count_storage(shape, tiles, cfg, on_chip)
    assert instruction_storage(shape, tiles, cfg, on_chip) == first


def test_every_input_has_its_own_entry(cache, tiny_config):
    shape, tiles, cfg = _inputs(tiny_config)
    _, sparse_tiles, _ = _inputs(tiny_config, sparsity="2:16")
    other_cfg = dataclasses.replace(cfg, max_length=256)
    files = {_cache_file(shape, tiles, cfg, True), _cache_file(shape, tiles, cfg, False),
             _cache_file(shape, sparse_tiles, cfg, True),
             _cache_file(shape, tiles, other_cfg, True)}
    assert len(files) == 4
    assert (instruction_storage(shape, tiles, other_cfg, True)
            == count_storage(shape, tiles, other_cfg, True))
    assert instruction_storage(shape, tiles, other_cfg, True)["max_length"] == 256


def test_a_damaged_entry_is_counted_again(cache, tiny_config):
    shape, tiles, cfg = _inputs(tiny_config)
    good = instruction_storage(shape, tiles, cfg, True)
    path = _cache_file(shape, tiles, cfg, True)
    path.write_text('{"max_length": 12')            # cut short
    assert instruction_storage(shape, tiles, cfg, True) == good
    assert json.loads(path.read_text()) == good      # and rewritten whole


def test_an_unwritable_entry_only_costs_time(cache, tiny_config):
    shape, tiles, cfg = _inputs(tiny_config)
    path = _cache_file(shape, tiles, cfg, True)
    path.mkdir(parents=True)                          # a folder where the entry would go
    assert instruction_storage(shape, tiles, cfg, True) == count_storage(shape, tiles, cfg, True)
    assert path.is_dir()
