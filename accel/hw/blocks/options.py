"""Option helpers shared by the blocks' command lines (declarations stay in each block)."""

from __future__ import annotations


def nm_of(prune: str | None, n: int | None, m: int | None,
          default: tuple[int, int] = (2, 4)) -> tuple[int, int]:
    """N and M of a block: ``--n``/``--m`` when given, else the N:M of ``--prune``
    (``2:8``, ``bdwp:2:8``), else ``default``."""
    from accel.workloads.prune import parse_prune

    spec = parse_prune(prune) if prune is not None else None
    if spec is not None and spec.is_nm:
        n = spec.n if n is None else n
        m = spec.m if m is None else m
    return (default[0] if n is None else n), (default[1] if m is None else m)
