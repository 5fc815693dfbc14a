"""resolve(): built-in names, Matrix Market paths and the on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from accel.errors import WorkloadError
from accel.workloads.builtin import cache_dir, resolve
from accel.workloads.graphs import rmat


def test_rmat_names_and_seed():
    w = resolve("rmat:9:4", seed=5)
    g = w.ops[0].a
    assert g.shape == (512, 512) and w.ops[0].a is w.ops[0].b
    np.testing.assert_array_equal(g.indices, rmat(9, 4, seed=5).indices)
    assert resolve("rmat:9", seed=5).ops[0].a.nnz > g.nnz  # edge factor defaults to 16


def test_mtx_path_is_a_times_a(tmp_path):
    m = sp.random(20, 20, density=0.2, format="coo", random_state=1)
    scipy.io.mmwrite(tmp_path / "m.mtx", m)
    op = resolve(str(tmp_path / "m.mtx")).ops[0]
    np.testing.assert_array_equal(op.a.to_dense(), m.toarray())


def test_damaged_cache_entry_is_rebuilt_not_fatal():
    first = resolve("rmat:7", seed=11)
    entries = sorted((cache_dir() / "workloads").glob("*.npz"), key=lambda p: p.stat().st_mtime)
    entries[-1].write_bytes(b"garbage")  # the entry just written
    again = resolve("rmat:7", seed=11)
    assert again.content_id() == first.content_id()


def test_cache_disabled(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ACCEL_NO_CACHE", "1")
    resolve("rmat:6")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("spec", ["minilm-l7", "rmat:", "rmat:4:x", "llama2-7b:a", "x.txt"])
def test_bad_names(spec):
    with pytest.raises(WorkloadError):
        resolve(spec)
