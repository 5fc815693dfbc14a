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
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured
from accel.workloads.ops import SpGemm, Workload

GRAPH500_ABC = (0.57, 0.19, 0.19)  # Graph500 reference R-MAT quadrant probabilities
MAX_RMAT_SCALE = 26                 # 2^26 vertices x 16 edges is ~1e9 edges: beyond a laptop
VALUE_RANGE = (0.5, 1.5)            # entry values; away from 0 so no product cancels by accident


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
    if not 0.0 < density <= 1.0:
        raise WorkloadError(f"density must be in (0, 1], got {density}")
    rng = np.random.default_rng(seed)
    mat = sp.random(n, n, density=density, format="csr", random_state=rng,
                    data_rvs=lambda k: rng.uniform(*VALUE_RANGE, size=k))
    return _csr(mat)


def read_mtx(path: str | os.PathLike) -> Unstructured:
    """A Matrix Market file (e.g. from SuiteSparse) as CSR; pattern matrices get value 1."""
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise WorkloadError(f"Matrix Market file not found: {path}")
    try:
        mat = scipy.io.mmread(str(path))
    except (ValueError, OSError, IndexError, TypeError) as exc:
        raise WorkloadError(f"{path} is not a readable Matrix Market file ({exc})") from None
    if np.iscomplexobj(mat.data if sp.issparse(mat) else mat):
        raise WorkloadError(f"{path}: complex matrices are not supported")
    mat = sp.csr_matrix(mat)
    if mat.shape[0] == 0 or mat.shape[1] == 0:
        raise WorkloadError(f"{path}: empty matrix of shape {mat.shape}")
    return _csr(mat)


def spgemm_workload(a: Unstructured, b: Unstructured | None = None, name: str = "spgemm",
                    provenance: dict | None = None) -> Workload:
    """One SpGEMM op C = A @ B (``b=None`` means A @ A, the usual graph benchmark)."""
    op_name = "A*A" if b is None else "A*B"
    op = SpGemm(op_name, a, a if b is None else b)
    return Workload(name, [op], dict(provenance or {}))
