"""Sparse graph inputs for SpGEMM: R-MAT generator, uniform random matrices, Matrix Market.

R-MAT (Chakrabarti et al. 2004, as used by Graph500): each of ``edge_factor * 2^scale``
edges picks its (row, col) one bit at a time, choosing one of the four quadrants with
probabilities (a, b, c, d = 1-a-b-c).  Graph500's parameters are (0.57, 0.19, 0.19).
Choices made here (documented, not from a spec):

* duplicate edges are merged into one entry (the adjacency matrix is 0/1 in structure);
* self loops are kept (Graph500 keeps them in the generated edge list too);
* vertex labels are randomly permuted by default, as Graph500's generator does, so the
  high-degree vertices are not all clustered at row 0 (which would flatter any
  row-blocked load balancing);
* each stored entry gets a value drawn uniformly from [0.5, 1.5): distinct values let
  the SpGEMM result check catch a wrong pairing that all-ones values would hide.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured
from accel.workloads.ops import SpGemm, Workload

GRAPH500_ABC = (0.57, 0.19, 0.19)  # Graph500 reference R-MAT quadrant probabilities
MAX_RMAT_SCALE = 26                 # 2^26 vertices x 16 edges is ~1e9 edges: beyond a laptop
VALUE_RANGE = (0.5, 1.5)            # entry values; away from 0 so no product cancels by accident
# Memory a generator or reader may use, estimated before allocating (what a 16 GB
# laptop holds next to the model and its workers).  R-MAT needs ~40 B per edge
# (rows, cols, key, sort copy, values); a CSR matrix ~(rows + 1) * 8 + nnz * 12 B plus
# scipy's COO copy while reading (~nnz * 24 B).
MEMORY_BUDGET = 4 * 2**30
RMAT_BYTES_PER_EDGE = 40
MAX_SEED = 2**63 - 1


def _csr(mat: sp.spmatrix) -> Unstructured:
    mat = sp.csr_matrix(mat, dtype=np.float64)
    mat.sum_duplicates()
    mat.sort_indices()
    return Unstructured.from_scipy(mat)


def rmat(scale: int, edge_factor: int = 16, seed: int = 1, a: float = GRAPH500_ABC[0],
         b: float = GRAPH500_ABC[1], c: float = GRAPH500_ABC[2], permute: bool = True
         ) -> Unstructured:
    """Square 2^scale R-MAT adjacency matrix as CSR (duplicates merged, sorted indices)."""
    if not isinstance(scale, int | np.integer) or not 1 <= scale <= MAX_RMAT_SCALE:
        raise WorkloadError(f"R-MAT scale must be an integer in 1..{MAX_RMAT_SCALE}, got {scale}")
    if not isinstance(edge_factor, int | np.integer) or edge_factor < 1:
        raise WorkloadError(f"R-MAT edge factor must be a positive integer, got {edge_factor}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        raise WorkloadError(f"seed must be an integer in 0..2^63-1, got {seed}")
    need = float(edge_factor) * 2.0 ** int(scale) * RMAT_BYTES_PER_EDGE
    if need > MEMORY_BUDGET:
        raise WorkloadError(f"R-MAT scale {scale}, edge factor {edge_factor} needs about "
                            f"{need / 2**30:.3g} GiB, more than the {MEMORY_BUDGET / 2**30:g} GiB limit")
    for name, v in (("a", a), ("b", b), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating) or not np.isfinite(v):
            raise WorkloadError(f"R-MAT probability {name} must be a finite number, got {v}")
    d = 1.0 - a - b - c
    if min(a, b, c) <= 0 or d <= 0:
        raise WorkloadError(f"R-MAT probabilities need a, b, c > 0 and a+b+c < 1, got "
                            f"a={a}, b={b}, c={c}")
    n = 1 << int(scale)
    n_edges = int(edge_factor) * n
    rng = np.random.default_rng(seed)
    rows = np.zeros(n_edges, dtype=np.int64)
    cols = np.zeros(n_edges, dtype=np.int64)
    # one bit of (row, col) per level: quadrant 0=(0,0) p=a, 1=(0,1) p=b, 2=(1,0) p=c, 3=(1,1)
    cut_ab, cut_abc = a + b, a + b + c
    for level in range(int(scale)):
        u = rng.random(n_edges)
        row_bit = u >= cut_ab
        col_bit = ((u >= a) & (u < cut_ab)) | (u >= cut_abc)
        rows |= row_bit.astype(np.int64) << level
        cols |= col_bit.astype(np.int64) << level
    if permute:
        perm = rng.permutation(n)
        rows, cols = perm[rows], perm[cols]
    # merge duplicates: unique (row, col) pairs, sorted row-major
    # (sort + neighbour compare: numpy 2's hash-based np.unique is ~8x slower here)
    key = np.sort(rows * n + cols)
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    r, cidx = np.divmod(key, n)
    vals = rng.uniform(*VALUE_RANGE, size=key.size)
    # key is sorted row-major and unique, so the CSR arrays follow directly
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return Unstructured((n, n), indptr, cidx.astype(np.int32), vals)


def uniform_random(n: int, density: float, seed: int = 0) -> Unstructured:
    """Square n x n matrix with round(density * n^2) entries at uniform random positions."""
    if not isinstance(n, int | np.integer) or n < 1:
        raise WorkloadError(f"matrix size must be a positive integer, got {n}")
    if not 0.0 < density <= 1.0:  # also refuses NaN
        raise WorkloadError(f"density must be in (0, 1], got {density}")
    need = float(n) * n * density * 24 + (n + 1) * 8
    if need > MEMORY_BUDGET or n > 2**31 - 1:
        raise WorkloadError(f"a {n}x{n} matrix at density {density} needs about "
                            f"{need / 2**30:.3g} GiB, more than the {MEMORY_BUDGET / 2**30:g} GiB limit")
    rng = np.random.default_rng(seed)
    mat = sp.random(n, n, density=density, format="csr", random_state=rng,
                    data_rvs=lambda k: rng.uniform(*VALUE_RANGE, size=k))
    return _csr(mat)


MTX_MAX_FILE_BYTES = 4 * 2**30
MTX_CHUNK_BYTES = 32 * 2**20   # the body is validated in chunks this big (bounded memory)
# What an entry line may hold (ASCII only: str.isdigit() and float() accept other scripts'
# digits, and a '%' comment may sit between entries); anything else is refused with its line.
_MTX_BODY_BAD = re.compile(rb"[^0-9eE+\-. \t\r\n]")
_MTX_COMMENT = re.compile(rb"^[ \t]*%[^\n]*", re.M)
_ASCII_INT = re.compile(r"[0-9]+")


def _mtx_body_ascii(path: Path, body_start: int) -> None:
    """Refuse an entry section with anything but ASCII numbers, streaming the file in
    ``MTX_CHUNK_BYTES`` chunks (chunks split at a line end)."""
    with path.open("rb") as f:
        f.seek(body_start)
        line_no = 0
        tail = b""
        while True:
            chunk = f.read(MTX_CHUNK_BYTES)
            if not chunk and not tail:
                return
            data = tail + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            data, tail = data[:cut], data[cut:]
            bad = _MTX_BODY_BAD.search(_MTX_COMMENT.sub(b"", data))
            if bad is not None:
                # find the line in the original text (comments removed keep line ends)
                lines = _MTX_COMMENT.sub(b"", data).split(b"\n")
                for i, ln in enumerate(lines):
                    if _MTX_BODY_BAD.search(ln):
                        shown = ln.decode("latin-1")[:40]
                        raise WorkloadError(f"{path}: entry line {line_no + i + 1} is not finite "
                                            f"ASCII numbers: {shown!r}")
            line_no += data.count(b"\n")
            if not chunk:
                return


def _mtx_header(path: Path) -> tuple[str, str, int, int, int, int]:
    """(format, field, rows, cols, entries, byte offset of the entries) from the banner
    and size line, read before anything is allocated: a 70-byte header may declare a
    10^9 x 10^9 matrix."""
    with path.open("rb") as f:
        banner = f.readline(1024).decode("latin-1").split()
        if len(banner) != 5 or banner[0].lower() != "%%matrixmarket" or banner[1].lower() != "matrix":
            raise WorkloadError(f"{path} is not a Matrix Market file (no '%%MatrixMarket matrix' banner)")
        fmt, field_, symm = (x.lower() for x in banner[2:])
        if fmt not in ("coordinate", "array"):
            raise WorkloadError(f"{path}: unknown Matrix Market format {fmt!r}")
        if field_ not in ("real", "integer", "pattern", "double"):
            raise WorkloadError(f"{path}: {field_} matrices are not supported (real, integer or pattern)")
        if symm not in ("general", "symmetric", "skew-symmetric"):
            raise WorkloadError(f"{path}: {symm} matrices are not supported")
        for _ in range(100_000):
            line = f.readline(4096)
            if not line:
                raise WorkloadError(f"{path}: Matrix Market file has no size line")
            text = line.decode("latin-1").strip()
            if text and not text.startswith("%"):
                break
        else:
            raise WorkloadError(f"{path}: too many comment lines before the size line")
        body_start = f.tell()
    parts = text.split()
    want = 3 if fmt == "coordinate" else 2
    if len(parts) != want or not all(_ASCII_INT.fullmatch(p) for p in parts):
        raise WorkloadError(f"{path}: bad Matrix Market size line {text[:60]!r}")
    rows, cols = int(parts[0]), int(parts[1])
    entries = int(parts[2]) if fmt == "coordinate" else rows * cols
    return fmt, field_, rows, cols, entries, body_start


def read_mtx(path: str | os.PathLike) -> Unstructured:
    """A Matrix Market file (e.g. from SuiteSparse) as CSR; pattern matrices get value 1.

    The header is checked first (sizes against ``MEMORY_BUDGET``, int32 indices), the
    entries after (finite values, indices inside the declared shape)."""
    import scipy.io

    from accel.files import check_input_file

    path = check_input_file(path, "Matrix Market file", MTX_MAX_FILE_BYTES, WorkloadError)
    fmt, field_, rows, cols, entries, body_start = _mtx_header(path)
    if rows < 1 or cols < 1:
        raise WorkloadError(f"{path}: empty matrix of shape ({rows}, {cols})")
    if rows > 2**31 - 1 or cols > 2**31 - 1:
        raise WorkloadError(f"{path}: {rows}x{cols} exceeds {2**31 - 1} rows/columns (int32 indices)")
    stored = entries * (2 if field_ != "general" else 1)
    need = (rows + 1) * 8.0 + stored * 36.0
    if need > MEMORY_BUDGET:
        raise WorkloadError(f"{path}: a {rows}x{cols} matrix with {entries} entries needs about "
                            f"{need / 2**30:.3g} GiB, more than the {MEMORY_BUDGET / 2**30:g} GiB limit")
    _mtx_body_ascii(path, body_start)
    try:
        mat = scipy.io.mmread(str(path))
    except (ValueError, OSError, IndexError, TypeError, OverflowError, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
        raise WorkloadError(f"{path} is not a readable Matrix Market file ({msg})") from None
    if np.iscomplexobj(mat.data if sp.issparse(mat) else mat):
        raise WorkloadError(f"{path}: complex matrices are not supported")
    mat = sp.csr_matrix(mat)
    if mat.shape != (rows, cols):
        raise WorkloadError(f"{path}: entries do not match the declared shape {rows}x{cols}")
    if mat.data.dtype.kind not in "biuf" or (mat.data.size and not np.isfinite(mat.data).all()):
        raise WorkloadError(f"{path}: entries must be finite real numbers (NaN or inf found)")
    return _csr(mat)


def spgemm_workload(a: Unstructured, b: Unstructured | None = None, name: str = "spgemm",
                    provenance: dict | None = None) -> Workload:
    """One SpGEMM op C = A @ B (``b=None`` means A @ A, the usual graph benchmark)."""
    from accel.workloads.formats import check_spgemm_work

    op_name = "A*A" if b is None else "A*B"
    op = SpGemm(op_name, a, a if b is None else b)
    if op.a.shape[1] == op.b.shape[0]:
        check_spgemm_work(op.a, op.b, f"workload {name}")
    return Workload(name, [op], dict(provenance or {}))
