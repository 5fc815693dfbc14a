"""Sparsity formats of a GEMM's weight operand: data, not a flag.

Every format describes a 2-D matrix of ``shape`` and carries the arrays the hardware
consumes.  ``to_dense()`` reconstructs the (masked) dense matrix, which is what tests
and references compare against.  A format may be *metadata-only* (``values is None``)
for shape presets without weights (llama2-7b); its density is still exact.

``nm``: groups of ``m`` consecutive elements along ``axis`` keep ``n`` each.  The
compressed layout moves ``axis`` to the front and zero-pads it to a multiple of ``m``
(padding rule: the padded tail group is filled with zeros and pruned like any other
group; a padded position can be kept only when the real group has fewer than ``n``
nonzeros, and then its value is 0).  ``values[g*n + j, c]`` is the j-th kept element
(ascending position) of group ``g`` of line ``c``; ``indices`` holds its position
0..m-1 inside the group.  For a GEMM weight (K x N, axis 0) this is exactly one
PE-array weight beat per group: n values and their indices.

``unstructured``: CSR (indptr, indices, data) of the whole matrix.

``block``: FlightLLM's format.  The matrix is cut into ``block`` x ``block`` tiles
(block = m = 16); each tile has one ``n`` (``block_n``), and every group of m=16 along
axis 0 inside that tile keeps ``n``.  Values/indices are ragged, ordered (group, column,
j), as a sparse DSP chain streams them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.errors import WorkloadError

FORMAT_KINDS = ("dense", "nm", "unstructured", "block")


def _check_2d(shape) -> tuple[int, int]:
    if len(shape) != 2 or shape[0] <= 0 or shape[1] <= 0:
        raise WorkloadError(f"operand shape must be 2-D and positive, got {tuple(shape)}")
    return int(shape[0]), int(shape[1])


@dataclass(eq=False)
class Dense:
    shape: tuple[int, int]
    values: np.ndarray | None = None
    kind: str = field(default="dense", init=False)

    def to_dense(self) -> np.ndarray:
        if self.values is None:
            raise WorkloadError("dense operand has no values (metadata-only workload)")
        return self.values

    @property
    def nnz(self) -> int:
        if self.values is None:
            return self.shape[0] * self.shape[1]
        return int(np.count_nonzero(self.values))

    def meta(self) -> dict:
        return {"kind": self.kind, "shape": list(self.shape)}

    def arrays(self) -> dict[str, np.ndarray]:
        return {} if self.values is None else {"values": self.values}

    def with_values(self, values: np.ndarray) -> Dense:
        return Dense(self.shape, values)


@dataclass(eq=False)
class NM:
    shape: tuple[int, int]
    n: int
    m: int
    axis: int = 0
    values: np.ndarray | None = None   # (G*n, L) where G = ceil(shape[axis]/m), L = other dim
    indices: np.ndarray | None = None  # same shape, uint8 positions 0..m-1
    kind: str = field(default="nm", init=False)

    def __post_init__(self):
        validate_nm(self.n, self.m)
        if self.axis not in (0, 1):
            raise WorkloadError(f"N:M group axis must be 0 or 1, got {self.axis}")

    @property
    def groups(self) -> int:
        return -(-self.shape[self.axis] // self.m)

    @property
    def lines(self) -> int:
        return self.shape[1 - self.axis]

    @property
    def nnz(self) -> int:
        if self.values is None:
            return self.groups * self.n * self.lines
        return int(np.count_nonzero(self.values))

    def to_dense(self) -> np.ndarray:
        if self.values is None:
            raise WorkloadError("N:M operand has no values (metadata-only workload)")
        g, n, m, lines = self.groups, self.n, self.m, self.lines
        out = np.zeros((g, m, lines), dtype=self.values.dtype)
        pos = self.indices.reshape(g, n, lines).astype(np.intp)
        vals = self.values.reshape(g, n, lines)
        gi = np.arange(g)[:, None, None]
        li = np.arange(lines)[None, None, :]
        out[gi, pos, li] = vals
        dense = out.reshape(g * m, lines)[: self.shape[self.axis]]
        return dense if self.axis == 0 else dense.T

    def meta(self) -> dict:
        return {"kind": self.kind, "shape": list(self.shape), "n": self.n, "m": self.m,
                "axis": self.axis}

    def arrays(self) -> dict[str, np.ndarray]:
        if self.values is None:
            return {}
        return {"values": self.values, "indices": self.indices}

    def with_values(self, values: np.ndarray) -> NM:
        return NM(self.shape, self.n, self.m, self.axis, values, self.indices)


@dataclass(eq=False)
class Unstructured:
    """CSR of the whole matrix (also the SpGEMM operand format)."""

    shape: tuple[int, int]
    indptr: np.ndarray | None = None
    indices: np.ndarray | None = None
    data: np.ndarray | None = None
    density_hint: float | None = None  # for metadata-only operands
    kind: str = field(default="unstructured", init=False)

    @property
    def values(self):
        return self.data

    @property
    def nnz(self) -> int:
        if self.data is None:
            return int(round((self.density_hint or 0.0) * self.shape[0] * self.shape[1]))
        return int(np.count_nonzero(self.data))

    def to_scipy(self):
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def to_dense(self) -> np.ndarray:
        if self.data is None:
            raise WorkloadError("unstructured operand has no values (metadata-only workload)")
        return self.to_scipy().toarray()

    def meta(self) -> dict:
        d = {"kind": self.kind, "shape": list(self.shape)}
        if self.density_hint is not None:
            d["density_hint"] = self.density_hint
        return d

    def arrays(self) -> dict[str, np.ndarray]:
        if self.data is None:
            return {}
        return {"indptr": self.indptr, "indices": self.indices, "data": self.data}

    def with_values(self, values: np.ndarray) -> Unstructured:
        return Unstructured(self.shape, self.indptr, self.indices, values, self.density_hint)

    @classmethod
    def from_scipy(cls, mat) -> Unstructured:
        mat = mat.tocsr()
        mat.sort_indices()
        return cls((int(mat.shape[0]), int(mat.shape[1])), mat.indptr.astype(np.int64),
                   mat.indices.astype(np.int32), mat.data)


@dataclass(eq=False)
class Block:
    """FlightLLM block N:M: one n per (block x block) tile, groups of m=block along axis 0."""

    shape: tuple[int, int]
    block_n: np.ndarray                 # (ceil(K/16), ceil(N/16)) uint8, n of each tile
    values: np.ndarray | None = None    # ragged, ordered (group, column, j)
    indices: np.ndarray | None = None   # uint8 positions 0..15, same order
    block: int = 16
    kind: str = field(default="block", init=False)

    @property
    def m(self) -> int:
        return self.block

    @property
    def nnz(self) -> int:
        if self.values is None:
            return int(self.kept_per_column_group().sum())
        return int(np.count_nonzero(self.values))

    def kept_per_column_group(self) -> np.ndarray:
        """(G, N) count of kept entries of each group of each column (before zero trim)."""
        cols = np.arange(self.shape[1]) // self.block
        return self.block_n[:, cols].astype(np.int64)

    def to_dense(self) -> np.ndarray:
        if self.values is None:
            raise WorkloadError("block operand has no values (metadata-only workload)")
        k, ncols = self.shape
        b = self.block
        g = -(-k // b)
        counts = self.kept_per_column_group()  # (G, N)
        rows = np.repeat(np.arange(g), ncols)
        colv = np.tile(np.arange(ncols), g)
        rep = counts.reshape(-1)
        grp = np.repeat(rows, rep)
        col = np.repeat(colv, rep)
        pos = grp * b + self.indices.astype(np.int64)
        out = np.zeros((g * b, ncols), dtype=self.values.dtype)
        out[pos, col] = self.values
        return out[:k]

    def meta(self) -> dict:
        return {"kind": self.kind, "shape": list(self.shape), "block": self.block}

    def arrays(self) -> dict[str, np.ndarray]:
        d = {"block_n": self.block_n}
        if self.values is not None:
            d["values"] = self.values
            d["indices"] = self.indices
        return d

    def with_values(self, values: np.ndarray) -> Block:
        return Block(self.shape, self.block_n, values, self.indices, self.block)


Format = Dense | NM | Unstructured | Block


def validate_nm(n: int, m: int) -> None:
    """N:M patterns accepted anywhere in accel: 1 <= N < M <= 32 (N == M means dense)."""
    if not (isinstance(n, int | np.integer) and isinstance(m, int | np.integer)):
        raise WorkloadError(f"N:M must be integers, got {n}:{m}")
    if m < 1 or m > 32:
        raise WorkloadError(f"N:M needs 1 <= M <= 32, got M={m}")
    if n < 1 or n > m:
        raise WorkloadError(f"N:M needs 1 <= N <= M, got {n}:{m}")


def density(fmt: Format) -> float:
    """Measured nonzero fraction of the operand (exact for metadata-only formats)."""
    return fmt.nnz / float(fmt.shape[0] * fmt.shape[1])


def nm_compress(dense: np.ndarray, n: int, m: int, axis: int = 0,
                mask: np.ndarray | None = None, score: np.ndarray | None = None) -> NM:
    """Compress ``dense`` to N:M along ``axis``.

    Kept positions are ``mask`` if given (it must keep exactly ``n`` per group after
    padding), else the top-``n`` of ``score`` (default ``|dense|``) per group; ties go to
    the lower position so the result is deterministic.
    """
    validate_nm(n, m)
    rows, cols = _check_2d(dense.shape)
    x = dense if axis == 0 else dense.T
    length, lines = x.shape
    g = -(-length // m)
    pad = g * m - length
    xp = np.concatenate([x, np.zeros((pad, lines), x.dtype)]) if pad else x
    xg = xp.reshape(g, m, lines)
    if mask is not None:
        mk = mask if axis == 0 else mask.T
        mk = np.concatenate([mk, np.zeros((pad, lines), bool)]) if pad else mk
        mk = mk.reshape(g, m, lines).astype(bool)
        # fill padded groups that are short of n with the lowest free positions
        short = n - mk.sum(axis=1)
        if np.any(short < 0):
            raise WorkloadError(f"mask keeps more than {n} of {m} in some group")
        if np.any(short > 0):
            order = np.argsort(mk, axis=1, kind="stable")  # False (free) first
            for j in range(int(short.max())):
                sel = short > j
                pos = order[:, j, :]
                gi, li = np.nonzero(sel)
                mk[gi, pos[gi, li], li] = True
        keep = mk
        idx = np.sort(np.argsort(~keep, axis=1, kind="stable")[:, :n, :], axis=1)
    else:
        s = np.abs(xg) if score is None else (score if axis == 0 else score.T)
        if score is not None and pad:
            s = np.concatenate([s, np.full((pad, lines), -np.inf)])
        s = s.reshape(g, m, lines)
        # stable argsort of -score: highest first, ties to lower position
        idx = np.sort(np.argsort(-s, axis=1, kind="stable")[:, :n, :], axis=1)
    vals = np.take_along_axis(xg, idx, axis=1)
    return NM((rows, cols), int(n), int(m), axis,
              vals.reshape(g * n, lines), idx.astype(np.uint8).reshape(g * n, lines))


def block_compress(dense: np.ndarray, block_n: np.ndarray, block: int = 16,
                   score: np.ndarray | None = None) -> Block:
    """Compress to FlightLLM block format: tile (i, j) keeps top-block_n[i, j] of each group."""
    k, ncols = _check_2d(dense.shape)
    g = -(-k // block)
    gc = -(-ncols // block)
    block_n = np.asarray(block_n, dtype=np.uint8)
    if block_n.shape != (g, gc):
        raise WorkloadError(f"block_n shape {block_n.shape} != tiles {(g, gc)}")
    if block_n.min() < 1 or block_n.max() > block:
        raise WorkloadError(f"block N must be in 1..{block}")
    pad = g * block - k
    xp = np.concatenate([dense, np.zeros((pad, ncols), dense.dtype)]) if pad else dense
    if score is None:
        s = np.abs(xp)
    else:
        s = np.concatenate([score, np.full((pad, ncols), -np.inf)]) if pad else score
    order = np.argsort(-s.reshape(g, block, ncols), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(block)[None, :, None], axis=1)
    counts = block_n[:, np.arange(ncols) // block]  # (G, N)
    keep = ranks < counts[:, None, :]
    # ragged order (group, column, position)
    kg = keep.transpose(0, 2, 1)  # (G, N, block)
    gi, ci, pi = np.nonzero(kg)
    vals = xp.reshape(g, block, ncols)[gi, pi, ci]
    return Block((k, ncols), block_n, vals, pi.astype(np.uint8), block)


def format_from_arrays(meta: dict, arrays: dict[str, np.ndarray]) -> Format:
    kind = meta.get("kind")
    shape = tuple(int(s) for s in meta["shape"])
    if kind == "dense":
        return Dense(shape, arrays.get("values"))
    if kind == "nm":
        return NM(shape, int(meta["n"]), int(meta["m"]), int(meta["axis"]),
                  arrays.get("values"), arrays.get("indices"))
    if kind == "unstructured":
        return Unstructured(shape, arrays.get("indptr"), arrays.get("indices"),
                            arrays.get("data"), meta.get("density_hint"))
    if kind == "block":
        if "block_n" not in arrays:
            raise WorkloadError("block operand is missing its block_n array")
        return Block(shape, arrays["block_n"], arrays.get("values"), arrays.get("indices"),
                     int(meta.get("block", 16)))
    raise WorkloadError(f"unknown sparsity format {kind!r}; known: {', '.join(FORMAT_KINDS)}")


# --- checks of operands read from files ---------------------------------------------------
MAX_DIM = 2**31 - 1   # a matrix side: indices are int32 in the CSR and the kernels


def _real(where: str, name: str, arr: np.ndarray, finite: bool = True) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        kind = getattr(getattr(arr, "dtype", None), "name", type(arr).__name__)
        raise WorkloadError(f"{where}: {name} must be a real numeric array, got {kind}")
    if finite and arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        raise WorkloadError(f"{where}: {name} contains NaN or infinite values")


def _integer(where: str, name: str, arr: np.ndarray, low: int, high: int) -> None:
    """Integer array with every entry in [low, high)."""
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu":
        kind = getattr(getattr(arr, "dtype", None), "name", type(arr).__name__)
        raise WorkloadError(f"{where}: {name} must be an integer array, got {kind}")
    if arr.size and (int(arr.min()) < low or int(arr.max()) >= high):
        raise WorkloadError(f"{where}: {name} has entries outside {low}..{high - 1} "
                            f"(min {int(arr.min())}, max {int(arr.max())})")


def _shape(where: str, name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    if tuple(arr.shape) != tuple(shape):
        raise WorkloadError(f"{where}: {name} has shape {tuple(arr.shape)}, expected {tuple(shape)}")


def check_format(fmt: Format, where: str) -> None:
    """Every array of an operand read from a file agrees with its declared shape and
    format: dtypes real (indices integer), index ranges inside the matrix or group,
    CSR pointers monotone, no NaN/inf values.  A format built by accel passes by
    construction; a file may claim anything."""
    rows, cols = _check_2d(fmt.shape)
    if rows > MAX_DIM or cols > MAX_DIM:
        raise WorkloadError(f"{where}: shape {rows}x{cols} exceeds {MAX_DIM} per side")
    if isinstance(fmt, Dense):
        if fmt.values is not None:
            _real(where, "values", fmt.values)
            _shape(where, "values", fmt.values, (rows, cols))
        return
    if isinstance(fmt, NM):
        if (fmt.values is None) != (fmt.indices is None):
            raise WorkloadError(f"{where}: N:M operand needs both values and indices, or neither")
        if fmt.values is None:
            return
        want = (fmt.groups * fmt.n, fmt.lines)
        _real(where, "values", fmt.values)
        _shape(where, "values", fmt.values, want)
        _shape(where, "indices", fmt.indices, want)
        _integer(where, "N:M indices", fmt.indices, 0, fmt.m)
        if fmt.n > 1:  # kept positions ascend inside each group (the layout's contract)
            pos = fmt.indices.reshape(fmt.groups, fmt.n, fmt.lines).astype(np.int64)
            if np.any(np.diff(pos, axis=1) <= 0):
                raise WorkloadError(f"{where}: N:M indices must be distinct and ascending "
                                    "within each group")
        return
    if isinstance(fmt, Unstructured):
        if fmt.density_hint is not None:
            h = fmt.density_hint
            if isinstance(h, bool) or not isinstance(h, int | float) or not 0.0 <= h <= 1.0:
                raise WorkloadError(f"{where}: density_hint must be a number in [0, 1], got {h!r}")
        arrs = (fmt.indptr, fmt.indices, fmt.data)
        if all(a is None for a in arrs):
            return
        if any(a is None for a in arrs):
            raise WorkloadError(f"{where}: CSR operand needs indptr, indices and data")
        if fmt.indptr.ndim != 1 or fmt.indices.ndim != 1 or fmt.data.ndim != 1:
            raise WorkloadError(f"{where}: CSR arrays must be 1-D")
        _shape(where, "indptr", fmt.indptr, (rows + 1,))
        nnz = fmt.indices.shape[0]
        _integer(where, "indptr", fmt.indptr, 0, nnz + 1)
        if fmt.indptr[0] != 0 or fmt.indptr[-1] != nnz or np.any(np.diff(fmt.indptr) < 0):
            raise WorkloadError(f"{where}: indptr must rise from 0 to nnz={nnz}")
        _shape(where, "data", fmt.data, (nnz,))
        _integer(where, "column indices", fmt.indices, 0, cols)
        _real(where, "data", fmt.data)
        return
    if isinstance(fmt, Block):
        b = fmt.block
        if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 64:
            raise WorkloadError(f"{where}: block must be an integer in 1..64, got {b!r}")
        _shape(where, "block_n", fmt.block_n, (-(-rows // b), -(-cols // b)))
        _integer(where, "block_n", fmt.block_n, 1, b + 1)
        if (fmt.values is None) != (fmt.indices is None):
            raise WorkloadError(f"{where}: block operand needs both values and indices, or neither")
        if fmt.values is None:
            return
        total = int(fmt.kept_per_column_group().sum())
        _real(where, "values", fmt.values)
        _shape(where, "values", fmt.values, (total,))
        _shape(where, "indices", fmt.indices, (total,))
        _integer(where, "block indices", fmt.indices, 0, b)
        return
    raise WorkloadError(f"{where}: unknown operand type {type(fmt).__name__}")  # pragma: no cover


# What one C = A.B may cost.  Memory is what must fit: the simulators hold the operands
# (as int64 indices and float64 values, plus one transposed copy for inner/outer product),
# per-row bookkeeping of C (row pointers, entry and product counts, work units, row state,
# the check's row index) and the machine's own state (tables, booking rings: fixed by its
# configuration).  C itself is streamed: held whole only up to 2^24 entries, else checked
# on sampled rows (accel.arch.piuma.model), so nothing grows with the partial products.
SPGEMM_BYTES_PER_NNZ = 64       # A's and B's index + value copies (2 x 12 B each) and a transposed copy
SPGEMM_BYTES_PER_ROW = 256      # ~15 int64/float64 per-row arrays of A and C (counts, pointers, units, state)
SPGEMM_MEMORY_BUDGET = 4 * 2**30   # graphs.MEMORY_BUDGET's laptop share, next to the model's fixed state
# Work is bounded only so that a typo (rmat:25:1000) is refused instead of running for
# days: ~6.9e10 multiply-adds, ~3x rmat:20 (2.1e10), hours of simulation at ~3e6 per second.
MAX_SPGEMM_FLOPS = 2**36


def spgemm_flops(a: Unstructured, b: Unstructured) -> int:
    """Multiply-adds of C = A.B from the operands' structure, in O(nnz): each stored
    A[i, k] meets every stored entry of row k of B."""
    b_row_nnz = np.diff(b.indptr.astype(np.int64))
    return int(b_row_nnz[a.indices.astype(np.int64)].sum(dtype=np.int64)) if a.indices.size else 0


def check_spgemm_work(a: Unstructured, b: Unstructured, where: str) -> None:
    """Refuse a SpGEMM whose operands lack data, whose simulation would not fit in memory,
    or whose work is beyond the limit."""
    if a.indptr is None or b.indptr is None:
        raise WorkloadError(f"{where}: SpGEMM operands need their CSR arrays (metadata-only given)")
    rows = a.shape[0] + b.shape[0] + 2
    need = (a.indices.size + b.indices.size) * SPGEMM_BYTES_PER_NNZ + rows * SPGEMM_BYTES_PER_ROW
    if need > SPGEMM_MEMORY_BUDGET:
        raise WorkloadError(f"{where}: C = A.B of a {a.shape[0]}x{a.shape[1]} and a "
                            f"{b.shape[0]}x{b.shape[1]} operand needs about {need / 2**30:.3g} GiB "
                            f"to simulate, more than the {SPGEMM_MEMORY_BUDGET / 2**30:g} GiB limit")
    flops = spgemm_flops(a, b)
    if flops > MAX_SPGEMM_FLOPS:
        raise WorkloadError(f"{where}: C = A.B needs {flops:.3g} multiply-adds, more than the "
                            f"limit {MAX_SPGEMM_FLOPS:.3g} one op may simulate")
