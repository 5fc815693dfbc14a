"""Edge-list graphs (SNAP's ``.txt``/``.txt.gz``, KONECT's files, any "source target" lines)
as a CSR adjacency matrix, for SpGEMM A*A like a Matrix Market file.

SNAP (snap.stanford.edu/data) ships its graphs -- cit-Patents, roadNet-CA, wiki-Vote,
email-Enron, web-Google ... -- as gzipped text: ``#`` comment lines, then one edge a line,
``FromNodeId<TAB>ToNodeId``.  KONECT's files are the same with ``%`` comments.  Users bring
these as downloaded; converting them to Matrix Market first should not be their job.

Choices (documented, not from a spec):

* node ids are labels: the distinct ids, in ascending order, become rows and columns
  0..n-1 (cit-Patents' ids are US patent numbers, up to ~6 M for its 3.77 M nodes: taken
  as indices they would add millions of empty rows).  Ids already 0..n-1 keep their place;
* a line's first two columns are its edge; more columns (SNAP's signs and timestamps,
  KONECT's weights) are ignored, so the matrix is 0/1, as a pattern ``.mtx`` reads, with
  duplicate edges merged;
* a file whose header says the graph is undirected (SNAP's ``# Undirected graph``,
  KONECT's ``% sym``) gets each edge in both directions (SNAP lists some undirected
  graphs one way only, e.g. ``com-*.ungraph.txt``); otherwise edges are directed as listed.

The file is read in chunks of ``CHUNK_LINES`` lines (pandas' C parser; gzip by suffix) and
refused once its edges would pass ``graphs.MEMORY_BUDGET``.  The resolver imports this
module for ``is_edge_list`` on every workload, so pandas, SciPy and ``graphs`` (which
imports SciPy: ~70 ms) are imported only when a file is read.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured

SUFFIXES = (".txt", ".tsv", ".edges", ".el")   # each also gzipped: ``.txt.gz`` ...
MAX_FILE_BYTES = 4 * 2**30      # as graphs.MTX_MAX_FILE_BYTES
CHUNK_LINES = 4_000_000         # lines parsed at a time (~64 MB of ids)
# Host memory per edge read, measured as peak RSS over edges on a file of cit-Patents' size
# (16.5 M edges, 3.7 M nodes): 0.85 GB when ids are relabelled by table, 2.06 GB when they
# are sparse enough to be sorted (``_relabel``).  Undirected files hold each edge twice.
BYTES_PER_EDGE_TABLE = 64
BYTES_PER_EDGE_SORT = 128
LINE_CHARS = 1 << 16           # longest line named in an error (an edge line is ~20)
RELABEL_TABLE_PER_ID = 4        # ids at most this many times the ids read: relabel by table
HEADER_LINES = 10_000           # comment lines read for the header before giving up on it
COMMENTS = "#%"
_UNDIRECTED = re.compile(r"\bundirected\b", re.I)


def is_edge_list(spec: str) -> bool:
    """True for a path whose name ends in an edge-list suffix (optionally ``.gz``)."""
    low = str(spec).strip().lower()
    low = low[:-3] if low.endswith(".gz") else low
    return low.endswith(SUFFIXES)


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="latin-1", newline="")
    return path.open("r", encoding="latin-1", newline="")


def _header(path: Path) -> tuple[str, bool]:
    """(the comment character, whether the header says the graph is undirected), from the
    comment lines before the first edge (module docstring)."""
    comment, undirected = "", False
    with _open_text(path) as f:
        for _ in range(HEADER_LINES):
            line = f.readline(LINE_CHARS)
            text = line.strip()
            if not line or (text and text[0] not in COMMENTS):
                break
            if not text:
                continue
            comment = comment or text[0]     # the first comment line's character
            if text[0] == "#" and _UNDIRECTED.search(text):    # SNAP: "# Undirected graph: ..."
                undirected = True
            elif text[0] == "%" and text[1:].split()[:1] == ["sym"]:   # KONECT: "% sym|asym|bip ..."
                undirected = True
    return comment or "#", undirected


def _first_bad_line(path: Path) -> str | None:
    """The first line that is not two node ids (non-negative integers below 2^63), named
    for the error once reading has failed; None if every line is.  Lines are read at most
    ``LINE_CHARS`` at a time, so a file of one endless line costs no more memory."""
    with _open_text(path) as f:
        n = 0
        while line := f.readline(LINE_CHARS):
            n += 1
            if len(line) == LINE_CHARS and not line.endswith("\n"):
                return f"line {n} is longer than {LINE_CHARS} characters"
            text = line.strip()
            if not text or text[0] in COMMENTS:
                continue
            ids = text.split()[:2]
            if len(ids) < 2 or not all(x.isascii() and x.isdigit() and len(x) < 20
                                       and int(x) < 2**63 for x in ids):
                return f"line {n} is not two node ids (integers 0..2^63-1): {ascii(text[:40])}"
    return None


def _check_memory(path: Path, edges: int, per_edge: int, undirected: bool) -> None:
    from accel.workloads import graphs  # the budget every graph reader shares

    need = edges * per_edge * (2 if undirected else 1)
    if need > graphs.MEMORY_BUDGET:
        raise WorkloadError(f"{path}: {edges:,} edges or more need about {need / 2**30:.3g} GiB, "
                            f"more than the {graphs.MEMORY_BUDGET / 2**30:g} GiB limit")


def _by_table(hi: int, count: int) -> bool:
    """Whether ``_relabel`` ranks ``count`` ids up to ``hi`` with a table (ids dense enough)
    or by sorting."""
    return hi < 2**31 - 1 and hi <= RELABEL_TABLE_PER_ID * count


def _relabel(ids: np.ndarray, hi: int) -> np.ndarray:
    """Each node id's rank among the distinct ids (int32, the shape of ``ids``; ``hi`` their
    largest).  Ids up to ``RELABEL_TABLE_PER_ID`` times the count of ids use a table with an
    entry per possible id (linear time, ~5 B an entry); sparser ones are sorted
    (``np.unique``: 2.5x the memory and 2x the time on a cit-Patents-sized file)."""
    if _by_table(hi, ids.size):
        seen = np.zeros(hi + 1, np.bool_)
        seen[ids.ravel()] = True
        rank = np.cumsum(seen, dtype=np.int64)
        if rank[-1] > 2**31 - 1:
            raise WorkloadError(f"{rank[-1]} nodes exceed {2**31 - 1} rows (int32 indices)")
        return (rank[ids] - 1).astype(np.int32)
    labels, index = np.unique(ids.ravel(), return_inverse=True)
    if labels.size > 2**31 - 1:
        raise WorkloadError(f"{labels.size} nodes exceed {2**31 - 1} rows (int32 indices)")
    return index.reshape(ids.shape).astype(np.int32)


def read_edges(path: str | os.PathLike) -> Unstructured:
    """An edge-list file (module docstring) as an n x n CSR 0/1 adjacency matrix."""
    import pandas as pd
    import scipy.sparse as sp

    from accel.files import check_input_file

    path = check_input_file(path, "edge-list file", MAX_FILE_BYTES, WorkloadError)
    chunks, edges = [], 0
    try:
        comment, undirected = _header(path)
        reader = pd.read_csv(path, sep=r"\s+", comment=comment, header=None, usecols=[0, 1],
                             dtype=np.int64, chunksize=CHUNK_LINES, engine="c",
                             compression="gzip" if path.name.lower().endswith(".gz") else None,
                             encoding="latin-1")
        for frame in reader:
            ids = frame.to_numpy(np.int64)
            edges += ids.shape[0]
            _check_memory(path, edges, BYTES_PER_EDGE_TABLE, undirected)
            chunks.append(ids)
    except pd.errors.EmptyDataError:   # nothing but comments and blank lines
        pass
    except (ValueError, OverflowError, pd.errors.ParserError) as exc:
        where = _first_bad_line(path)
        raise WorkloadError(f"{path}: {where}" if where else f"{path} is not a readable edge list "
                            f"({str(exc).splitlines()[0][:80]})") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise WorkloadError(f"{path} is not a readable edge list "
                            f"({str(exc).splitlines()[0][:80] or type(exc).__name__})") from None
    if edges == 0:
        raise WorkloadError(f"{path}: no edges (expected lines of 'source target' node ids)")
    ids = np.concatenate(chunks)
    del chunks
    if ids.min() < 0:
        row = int(np.argmin(ids.min(axis=1)))
        raise WorkloadError(f"{path}: edge {row + 1} has a negative node id {int(ids[row].min())}")
    hi = int(ids.max())
    if not _by_table(hi, ids.size):
        _check_memory(path, ids.shape[0], BYTES_PER_EDGE_SORT, undirected)
    index = _relabel(ids, hi)
    del ids
    n = int(index.max()) + 1
    src, dst = index[:, 0], index[:, 1]
    if undirected:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    mat = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    mat.sum_duplicates()   # also sorts the indices
    mat.data[:] = 1.0      # 0/1: a repeated edge is one entry, as a pattern .mtx reads
    return Unstructured.from_scipy(mat)
