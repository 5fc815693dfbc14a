"""The SAT model's per-process plan memo (``model.plan_memo``) is exact: its key holds
every config field ``schedule.plan`` reads, and a memoised result equals a fresh one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accel.arch.sat import model
from accel.arch.sat.config import PRESETS
from accel.arch.sat.schedule import engine_op, plan
from accel.configs import apply_overrides


class Recording:
    """A config stand-in that records every attribute read through it."""

    def __init__(self, cfg):
        object.__setattr__(self, "_cfg", cfg)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name):
        self.read.add(name)
        return getattr(self._cfg, name)


def _ops(cfg):
    shapes = [(128, 384, 384, None), (128, 384, 1536, (2, 4)), (1536, 128, 384, (1, 8)),
              (7, 3, 5, None), (128, 1536, 384, (2, 8))]
    return [engine_op(m, k, n, nm, cfg) for m, k, n, nm in shapes]


@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("offline", [False, True])
@pytest.mark.parametrize("overrides", [{}, {"pipelined_tiles": True, "act_buffer_kb": 128},
                                       {"default_dataflow": "ws", "pe_rows": 64}])
def test_plan_reads_only_the_memo_key_fields(interleave, offline, overrides):
    cfg = apply_overrides(PRESETS["sat-vcu1525"], overrides)
    rec = Recording(cfg)
    plan(_ops(cfg), rec, interleave, offline)
    assert rec.read <= set(model.PLAN_FIELDS), sorted(rec.read - set(model.PLAN_FIELDS))


def test_every_key_field_is_a_config_field_or_property():
    cfg = PRESETS["sat-vcu1525"]
    names = {f.name for f in dataclasses.fields(cfg)}
    for f in model.PLAN_FIELDS:
        assert f in names or isinstance(getattr(type(cfg), f, None), property), f


def test_memoised_plan_equals_a_fresh_plan_whatever_came_before():
    model._PLAN_MEMO.clear()
    configs = [apply_overrides(PRESETS["sat-vcu1525"], o) for o in (
        {}, {"pe_rows": 32}, {"dram_gbps_per_channel": 4.8}, {"pipelined_tiles": True},
        {"weight_buffer_kb": 128}, {"mults_per_pe": 2})]
    for _ in range(2):   # the second pass is all hits
        for cfg in configs:
            ops = _ops(cfg) + _ops(cfg)[:2]    # repeated ops within one call too
            got, gmaps = model.plan_memo(ops, cfg, True, True)
            want, wmaps = plan(ops, cfg, True, True)
            np.testing.assert_array_equal(got, want)
            assert gmaps == wmaps


def test_simulate_is_the_same_with_a_warm_or_cold_memo():
    from accel.workloads.builtin import resolve

    w = resolve("minilm-l6", prune="bdwp:2:8", training=True)
    cfg = apply_overrides(PRESETS["sat-vcu1525"], {"pe_cols": 16})
    model._PLAN_MEMO.clear()
    cold = model.simulate(w, cfg).to_dict()
    warm = model.simulate(w, cfg).to_dict()
    cold.pop("sim_wall_s"), warm.pop("sim_wall_s")
    assert cold == warm
