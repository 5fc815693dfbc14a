"""Systolic kernels against a plain-Python fold list, SCALE-Sim's closed forms and NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accel.arch.systolic import _kernels as K
from accel.arch.systolic.model import kept_rows

DFS = {"ws": K.WS, "os": K.OS, "is": K.IS}


def folds_reference(df, m, ke, n, rows, cols):
    """Plain-Python: every fold as (row fold, col fold, used rows, used cols, length)."""
    sr, sc, t = {"ws": (ke, n, m), "os": (m, n, ke), "is": (ke, m, n)}[df]
    out = []
    for fc in range(math.ceil(sc / cols)):
        for fr in range(math.ceil(sr / rows)):
            length = (t - 1 + rows + cols - 1) if df == "os" else (2 * rows - 1 + t + cols - 1)
            out.append((fr, fc, min(rows, sr - fr * rows), min(cols, sc - fc * cols), length, t))
    return out


def closed_form(df, m, ke, n, rows, cols):
    """SCALE-Sim's per-layer closed forms (REFERENCE.md section 4, plus is)."""
    if df == "ws":
        return math.ceil(ke / rows) * math.ceil(n / cols) * (2 * rows + cols + m - 2) - 1
    if df == "os":
        return math.ceil(m / rows) * math.ceil(n / cols) * (rows + cols + ke - 2) - 1
    return math.ceil(ke / rows) * math.ceil(m / cols) * (2 * rows + cols + n - 2) - 1


dims = st.integers(1, 90)
sides = st.integers(1, 20)


@given(df=st.sampled_from(sorted(DFS)), m=dims, ke=dims, n=dims, rows=sides, cols=sides)
def test_walk_equals_fold_list_and_closed_form(df, m, ke, n, rows, cols):
    starts, s = K.walk_folds(DFS[df], m, ke, n, rows, cols)
    ref = folds_reference(df, m, ke, n, rows, cols)
    assert int(s[K.S_FOLDS]) == len(ref) == len(starts)
    assert list(starts) == list(np.cumsum([0] + [f[4] for f in ref])[:-1])
    assert int(s[K.S_CYCLES]) == sum(f[4] for f in ref) - 1 == closed_form(df, m, ke, n, rows, cols)
    assert int(s[K.S_MAPPED]) == sum(f[2] * f[3] for f in ref)
    assert int(s[K.S_MACS]) == m * ke * n        # every MAC of the GEMM, once


@pytest.mark.parametrize(("k", "n", "m", "want"), [
    (384, 2, 4, 192), (101, 2, 4, 51), (101, 3, 4, 76), (77, 2, 8, 20), (1, 2, 4, 1),
    (13, 3, 4, 10), (8, 4, 4, 8),
])
def test_kept_rows(k, n, m, want):
    assert kept_rows(k, n, m) == want
    # the first-n-of-m mask SCALE-Sim applies, counted directly
    assert sum(1 for i in range(k) if i % m < n) == want


@given(df=st.sampled_from(sorted(DFS)), m=st.integers(1, 20), k=st.integers(1, 30),
       n=st.integers(1, 20), rows=st.integers(1, 7), cols=st.integers(1, 7),
       seed=st.integers(0, 2**16))
def test_compute_walk_dense_equals_numpy(df, m, k, n, rows, cols, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    pos = np.ascontiguousarray(np.broadcast_to(np.arange(k)[:, None], (k, n)), dtype=np.int64)
    out, s = K.walk_folds_compute(DFS[df], a, b, pos, rows, cols)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
    assert int(s[K.S_CYCLES]) == closed_form(df, m, k, n, rows, cols)


def test_compute_walk_uses_positions():
    """A streamed value multiplies the activation at its position, not at its row."""
    a = np.arange(12, dtype=np.float64).reshape(2, 6)
    vals = np.array([[1.0], [10.0]])
    pos = np.array([[5], [2]], dtype=np.int64)          # rows keep K positions 5 and 2
    for df in DFS.values():
        out, _ = K.walk_folds_compute(df, a, vals, pos, 1, 1)
        np.testing.assert_array_equal(out[:, 0], a[:, 5] * 1 + a[:, 2] * 10)
