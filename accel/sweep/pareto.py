"""Pareto fronts over sweep results (minimise / maximise any mix of metrics)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from accel.errors import AccelError


def _as_min(values: np.ndarray, goals: Sequence[str]) -> np.ndarray:
    """Flip 'max' columns so every objective is minimised."""
    sign = np.array([1.0 if g == "min" else -1.0 for g in goals])
    return np.asarray(values, dtype=np.float64) * sign


def dominated_by_any(costs: np.ndarray) -> np.ndarray:
    """mask[i] = some j is <= i in every column and < i in at least one (all minimised)."""
    n = costs.shape[0]
    mask = np.zeros(n, dtype=bool)
    for i in range(n):  # O(n^2 k) vectorised per row: fine for tens of thousands of points
        le = np.all(costs <= costs[i], axis=1)
        lt = np.any(costs < costs[i], axis=1)
        mask[i] = bool(np.any(le & lt))
    return mask


def pareto_mask(values: np.ndarray, goals: Sequence[str]) -> np.ndarray:
    """Boolean mask of the non-dominated rows; rows with NaN are never on the front."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(goals):
        raise AccelError(f"pareto: expected (n, {len(goals)}) values, got {values.shape}")
    ok = np.all(np.isfinite(values), axis=1)
    mask = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(ok)
    if len(idx):
        mask[idx] = ~dominated_by_any(_as_min(values[idx], goals))
    return mask


def pareto_front(df: pd.DataFrame, objectives: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Rows of ``df`` on the front of ``objectives`` [(column, 'min'|'max'), ...],
    sorted by the first objective.  A row that does not fit its device (a ``feasible`` or
    ``metric.feasible`` column at 0, written by a spec's ``fit:``) is never on it."""
    cols = [c for c, _ in objectives]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise AccelError(f"pareto: no column {missing[0]!r} in the results")
    values = df[cols].to_numpy(dtype=np.float64, copy=True)
    for col in ("metric.feasible", "feasible"):
        if col in df.columns:
            values[pd.to_numeric(df[col], errors="coerce").fillna(1.0).to_numpy() == 0] = np.nan
    mask = pareto_mask(values, [g for _, g in objectives])
    return df[mask].sort_values(cols[0])


def hypervolume(costs: np.ndarray, ref: Sequence[float]) -> float:
    """Exact hypervolume of the region dominated by ``costs`` (rows, all objectives
    minimised) and bounded by ``ref``: slices along the last objective, recursively
    (HSO); fine for fronts of a few hundred points in 2-4 objectives."""
    ref = np.asarray(ref, dtype=np.float64)
    pts = np.asarray(costs, dtype=np.float64).reshape(-1, len(ref))
    pts = pts[np.all(np.isfinite(pts), axis=1) & np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = np.unique(pts, axis=0)
    return _hso(pts[~dominated_by_any(pts)], ref)


def _hso(pts: np.ndarray, ref: np.ndarray) -> float:
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    vol = 0.0
    for i in range(len(pts)):
        top = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        if top > pts[i, -1]:
            lower = pts[: i + 1, :-1]
            vol += (top - pts[i, -1]) * _hso(lower[~dominated_by_any(lower)], ref[:-1])
    return float(vol)
