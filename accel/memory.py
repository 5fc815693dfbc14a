"""How much memory one accel process may plan to allocate, derived from the machine.

A count the user controls (``--batch``, layers, an LLM shape from a config.json, ...) is
turned into an estimate of the bytes it will allocate *before* anything is allocated,
and refused when the estimate exceeds :func:`memory_budget`: ``MEMORY_FRACTION`` of this
machine's physical memory.  The error names the estimate, the bound and where the
bound comes from, so a user knows both what was refused and what would fit.
"""

from __future__ import annotations

import os

from accel.errors import AccelError

# One process may plan to use half the RAM: the sweep's workers, the OS and the arrays a
# model makes from the workload (not in the estimate) share the other half.
MEMORY_FRACTION = 0.5
FALLBACK_BYTES = 8 * 2**30   # the machine's RAM where the OS does not say (sysconf missing)


def physical_memory_bytes() -> int:
    """Physical memory of this machine (``FALLBACK_BYTES`` where the OS does not say)."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_BYTES
    return pages * page if pages > 0 and page > 0 else FALLBACK_BYTES


def memory_budget() -> int:
    """Bytes one command may plan to allocate (module docstring)."""
    return int(physical_memory_bytes() * MEMORY_FRACTION)


def gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(need_bytes: float, what: str, error: type[AccelError] = AccelError,
                 hint: str = "") -> None:
    """Refuse ``what`` when the estimate ``need_bytes`` exceeds the budget."""
    budget = memory_budget()
    if need_bytes > budget:
        raise error(f"{what} needs ~{gib(need_bytes)}, more than the {gib(budget)} one run may "
                    f"use ({MEMORY_FRACTION:.0%} of this machine's {gib(physical_memory_bytes())} "
                    f"RAM){'; ' + hint if hint else ''}")
