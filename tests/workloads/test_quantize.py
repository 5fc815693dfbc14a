"""Symmetric per-channel INT8 quantisation of activations and of every weight format."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from accel.errors import WorkloadError
from accel.workloads.formats import NM, Dense, Unstructured, block_compress, nm_compress
from accel.workloads.prune import block_nm
from accel.workloads.quantize import quantize_symmetric, quantize_weight


@pytest.mark.parametrize("axis", [0, 1])
def test_quantize_symmetric_per_channel(axis):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((13, 7)).astype(np.float32) * rng.uniform(0.1, 10, (13, 1))
    x[3] = 0.0
    q, s = quantize_symmetric(x, axis)
    assert q.dtype == np.int8 and s.dtype == np.float32
    assert s.shape == (x.shape[axis],)
    assert q.min() >= -127
    sb = s[:, None] if axis == 0 else s[None, :]
    assert np.all(np.abs(q * sb - x) <= sb / 2 + 1e-6)
    ch_max = np.abs(q).max(axis=1 - axis)
    assert np.all((ch_max == 127) | (s == 1.0))  # every nonzero channel uses the full range
    with pytest.raises(WorkloadError):
        quantize_symmetric(x[0], 0)


def _formats(w):
    rng = np.random.default_rng(5)
    return [Dense(w.shape, w), nm_compress(w, 2, 4, 0), nm_compress(w, 3, 8, 1),
            Unstructured.from_scipy(sp.csr_matrix(w * (rng.random(w.shape) < 0.3))),
            block_compress(w, block_nm(w, 4))]


@pytest.mark.parametrize("idx", range(5))
def test_quantize_weight_equals_quantising_the_dense_matrix(idx):
    w = np.random.default_rng(4).standard_normal((37, 21)).astype(np.float32)
    fmt = _formats(w)[idx]
    q, scale = quantize_weight(fmt)
    assert type(q) is type(fmt) and q.values.dtype == np.int8
    ref_q, ref_s = quantize_symmetric(fmt.to_dense(), axis=1)
    np.testing.assert_array_equal(scale, ref_s)
    np.testing.assert_array_equal(q.to_dense(), ref_q)
    if isinstance(fmt, NM):
        np.testing.assert_array_equal(q.indices, fmt.indices)  # same structure


def test_metadata_only_cannot_be_quantised():
    with pytest.raises(WorkloadError):
        quantize_weight(Dense((4, 4)))


def test_quantize_nm_with_kept_padding_positions():
    # 2 columns, groups of 4 along axis 1 keeping 3: one kept position is in the padding
    w = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    fmt = nm_compress(w, 3, 4, axis=1)
    q, scale = quantize_weight(fmt)
    np.testing.assert_array_equal(q.to_dense(), quantize_symmetric(w, axis=1)[0])
