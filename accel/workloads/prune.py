"""Pruning of real weights: masks and the grammar of ``--prune``.

Weights are Hugging Face ``W`` (out, in); ``axis`` is the axis of W along which N:M
groups of M consecutive weights run (1 = input channels, the forward reduction axis;
0 = output channels, the backward-data reduction axis -- REFERENCE section 1).

Grammar (``parse_prune``)::

    dense            no pruning
    N:M              magnitude N:M along input channels (1 <= N < M <= 32)
    bdwp:N:M         BDWP: N:M along input channels (fwd) and, in training workloads,
                     a second mask along output channels (bwd_data)
    unstructured:D   magnitude, keep the round(D * size) largest |w|, 0 < D <= 1
    wanda:D          Wanda (Sun et al. 2023): score |w| * ||x_in||_2, keep round(D * in)
                     per output row (Wanda's per-output comparison group)
    wanda:N:M        Wanda score, N:M along input channels
    block:N:M        FlightLLM block N:M: M = 16, one N per 16x16 tile chosen from
                     BLOCK_N_CHOICES by importance, average N <= the requested N

Every mask is deterministic: ties go to the lower position (stable sorts).
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import nm_compress, validate_nm
from accel.workloads.nm import parse_nm

PRUNE_METHODS = ("dense", "nm", "bdwp", "unstructured", "wanda", "block")
BLOCK_SIZE = 16                  # FlightLLM: one N per 16x16 weight block, M = 16 [paper]
BLOCK_N_CHOICES = (2, 4, 8, 16)  # FlightLLM's supported N for M = 16 [paper/artifact]

_SYNTAX = "dense|N:M|bdwp:N:M|unstructured:D|wanda:D|wanda:N:M|block:N:M"


@dataclass(frozen=True)
class PruneSpec:
    method: str                 # one of PRUNE_METHODS
    n: int | None = None        # N:M pattern (nm, bdwp, wanda N:M, block)
    m: int | None = None
    density: float | None = None  # target kept fraction (unstructured, wanda D)
    text: str = "dense"         # canonical spelling, used in provenance and cache keys

    @property
    def is_nm(self) -> bool:
        return self.n is not None and self.method != "block"


def _int(tok: str, text: str) -> int:
    if not re.fullmatch(r"[0-9]+", tok):
        raise WorkloadError(f"--prune {text!r}: {tok!r} is not a whole number (syntax: {_SYNTAX})")
    return int(tok)


def _nm(n_tok: str, m_tok: str, text: str) -> tuple[int, int]:
    n, m = parse_nm(f"{n_tok}:{m_tok}", f"--prune {text!r}: N:M", strict=True, max_m=32)
    validate_nm(n, m)
    return n, m


def _density(tok: str, text: str) -> float:
    try:
        d = float(tok)
    except ValueError:
        raise WorkloadError(f"--prune {text!r}: density {tok!r} is not a number") from None
    if not 0.0 < d <= 1.0:
        raise WorkloadError(f"--prune {text!r}: density must be in (0, 1], got {d}")
    return d


def parse_prune(text: str) -> PruneSpec:
    """Parse the ``--prune`` grammar (module docstring) into a :class:`PruneSpec`."""
    t = str(text).strip().lower()
    parts = t.split(":")
    head = parts[0]
    if t == "dense":
        return PruneSpec("dense", text="dense")
    if len(parts) == 2 and re.fullmatch(r"[0-9]+", head):
        n, m = _nm(parts[0], parts[1], text)
        return PruneSpec("nm", n, m, text=f"{n}:{m}")
    if head == "bdwp" and len(parts) == 3:
        n, m = _nm(parts[1], parts[2], text)
        return PruneSpec("bdwp", n, m, text=f"bdwp:{n}:{m}")
    if head == "unstructured" and len(parts) == 2:
        d = _density(parts[1], text)
        return PruneSpec("unstructured", density=d, text=f"unstructured:{d:g}")
    if head == "wanda" and len(parts) == 2:
        d = _density(parts[1], text)
        return PruneSpec("wanda", density=d, text=f"wanda:{d:g}")
    if head == "wanda" and len(parts) == 3:
        n, m = _nm(parts[1], parts[2], text)
        return PruneSpec("wanda", n, m, text=f"wanda:{n}:{m}")
    if head == "block" and len(parts) == 3:
        n, m = _int(parts[1], text), _int(parts[2], text)
        if m != BLOCK_SIZE:
            raise WorkloadError(f"--prune {text!r}: FlightLLM blocks have M = {BLOCK_SIZE}, got M={m}")
        if not min(BLOCK_N_CHOICES) <= n <= BLOCK_SIZE:
            raise WorkloadError(f"--prune {text!r}: block N must be in {min(BLOCK_N_CHOICES)}.."
                                f"{BLOCK_SIZE}, got N={n}")
        return PruneSpec("block", n, m, text=f"block:{n}:{m}")
    raise WorkloadError(f"--prune {text!r} is not understood; syntax: {_SYNTAX}")


def nm_mask(score: np.ndarray, n: int, m: int, axis: int) -> np.ndarray:
    """Boolean mask keeping the top-``n`` of ``score`` in each group of ``m`` along ``axis``.

    Reuses :func:`nm_compress`'s group selection (one implementation of the top-N rule).
    """
    score = np.asarray(score, dtype=np.float64)
    sel = nm_compress(score, n, m, axis=axis)
    return sel.with_values(np.ones(sel.values.shape, dtype=np.int8)).to_dense().astype(bool)


def magnitude_nm(w: np.ndarray, n: int, m: int, axis: int = 1) -> np.ndarray:
    """Magnitude N:M mask of ``w`` with groups along ``axis``."""
    return nm_mask(np.abs(w), n, m, axis)


def bdwp_masks(w: np.ndarray, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """BDWP's two masks of W (out, in): forward along input channels, backward-data along
    output channels, both magnitude top-N of M from the dense weights (REFERENCE 1)."""
    return magnitude_nm(w, n, m, axis=1), magnitude_nm(w, n, m, axis=0)


def _top_k_mask(score: np.ndarray, k: int) -> np.ndarray:
    flat = score.reshape(-1)
    keep = np.zeros(flat.size, dtype=bool)
    keep[np.argsort(-flat, kind="stable")[:k]] = True
    return keep.reshape(score.shape)


def unstructured(w: np.ndarray, density: float) -> np.ndarray:
    """Magnitude mask keeping the round(density * size) largest |w| over the whole matrix."""
    if not 0.0 < density <= 1.0:
        raise WorkloadError(f"density must be in (0, 1], got {density}")
    return _top_k_mask(np.abs(w), int(round(density * w.size)))


def wanda_score(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|W_ij| * ||X_:,j||_2 (Wanda): weights times the L2 norm of their input channel."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != w.shape[1]:
        raise WorkloadError(f"Wanda needs activations (tokens, {w.shape[1]}), got {x.shape}")
    return np.abs(w.astype(np.float64)) * np.linalg.norm(x, axis=0)[None, :]


def wanda(w: np.ndarray, x: np.ndarray, density: float | None = None,
          n: int | None = None, m: int | None = None) -> np.ndarray:
    """Wanda mask: per output row keep round(density * in), or N:M along input channels."""
    score = wanda_score(w, x)
    if n is not None:
        return nm_mask(score, n, m, axis=1)
    if density is None or not 0.0 < density <= 1.0:
        raise WorkloadError(f"Wanda density must be in (0, 1], got {density}")
    k = int(round(density * w.shape[1]))
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    mask = np.zeros(w.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


def block_nm(wt: np.ndarray, n: int, score: np.ndarray | None = None,
             choices: tuple[int, ...] = BLOCK_N_CHOICES, block: int = BLOCK_SIZE) -> np.ndarray:
    """Per-tile N (``block_n``, shape (ceil(K/16), ceil(N/16))) for a K x N GEMM weight.

    Budget: sum of tile N <= ``n`` * tiles, i.e. average density <= n/16.  Every tile
    starts at the smallest choice; then, greedily, the upgrade (to the next choice) with
    the largest kept score per added weight is taken while it fits the budget.  The kept
    score of a tile at N is the sum over its groups of their top-N scores.
    """
    k, ncols = wt.shape
    s = np.abs(wt) if score is None else np.asarray(score)
    g, gc = -(-k // block), -(-ncols // block)
    sp = np.zeros((g * block, gc * block))
    sp[:k, :ncols] = s
    # (g, gc, block rows, block cols) -> each group is a column of a tile
    tiles = sp.reshape(g, block, gc, block).transpose(0, 2, 1, 3)
    ranked = -np.sort(-tiles, axis=2)                    # descending within each group
    cum = np.concatenate([np.zeros((g, gc, 1, block)), np.cumsum(ranked, axis=2)], axis=2)
    kept = cum.sum(axis=3)                               # (g, gc, block+1): kept score at N
    choices = tuple(sorted(c for c in choices if c <= block))
    level = np.zeros((g, gc), dtype=np.int64)
    budget = n * g * gc - choices[0] * g * gc
    heap = []

    def push(i, j):
        lv = level[i, j]
        if lv + 1 < len(choices):
            lo, hi = choices[lv], choices[lv + 1]
            gain = (kept[i, j, hi] - kept[i, j, lo]) / (hi - lo)
            heapq.heappush(heap, (-gain, i, j, hi - lo))

    for i in range(g):
        for j in range(gc):
            push(i, j)
    while heap and budget > 0:
        _gain, i, j, cost = heapq.heappop(heap)
        if cost > budget:
            continue
        budget -= cost
        level[i, j] += 1
        push(i, j)
    return np.asarray(choices, dtype=np.uint8)[level]
