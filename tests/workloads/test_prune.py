"""Pruning masks and the --prune grammar, each against a plain-NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.errors import WorkloadError
from accel.workloads.prune import (
    BLOCK_N_CHOICES,
    PruneSpec,
    bdwp_masks,
    block_nm,
    magnitude_nm,
    parse_prune,
    unstructured,
    wanda,
    wanda_score,
)


def reference_nm_mask(score: np.ndarray, n: int, m: int, axis: int) -> np.ndarray:
    """Loop over every group: keep the n largest, ties to the lower position."""
    s = score if axis == 0 else score.T
    mask = np.zeros(s.shape, bool)
    for col in range(s.shape[1]):
        for start in range(0, s.shape[0], m):
            grp = s[start:start + m, col]
            padded = np.concatenate([grp, np.full(m - grp.size, -np.inf)])
            keep = sorted(range(m), key=lambda i: (-padded[i], i))[:n]
            for i in keep:
                if i < grp.size:
                    mask[start + i, col] = True
    return mask if axis == 0 else mask.T


@pytest.mark.parametrize("text, spec", [
    ("dense", PruneSpec("dense")),
    ("2:4", PruneSpec("nm", 2, 4, text="2:4")),
    ("BDWP:2:8", PruneSpec("bdwp", 2, 8, text="bdwp:2:8")),
    ("unstructured:0.3", PruneSpec("unstructured", density=0.3, text="unstructured:0.3")),
    ("wanda:0.5", PruneSpec("wanda", density=0.5, text="wanda:0.5")),
    ("wanda:2:4", PruneSpec("wanda", 2, 4, text="wanda:2:4")),
    ("block:4:16", PruneSpec("block", 4, 16, text="block:4:16")),
    ("1:32", PruneSpec("nm", 1, 32, text="1:32")),
])
def test_parse_prune_accepts(text, spec):
    assert parse_prune(text) == spec


@pytest.mark.parametrize("text", ["5:4", "0:4", "2:0", "4:4", "1:33", "banana", "", "2:4:8",
                                  "-1:4", "2.5:4", "unstructured:0", "unstructured:1.5",
                                  "wanda:x", "bdwp:3:2", "block:4:8", "block:1:16", "nm:2:4"])
def test_parse_prune_rejects_with_one_line(text):
    with pytest.raises(WorkloadError) as exc:
        parse_prune(text)
    msg = str(exc.value)
    assert "\n" not in msg and repr(text) in msg


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 24), cols=st.integers(1, 24), m=st.integers(2, 9),
       axis=st.integers(0, 1), seed=st.integers(0, 2**16), data=st.data())
def test_magnitude_nm_matches_reference(rows, cols, m, axis, seed, data):
    n = data.draw(st.integers(1, m - 1))
    w = np.random.default_rng(seed).integers(-3, 4, size=(rows, cols)).astype(np.float32)  # ties
    mask = magnitude_nm(w, n, m, axis)
    np.testing.assert_array_equal(mask, reference_nm_mask(np.abs(w), n, m, axis))
    full = (w.shape[axis] // m) * m  # complete groups keep exactly n
    counts = (mask if axis == 0 else mask.T)[:full].reshape(-1, m, mask.shape[1 - axis]).sum(1)
    assert np.all(counts == n)


def test_bdwp_masks_run_along_both_channel_axes():
    w = np.random.default_rng(0).standard_normal((16, 24)).astype(np.float32)
    fwd, bwd = bdwp_masks(w, 2, 8)
    assert np.all(fwd.reshape(16, 3, 8).sum(2) == 2)       # groups of input channels
    assert np.all(bwd.reshape(2, 8, 24).sum(1) == 2)       # groups of output channels
    assert not np.array_equal(fwd, bwd)


@pytest.mark.parametrize("density", [0.1, 0.37, 1.0])
def test_unstructured_keeps_the_largest(density):
    w = np.random.default_rng(1).standard_normal((30, 17))
    mask = unstructured(w, density)
    k = round(density * w.size)
    assert mask.sum() == k
    if k < w.size:
        assert np.abs(w[mask]).min() >= np.abs(w[~mask]).max()


def test_wanda_uses_activation_norms_per_output_row():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((6, 8))
    x = rng.standard_normal((40, 8)) * np.array([100, 1, 1, 1, 1, 1, 1, 0.01])
    score = wanda_score(w, x)
    np.testing.assert_allclose(score, np.abs(w) * np.sqrt((x**2).sum(0)))
    mask = wanda(w, x, density=0.5)
    assert np.all(mask.sum(1) == 4)
    assert mask[:, 0].all() and not mask[:, 7].any()  # huge channel kept, tiny one pruned
    for r in range(6):
        assert score[r, mask[r]].min() >= score[r, ~mask[r]].max()
    nm = wanda(w, x, n=2, m=4)
    np.testing.assert_array_equal(nm, reference_nm_mask(score, 2, 4, 1))
    with pytest.raises(WorkloadError):
        wanda(w, x[:, :5], density=0.5)


@pytest.mark.parametrize("n", [2, 3, 4, 8, 16])
def test_block_nm_budget_choices_and_importance(n):
    rng = np.random.default_rng(3)
    wt = rng.standard_normal((64, 80))
    wt[:16, :16] *= 50  # one clearly important tile
    bn = block_nm(wt, n)
    assert bn.shape == (4, 5)
    assert set(np.unique(bn)) <= set(BLOCK_N_CHOICES)
    assert bn.mean() <= n + 1e-12
    assert bn[0, 0] == bn.max()
    if n in BLOCK_N_CHOICES:
        assert bn.mean() == n  # the budget is met exactly when n itself is a choice
