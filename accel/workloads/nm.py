"""The one parser of N:M sparsity patterns ("2:8": keep N of every M consecutive weights).

Every place that reads an N:M pattern from text (SAT's ``supported_patterns``, ``--prune``,
FlightLLM's ``--sparsity``, SCALE-Sim topology files) calls ``parse_nm`` for the syntax and
the range every N:M shares; a caller adds only what is its own (FlightLLM's M = 16, say).
"""

from __future__ import annotations

import re

from accel.errors import AccelError, WorkloadError

_NM = re.compile(r"\s*([0-9]+)\s*:\s*([0-9]+)\s*")   # ASCII digits only ("²" is no number)


def parse_nm(text: str, where: str = "N:M pattern", *, strict: bool = False,
             max_m: int | None = None, example: str = "2:8",
             error: type[AccelError] = WorkloadError) -> tuple[int, int]:
    """``"2:8"`` -> ``(2, 8)``.

    Two whole numbers around one colon (spaces allowed), with 1 <= N <= M (N < M when
    ``strict``: a pattern that prunes something) and M <= ``max_m`` when given.  Errors are
    ``error`` (one line) starting with ``where`` and quoting the text."""
    t = str(text).strip()
    found = _NM.fullmatch(t)
    if not found:
        raise error(f"{where} must look like {example}, got {t!r}")
    n, m = int(found[1]), int(found[2])
    if n < 1 or (n >= m if strict else n > m) or (max_m is not None and m > max_m):
        bound = f" <= {max_m}" if max_m is not None else ""
        raise error(f"{where} {t!r} needs 1 <= N {'<' if strict else '<='} M{bound}")
    return n, m
