"""Host allocator tuning for the PIUMA engine's run (not part of the simulated machine).

The engine's write-backs and spill-list merges allocate and free arrays of a row's size,
which at graph scale are megabytes.  glibc serves such a block with a fresh ``mmap`` (its
default threshold starts at 128 KB) and hands a freed heap top back to the OS, so every
merge of a hub row faulted its pages in again: 7-14 % of an rmat:15-18 run was the kernel
zeroing pages (689 k page faults at rmat:15; 101 k with the settings below, for ~150 MB
more resident memory).  Blocks up to ``MMAP_THRESHOLD`` now come from the heap and up to
``TRIM_THRESHOLD`` of free heap top is kept for the next one.  glibc only (``mallopt``);
elsewhere nothing changes.

NumPy also asks Linux for transparent huge pages on every array of 4 MB or more
(``madvise(MADV_HUGEPAGE)``), which the usual ``transparent_hugepage=madvise`` setting then
grants: each first touch zeroes a whole 2 MB page.  For the host's work around a graph of
millions of rows (CSR copies, C, SciPy's check of it) that made a 1.96 M-row road network's
run spend 8.5-8.9 s outside the engine instead of 1.4 s (2 runs each, 793 huge-page faults,
no compaction stall), and the engine itself was no faster with them (rmat:15: ratio 1.06
with them off, median of 3 pairs, within noise).  ``tune`` turns that request off, as
NumPy's documented ``NUMPY_MADVISE_HUGEPAGE=0`` does at start-up.

Applied once per process; results never depend on it."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3   # glibc's <malloc.h> parameter codes
MMAP_THRESHOLD = 64 << 20     # blocks below this come from the heap (32 MB left 241 k faults at rmat:15)
TRIM_THRESHOLD = 256 << 20    # free heap top kept for reuse before it is returned to the OS
TOP_PAD = 64 << 20            # extra heap obtained per growth, so a growing arena does not fault per page


def _no_numpy_hugepages() -> None:
    """NumPy's huge-page request off (module doc).  The switch is NumPy's own but private
    (``_set_madvise_hugepage``, NumPy >= 1.20): where it is missing nothing changes."""
    try:
        from numpy._core import multiarray
    except ImportError:   # NumPy 1.x
        from numpy.core import multiarray
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is not None:
        switch(False)


@functools.cache
def tune() -> bool:
    """Set the thresholds and turn NumPy's huge-page request off; True if the C library
    took the thresholds (glibc)."""
    _no_numpy_hugepages()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return all(mallopt(code, value) == 1 for code, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_TOP_PAD, TOP_PAD)))


def host_cores() -> int:
    """Cores this process may run on (the engine's helper threads use a second one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return os.cpu_count() or 1
