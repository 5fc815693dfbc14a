"""SMASH-on-PIUMA model: every algorithm computes C = A.B for real; timing invariants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.arch.piuma import ALGORITHMS, PRESETS, simulate
from accel.arch.piuma.model import check_csr, simulate_spgemm
from accel.errors import AccelError, ConfigError
from accel.workloads.formats import Unstructured
from accel.workloads.graphs import rmat, spgemm_workload

# a small machine keeps the tests fast; the engine is the same
SMALL = dataclasses.replace(PRESETS["piuma"], cores=2, mt_pipelines=2, threads_per_pipeline=4,
                            st_pipelines=1, hash_table_entries=64, fragment_entries=16,
                            max_fragments=16)


def _csr(m) -> Unstructured:
    return Unstructured.from_scipy(sp.csr_matrix(m, dtype=np.float64))


def _random(rng, n, k, density, dense_row=None):
    m = sp.random(n, k, density=density, format="lil", random_state=rng,
                  data_rvs=lambda s: rng.uniform(0.5, 1.5, size=s))
    if dense_row is not None:
        m[dense_row, :] = rng.uniform(0.5, 1.5, size=k)
    return sp.csr_matrix(m)


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_every_algorithm_matches_scipy(algo):
    rng = np.random.default_rng(3)
    a = _random(rng, 60, 50, 0.08, dense_row=7)
    b = _random(rng, 50, 70, 0.08)
    r = simulate_spgemm(_csr(a), _csr(b), SMALL, algo)
    ref = (a @ b).tocsr()
    ref.sort_indices()
    assert r.correct
    assert r.C.nnz == ref.nnz
    np.testing.assert_allclose(r.C.toarray(), ref.toarray(), rtol=1e-12)
    assert r.partial_products == int(np.diff(b.indptr)[a.indices].sum())
    assert r.cycles > 0 and 0 < r.pipeline_utilisation <= 1.0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 24), k=st.integers(1, 24), m=st.integers(1, 24),
       density=st.floats(0.0, 0.5), seed=st.integers(0, 10_000), dense_row=st.booleans(),
       token_pps=st.sampled_from([0, 3, 1024]))
def test_property_all_algorithms_equal_scipy(n, k, m, density, seed, dense_row, token_pps):
    rng = np.random.default_rng(seed)
    a = _random(rng, n, k, density, dense_row=(n // 2) if dense_row else None)
    b = _random(rng, k, m, density)
    ref = (a @ b).tocsr()
    ref.sort_indices()
    cfg = dataclasses.replace(SMALL, token_pps=token_pps)  # 3: heavy rows split over helpers
    for algo in ALGORITHMS:
        r = simulate_spgemm(_csr(a), _csr(b), cfg, algo)
        assert r.correct, algo
        np.testing.assert_allclose(r.C.toarray(), ref.toarray(), rtol=1e-12)


def test_hash_probes_counted_from_real_columns():
    # modulo hash, 16-slot table: columns 0, 16, 32 all land in slot 0 -> 1 + 2 + 3 probes
    a = sp.csr_matrix(np.array([[1.0]]))
    b = sp.csr_matrix((np.ones(3), np.array([0, 16, 32]), np.array([0, 3])), shape=(1, 48))
    cfg = dataclasses.replace(SMALL, hash_table_entries=16, hash_function="modulo", max_load=1.0)
    r = simulate_spgemm(_csr(a), _csr(b), cfg, "smash-v1")
    assert r.correct
    assert r.hash_probes == 6
    assert r.hash_collisions == 2
    cfg_q = dataclasses.replace(cfg, hash_function="fibonacci")
    assert simulate_spgemm(_csr(a), _csr(b), cfg_q, "smash-v1").hash_probes < 6


def test_overflowing_table_spills_and_stays_correct():
    rng = np.random.default_rng(5)
    a = _random(rng, 40, 40, 0.3)
    cfg = dataclasses.replace(SMALL, hash_table_entries=16)
    r1 = simulate_spgemm(_csr(a), _csr(a), cfg, "smash-v1")
    r3 = simulate_spgemm(_csr(a), _csr(a), dataclasses.replace(cfg, max_fragments=16), "smash-v3")
    assert r1.correct and r3.correct
    assert r1.hash_spills > 0 and r1.partial_product_bytes > 0
    assert r3.hash_spills < r1.hash_spills


@pytest.mark.parametrize("algo", ["smash-v2", "smash-v3", "gustavson-dense"])
@pytest.mark.parametrize("token_pps", [4, 16, 64])
def test_split_rows_merge_into_the_owners_table(algo, token_pps):
    # small tokens: heavy rows are cut, helpers on both cores insert into the owner's
    # table (remote atomics), and with a 64-slot table the owner's table also spills
    rng = np.random.default_rng(11)
    a = _random(rng, 50, 50, 0.2, dense_row=3)
    whole = simulate_spgemm(_csr(a), _csr(a), dataclasses.replace(SMALL, token_pps=0), algo)
    cfg = dataclasses.replace(SMALL, token_pps=token_pps)
    r = simulate_spgemm(_csr(a), _csr(a), cfg, algo)
    assert r.correct and whole.correct
    assert r.tokens > whole.tokens            # more work units than rows were handed out
    assert r.partial_products == whole.partial_products
    assert r.atomics > whole.atomics          # one counter decrement per finished token


def test_hub_row_split_cuts_the_critical_path():
    # one row holds most of the products: whole, one thread does it alone
    rng = np.random.default_rng(2)
    a = _random(rng, 64, 64, 0.05, dense_row=0)
    b = _random(rng, 64, 64, 0.3)
    whole = simulate_spgemm(_csr(a), _csr(b), dataclasses.replace(SMALL, token_pps=0), "smash-v3")
    split = simulate_spgemm(_csr(a), _csr(b), dataclasses.replace(SMALL, token_pps=64), "smash-v3")
    assert whole.correct and split.correct
    assert split.thread_work.max() < whole.thread_work.max()
    assert split.cycles < whole.cycles


def test_more_dram_bandwidth_never_slower():
    a = rmat(8, 8, seed=2)
    slow = dataclasses.replace(SMALL, dram_mtps=200.0)
    fast = dataclasses.replace(SMALL, dram_mtps=4400.0)
    for algo in ("smash-v2", "outer"):
        assert (simulate_spgemm(a, a, fast, algo).cycles
                <= simulate_spgemm(a, a, slow, algo).cycles)


def test_tokens_reduce_imbalance_on_skewed_graph():
    a = rmat(9, 8, seed=1)
    r1 = simulate_spgemm(a, a, SMALL, "smash-v1")
    r2 = simulate_spgemm(a, a, SMALL, "smash-v2")
    assert r2.load_imbalance < r1.load_imbalance  # finish times: fewer threads idle at the end
    assert r2.tokens > 0 and r1.tokens == 0


def test_simulate_api_and_metrics_are_flat_scalars():
    w = spgemm_workload(rmat(6, 4, seed=1))
    r = simulate(w, SMALL, algorithm="smash-v3")
    m = r.metrics()
    assert all(isinstance(v, float) for v in m.values())
    assert r.to_dict()["correct"] is True


def test_deterministic():
    a = rmat(7, 8, seed=4)
    assert (simulate_spgemm(a, a, SMALL, "smash-v2").cycles
            == simulate_spgemm(a, a, SMALL, "smash-v2").cycles)


@pytest.mark.parametrize("bad", [
    Unstructured((2, 3), np.array([0, 2, 3]), np.array([2, 1, 0], np.int32), np.ones(3)),
    Unstructured((2, 3), np.array([0, 1, 2]), np.array([0, 3], np.int32), np.ones(2)),
    Unstructured((2, 3), np.array([0, 2, 1]), np.array([0, 1], np.int32), np.ones(2)),
])
def test_malformed_csr_rejected(bad):
    with pytest.raises(AccelError):
        check_csr(bad, "A")


def test_bad_shapes_and_tables_rejected():
    a = _csr(np.ones((3, 4)))
    with pytest.raises(AccelError, match="inner dimensions"):
        simulate_spgemm(a, a, SMALL)
    with pytest.raises(ConfigError, match="hash_table_entries"):
        dataclasses.replace(SMALL, hash_table_entries=8).validate()
    with pytest.raises(ConfigError, match="hash_table_entries"):
        dataclasses.replace(SMALL, hash_table_entries=100).validate()
