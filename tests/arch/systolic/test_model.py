"""simulate(): N:M timing and results on real operands, dense baseline, invariants, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accel.arch.systolic.config import PRESETS, SystolicConfig
from accel.arch.systolic.model import UNITS, kept_rows, simulate
from accel.errors import AccelError, ConfigError, WorkloadError
from accel.workloads.formats import NM, Dense, Unstructured, nm_compress
from accel.workloads.ops import Gemm, SpGemm, Workload


def _gemm(name, m, k, n, b, a=None):
    return Gemm(name, "infer", m, k, n, b, a=a)


def _real(m, k, n, nm, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = Dense((k, n), w) if nm is None else nm_compress(w, *nm, axis=0)
    return _gemm("op", m, k, n, b, a)


@given(df=st.sampled_from(["ws", "os", "is"]), m=st.integers(1, 24), k=st.integers(1, 40),
       n=st.integers(1, 24), nm=st.sampled_from([None, (1, 4), (2, 4), (3, 4), (2, 8)]),
       rows=st.integers(1, 9), cols=st.integers(1, 9), seed=st.integers(0, 999))
def test_computes_the_gemm_it_times(df, m, k, n, nm, rows, cols, seed):
    op = _real(m, k, n, nm, seed)
    cfg = SystolicConfig(array_rows=rows, array_cols=cols, dataflow=df)
    res = simulate(Workload("w", [op]), cfg, compute=True)
    want = op.a.astype(np.float64) @ op.b.to_dense().astype(np.float64)
    np.testing.assert_allclose(res.outputs["op"], want, rtol=1e-9, atol=1e-9)
    timed = simulate(Workload("w", [op]), cfg)            # timing alone: same cycles
    assert timed.cycles == res.cycles
    ke = kept_rows(k, *nm) if nm else k
    assert res.per_op[0]["K_streamed"] == ke and res.macs == m * n * ke


def test_real_minilm_shaped_layer_2of4_all_dataflows():
    op = _real(32, 96, 40, (2, 4), seed=7)
    want = op.a.astype(np.float64) @ op.b.to_dense().astype(np.float64)
    for df in ("ws", "os", "is"):
        res = simulate(Workload("w", [op]), SystolicConfig(array_rows=8, array_cols=8, dataflow=df),
                       compute=True)
        np.testing.assert_allclose(res.outputs["op"], want, rtol=1e-9, atol=1e-9)
        assert res.cycles < res.dense_cycles


@given(df=st.sampled_from(["ws", "os", "is"]), m=st.integers(1, 200), k=st.integers(1, 400),
       n=st.integers(1, 200), nm=st.sampled_from([(1, 4), (2, 4), (2, 8), (4, 8)]),
       rows=st.integers(1, 40), cols=st.integers(1, 40))
def test_sparse_never_slower_and_more_pes_never_slower_on_rows(df, m, k, n, nm, rows, cols):
    w = Workload("w", [_gemm("op", m, k, n, NM((k, n), *nm, axis=0))])
    res = simulate(w, SystolicConfig(array_rows=rows, array_cols=cols, dataflow=df))
    assert res.cycles <= res.dense_cycles
    assert 0 < res.utilization <= 1 and 0 < res.mapping_efficiency <= 1
    off = simulate(w, SystolicConfig(array_rows=rows, array_cols=cols, dataflow=df,
                                     sparsity_support=False))
    assert off.cycles == off.dense_cycles == res.dense_cycles


def test_repeat_and_sum_over_ops():
    a = _gemm("a", 16, 64, 16, Dense((64, 16)))
    b = Gemm("b", "infer", 8, 32, 8, NM((32, 8), 2, 4, axis=0), repeat=3)
    cfg = PRESETS["scalesim-32x32-os"]
    both = simulate(Workload("w", [a, b]), cfg)
    one_a = simulate(Workload("w", [a]), cfg).cycles
    one_b = simulate(Workload("w", [_gemm("b", 8, 32, 8, NM((32, 8), 2, 4, axis=0))]), cfg).cycles
    assert both.cycles == one_a + 3 * one_b


def test_unstructured_runs_dense():
    w = np.eye(8, dtype=np.float32)
    op = _gemm("u", 4, 8, 8, Unstructured.from_scipy(__import__("scipy").sparse.csr_matrix(w)),
               a=np.ones((4, 8), np.float32))
    res = simulate(Workload("w", [op]), SystolicConfig(array_rows=4, array_cols=4), compute=True)
    assert res.cycles == res.dense_cycles
    np.testing.assert_allclose(res.outputs["u"], np.ones((4, 8)))


def test_result_protocol():
    res = simulate(Workload("w", [_gemm("a", 5, 7, 3, Dense((5 * 0 + 7, 3)))]), SystolicConfig())
    d = res.to_dict()
    assert d["cycles"] == res.cycles and d["model_version"].startswith("systolic")
    m = res.metrics()
    assert set(m) == set(UNITS) and all(isinstance(v, float) for v in m.values())


def test_errors_are_accel_errors():
    g = Unstructured.from_scipy(__import__("scipy").sparse.csr_matrix(np.eye(4)))
    with pytest.raises(WorkloadError, match="SpGEMM"):
        simulate(Workload("w", [SpGemm("s", g, g)]), SystolicConfig())
    with pytest.raises(WorkloadError, match="no operand values"):
        simulate(Workload("w", [_gemm("a", 4, 4, 4, Dense((4, 4)))]), SystolicConfig(), compute=True)
    with pytest.raises(WorkloadError, match="exceeds the limit"):
        simulate(Workload("w", [_gemm("a", 1 << 14, 1 << 14, 1 << 14, Dense((1 << 14, 1 << 14)))]),
                 SystolicConfig(array_rows=1, array_cols=1))
    big = _gemm("big", 2048, 2048, 2048, Dense((2048, 2048), np.zeros((2048, 2048), np.float32)),
                a=np.zeros((2048, 2048), np.float32))
    with pytest.raises(WorkloadError, match="compute limit"):
        simulate(Workload("w", [big]), SystolicConfig(), compute=True)
    for bad in ({"array_rows": 0}, {"dataflow": "rs"}, {"clock_mhz": float("nan")}):
        with pytest.raises(ConfigError):
            SystolicConfig(**bad).validate()
    assert issubclass(ConfigError, AccelError)
