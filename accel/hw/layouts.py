"""Stream payload packing shared by every RTL block and its testbench.

A block builds its ports from ``data.StructLayout``s and its cocotb bench packs/unpacks
beats with :func:`pack` / :func:`unpack`, which read field offsets from the same
layouts, so the two sides cannot disagree on bit positions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from amaranth import Shape
from amaranth.lib import data


def _leaves(layout, offset: int = 0):
    """Yield (path, offset, width, signed) for every scalar of a nested layout."""
    if isinstance(layout, data.StructLayout):
        for name, fld in layout:
            yield from (((name,) + p, o, w, s)
                        for p, o, w, s in _leaves(fld.shape, offset + fld.offset))
    elif isinstance(layout, data.ArrayLayout):
        elem = layout.elem_shape
        w = elem.size if isinstance(elem, data.Layout) else Shape.cast(elem).width
        for i in range(layout.length):
            yield from (((i,) + p, o, ww, s)
                        for p, o, ww, s in _leaves(elem, offset + i * w))
    else:
        shape = Shape.cast(layout)
        yield (), offset, shape.width, shape.signed


@lru_cache(maxsize=64)
def field_map(layout: data.StructLayout) -> dict[str, tuple[np.ndarray, int, bool]]:
    """Per top-level field: offsets of its scalars (in C order of the nested arrays).

    Cached (layouts are hashable and compare by value): the testbenches pack and unpack
    every beat, and walking a wide layout costs milliseconds.  Callers must not mutate
    the returned arrays."""
    out: dict[str, list] = {}
    for path, off, width, sgn in _leaves(layout):
        name = path[0]
        offs, _, _ = out.setdefault(name, ([], width, sgn))
        offs.append(off)
    return {k: (np.asarray(v[0], dtype=np.int64), v[1], v[2]) for k, v in out.items()}


def pack(layout: data.StructLayout, **fields) -> int:
    """Pack NumPy field values (shapes as in the layout) into the payload integer."""
    fm = field_map(layout)
    word = 0
    for name, (offs, width, _) in fm.items():
        vals = np.asarray(fields[name], dtype=np.int64).ravel()
        if vals.size != offs.size:
            raise ValueError(f"field {name}: {vals.size} values for {offs.size} slots")
        mask = (1 << width) - 1
        for v, o in zip(vals.tolist(), offs.tolist(), strict=True):
            word |= (v & mask) << o
    return word


def unpack(layout: data.StructLayout, word: int) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack`: flat int64 arrays per field (sign-extended if signed)."""
    out = {}
    for name, (offs, width, sgn) in field_map(layout).items():
        mask = (1 << width) - 1
        vals = [(word >> o) & mask for o in offs.tolist()]
        if sgn:
            vals = [v - (1 << width) if v >> (width - 1) else v for v in vals]
        out[name] = np.asarray(vals, dtype=np.int64)
    return out
