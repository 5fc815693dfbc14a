"""Hypervolume (accel.sweep.pareto.hypervolume) against counting unit cells."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from accel.sweep.pareto import hypervolume


def _cells(points: np.ndarray, ref: np.ndarray) -> int:
    """Unit cells of the integer grid below ``ref`` dominated by some point."""
    n = 0
    for cell in itertools.product(*(range(int(r)) for r in ref)):
        if any(np.all(p <= np.asarray(cell)) for p in points):
            n += 1
    return n


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_hypervolume_equals_counted_cells(dims, seed):
    rng = np.random.default_rng(seed)
    ref = np.full(dims, 7.0)
    pts = rng.integers(0, 8, size=(int(rng.integers(1, 12)), dims)).astype(float)
    assert hypervolume(pts, ref) == _cells(pts[np.all(pts < ref, axis=1)], ref)


def test_hypervolume_edges():
    assert hypervolume(np.zeros((0, 2)), [1, 1]) == 0.0
    assert hypervolume(np.array([[2.0, 0.0]]), [1, 1]) == 0.0        # outside the box
    assert hypervolume(np.array([[0.0, 0.0], [np.nan, 0]]), [1, 2]) == 2.0
