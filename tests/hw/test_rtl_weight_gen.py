"""The sparse weight generator in Verilator (marker rtl) on real MiniLM weights.

The dense FP16 weights of encoder layer 0's FFN1 (1536 x 384) and Q projection
(384 x 384) stream through ``SparseWeightGen`` as M x L blocks; every output beat's
forward and backward values and positions must equal ``nm_compress`` (prune.py's rule)
on the same FP16 weights -- so both BDWP masks are identical to ``prune.bdwp_masks`` --
and every run must take exactly ``gen_cycles`` (unstalled, random stalls, after a
reset in the middle of a stalled run).
"""

from __future__ import annotations

import numpy as np
import pytest

from accel.arch.sat import fp16
from accel.arch.sat.weight_gen import gen_beats, gen_cycles
from accel.hw.blocks.weight_gen import cosim as gen_cosim
from accel.hw.blocks.weight_gen.gen import GenParams

pytestmark = pytest.mark.rtl

FFN1, QUERY = "encoder.layer.0.intermediate.dense", "encoder.layer.0.attention.self.query"


def _check(rep, weights, g):
    assert rep["cocotb_failed"] == 0, rep["log"]
    assert rep["cycle_mismatches"] == 0 and rep["output_mismatches"] == 0
    seen = {(o["scenario"], o["name"]) for o in rep["per_run"]}
    for name, w in weights.items():
        model = gen_cycles(gen_beats(*w.shape, g.m, g.lanes))
        for scen in ("unstalled", "random_stalls"):
            o = next(o for o in rep["per_run"] if (o["scenario"], o["name"]) == (scen, name))
            assert o["rtl_cycles"] == model and o["outputs_checked"] > 0, o
        assert (("unstalled", name) in seen)
    assert ("after_reset", "after_reset") in seen


def test_weight_gen_minilm_bdwp28():
    g = GenParams(2, 8, 16)
    weights = {layer: fp16.to_fp16_bits(gen_cosim.dense_weight("minilm-l6", layer))
               for layer in (FFN1, QUERY)}
    assert weights[FFN1].shape == (1536, 384)
    rep = gen_cosim.run_gen(g, weights, seed=3)
    _check(rep, weights, g)


def test_weight_gen_cli_masks_equal_prune(capsys):
    """`accel rtl cosim weight-gen` (2:4 this time): the report's masks rebuilt
    from the checked beats equal prune.bdwp_masks on the FP16 weights."""
    import json

    from accel.cli import main

    rc = main(["rtl", "cosim", "weight-gen", "--workload", "minilm-l6",
               "--prune", "bdwp:2:4", "--layer", QUERY, "--lanes", "8", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["ok"] is True and d["value_mismatches"] == 0
    assert d["cycle_mismatches"] == 0 and d["output_mismatches"] == 0
    assert d["outputs_checked"] > 0
    assert d["masks_vs_prune"]["fwd_differences"] == 0
    assert d["masks_vs_prune"]["bwd_differences"] == 0
    assert d["masks_vs_prune"]["kept_fwd"] == 384 * 384 // 2
    assert d["model_cycles_per_run"] == gen_cycles(gen_beats(384, 384, 4, 8)) == 4610
    assert np.isfinite(d["sim_seconds"])
