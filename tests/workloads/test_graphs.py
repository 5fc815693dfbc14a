"""R-MAT, uniform random and Matrix Market inputs for SpGEMM."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from accel.cli import main
from accel.errors import WorkloadError
from accel.workloads import io
from accel.workloads.graphs import read_mtx, rmat, spgemm_workload, uniform_random


def _arrays_equal(a, b) -> bool:
    return all(np.array_equal(a.arrays()[k], b.arrays()[k]) for k in ("indptr", "indices", "data"))


def test_rmat_scale12_shape_csr_and_skew():
    g = rmat(12, 16, seed=1)
    assert g.shape == (4096, 4096)
    m = g.to_scipy()
    assert m.has_sorted_indices
    merged = m.copy()
    merged.sum_duplicates()
    assert merged.nnz == m.nnz  # duplicates were merged
    assert 0 < g.nnz <= 16 * 4096
    deg = np.diff(g.indptr)
    # power law: the hubs have far more edges than the mean vertex, many vertices none
    assert deg.max() > 20 * deg.mean()
    assert (deg == 0).sum() > 0.1 * 4096
    assert g.data.dtype == np.float64


def test_rmat_degree_skew_beats_uniform_graph_of_same_size():
    g = rmat(12, 16, seed=1)
    u = uniform_random(4096, g.nnz / 4096**2, seed=1)
    assert np.diff(g.indptr).max() > 5 * np.diff(u.indptr).max()


def test_rmat_reproducible_for_a_seed_and_different_across_seeds():
    assert _arrays_equal(rmat(10, 8, seed=3), rmat(10, 8, seed=3))
    assert not _arrays_equal(rmat(10, 8, seed=3), rmat(10, 8, seed=4))


@pytest.mark.parametrize("kw", [{"scale": 0}, {"scale": 40}, {"scale": 5, "edge_factor": 0},
                                {"scale": 5, "a": 0.7, "b": 0.2, "c": 0.2}])
def test_rmat_rejects_bad_parameters(kw):
    with pytest.raises(WorkloadError):
        rmat(**kw)


def test_uniform_random_density():
    u = uniform_random(200, 0.05, seed=0)
    assert u.shape == (200, 200)
    assert u.nnz == round(0.05 * 200 * 200)


def test_read_mtx_general_and_pattern(tmp_path):
    m = sp.random(30, 20, density=0.2, format="coo", random_state=0)
    scipy.io.mmwrite(tmp_path / "a.mtx", m)
    got = read_mtx(tmp_path / "a.mtx")
    np.testing.assert_array_equal(got.to_dense(), m.toarray())
    (tmp_path / "p.mtx").write_text("%%MatrixMarket matrix coordinate pattern general\n"
                                    "3 3 2\n1 2\n3 1\n")
    np.testing.assert_array_equal(read_mtx(tmp_path / "p.mtx").to_dense(),
                                  [[0, 1, 0], [0, 0, 0], [1, 0, 0]])
    with pytest.raises(WorkloadError, match="not found"):
        read_mtx(tmp_path / "missing.mtx")
    (tmp_path / "bad.mtx").write_text("hello\n")
    with pytest.raises(WorkloadError):
        read_mtx(tmp_path / "bad.mtx")


def test_spgemm_workload_a_times_a_and_a_times_b():
    a = uniform_random(50, 0.1, seed=0)
    w = spgemm_workload(a)
    op = w.ops[0]
    assert (op.M, op.K, op.N) == (50, 50, 50) and op.a is op.b
    b = uniform_random(50, 0.1, seed=1)
    op2 = spgemm_workload(a, b).ops[0]
    ref = a.to_dense() @ b.to_dense()
    np.testing.assert_allclose((op2.a.to_scipy() @ op2.b.to_scipy()).toarray(), ref)


def test_cli_synth_rmat_acceptance(tmp_path, capsys):
    out = tmp_path / "g.npz"
    args = ["workload", "synth", "rmat", "--scale", "12", "--edge-factor", "16", "--seed", "1",
            "--out", str(out), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ops"][0]["M"] == 4096 and summary["ops"][0]["N"] == 4096
    g = io.load(out).ops[0].a
    assert g.shape == (4096, 4096)
    deg = np.diff(g.indptr)
    assert deg.max() > 20 * deg.mean()
    assert _arrays_equal(g, rmat(12, 16, seed=1))  # the file is the seeded generator's output
    out2 = tmp_path / "g2.npz"
    assert main(args[:-3] + ["--out", str(out2)]) == 0
    assert _arrays_equal(io.load(out2).ops[0].a, g)


def test_spgemm_guard_is_memory_not_partial_products(monkeypatch):
    """The guard refuses what would not fit (operands, per-row state), not a graph whose
    product is merely long: a hub-heavy A.A with far more products than nonzeros passes
    a budget its operands fit, and the same operands are refused, with their size, under
    a budget they do not fit."""
    from accel.workloads import formats

    g = rmat(9, 16, seed=0)
    flops = formats.spgemm_flops(g, g)
    assert flops > 20 * g.indices.size
    need = 2 * g.indices.size * formats.SPGEMM_BYTES_PER_NNZ + \
        (2 * g.shape[0] + 2) * formats.SPGEMM_BYTES_PER_ROW
    monkeypatch.setattr(formats, "SPGEMM_MEMORY_BUDGET", need)
    spgemm_workload(g)                                   # fits exactly
    monkeypatch.setattr(formats, "SPGEMM_MEMORY_BUDGET", need - 1)
    with pytest.raises(WorkloadError, match=r"512x512 .* GiB to simulate, more than"):
        spgemm_workload(g)
    monkeypatch.setattr(formats, "SPGEMM_MEMORY_BUDGET", 2**40)
    monkeypatch.setattr(formats, "MAX_SPGEMM_FLOPS", flops - 1)   # the work ceiling still holds
    with pytest.raises(WorkloadError, match="multiply-adds"):
        spgemm_workload(g)
