"""Symmetric per-channel INT8 quantisation for the RTL path.

``q = clip(round(x / scale), -127, 127)`` with ``scale = max|x| / 127`` per channel, so
``x ~= q * scale``.  -128 is never produced (symmetric range, as the PE array's signed
multipliers assume).  An all-zero channel gets scale 1.0 (any scale represents it; 1.0
avoids a division by zero).

``axis`` is the *channel* axis: one scale per index along ``axis``.  For a GEMM
``C = A @ B`` the RTL uses per-row scales of A (axis 0, shape (M,)) and per-column
scales of B (axis 1, shape (N,)), so ``C ~= a_scale[:, None] * (a_q @ b_q) * b_scale``.
"""

from __future__ import annotations

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import NM, Block, Dense, Format, Unstructured

QMAX = 127  # symmetric INT8


def quantize_symmetric(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(q int8, scale float32) with one scale per index along ``axis`` of a 2-D ``x``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or axis not in (0, 1):
        raise WorkloadError(f"quantize_symmetric needs a 2-D array and axis 0/1, got "
                            f"shape {x.shape}, axis {axis}")
    amax = np.abs(x).max(axis=1 - axis)
    scale = np.where(amax > 0, amax / QMAX, 1.0).astype(np.float32)
    return _apply(x, scale[:, None] if axis == 0 else scale[None, :]), scale


def _apply(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x / scale), -QMAX, QMAX).astype(np.int8)


def _value_columns(fmt: Format) -> np.ndarray:
    """Column index (of the K x N matrix) of every stored value, in storage order."""
    if isinstance(fmt, Dense):
        return np.broadcast_to(np.arange(fmt.shape[1]), fmt.values.shape)
    if isinstance(fmt, NM):
        if fmt.axis == 0:
            return np.broadcast_to(np.arange(fmt.shape[1]), fmt.values.shape)
        # groups run along the columns: column = group * m + position in group
        group = np.arange(fmt.values.shape[0]) // fmt.n
        col = group[:, None] * fmt.m + fmt.indices.astype(np.int64)
        # a kept position in the zero padding past the last column holds 0: any scale works
        return np.minimum(col, fmt.shape[1] - 1)
    if isinstance(fmt, Unstructured):
        return fmt.indices.astype(np.int64)
    if isinstance(fmt, Block):
        counts = fmt.kept_per_column_group()        # (G, N), storage order (group, column, j)
        cols = np.tile(np.arange(fmt.shape[1]), counts.shape[0])
        return np.repeat(cols, counts.reshape(-1))
    raise TypeError(type(fmt))  # pragma: no cover - Format is a closed union


def quantize_weight(fmt: Format) -> tuple[Format, np.ndarray]:
    """INT8 copy of a K x N weight operand in the same format, with per-column scales (N,).

    Scales come from the (pruned) matrix itself, so the kept weights use the full range.
    """
    if fmt.values is None:
        raise WorkloadError("cannot quantise a metadata-only operand (no values)")
    _, scale = quantize_symmetric(fmt.to_dense(), axis=1)
    q = _apply(np.asarray(fmt.values, dtype=np.float32), scale[_value_columns(fmt)])
    return fmt.with_values(q), scale
