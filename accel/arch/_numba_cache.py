"""Where Numba keeps accel's compiled kernels, and why that cache can never be stale.

Numba's own on-disk cache (``@njit(cache=True)``) sits in ``__pycache__`` beside the
source and checks only the *calling* file's timestamp.  A kernel in ``sat/_kernels.py``
that calls ``@njit`` helpers in ``sat/pe_array.py`` (which read module constants such as
``START_CYCLES`` at compile time) is therefore served stale after an edit to
``pe_array.py`` -- a documented Numba limitation (numba#6845, "cache invalidation does not
track dependencies").

accel installs its own cache locator for every ``@njit(cache=True)`` function defined in
``accel/arch``.  Its directory is

    $ACCEL_NUMBA_CACHE_DIR                         (if set: moves the whole cache)
    else $XDG_CACHE_HOME/accel/numba               (else ~/.cache/accel/numba)
        /<source key>/<module folder>/...

where the source key hashes the bytes of every ``.py`` file under ``accel/arch`` (all
kernels, the helpers they call and the constants they read live there), the Python and
Numba versions.  Any edit to any of them selects a fresh folder, so nothing stale can be
found; nothing is written into the package.  Kernel modules import this module before
defining their kernels (the locator is chosen when ``@njit`` runs).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

import numba
from numba.core import caching

ARCH_ROOT = Path(__file__).resolve().parent
ENV_VAR = "ACCEL_NUMBA_CACHE_DIR"


def cache_root() -> Path:
    """The folder holding every source key's compiled kernels (what `accel cache` shows)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accel" / "numba"


@functools.lru_cache(maxsize=1)
def source_key() -> str:
    """Hash of every kernel source file and constant the kernels can depend on."""
    h = hashlib.sha256(f"{sys.version_info[:2]}|numba {numba.__version__}".encode())
    for path in sorted(ARCH_ROOT.rglob("*.py")):
        h.update(str(path.relative_to(ARCH_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def cache_dir() -> Path:
    """This source tree's folder inside ``cache_root()``."""
    return cache_root() / source_key()


class AccelCacheLocator(caching._CacheLocator):
    """Numba cache locator for kernels under ``accel/arch`` (see the module docstring)."""

    def __init__(self, py_func, py_file):
        self._lineno = py_func.__code__.co_firstlineno
        rel = Path(py_file).resolve().parent.relative_to(ARCH_ROOT)
        self._cache_path = str(cache_dir() / rel)

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        # The folder is already keyed by the whole tree's hash; the stamp repeats it so an
        # index copied between folders is still rejected.
        return source_key()

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            Path(py_file).resolve().relative_to(ARCH_ROOT)
        except (ValueError, OSError):
            return None  # not an accel kernel: Numba's own locators decide
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None  # unwritable cache folder: Numba falls back (and may not cache)
        return self


def install() -> None:
    """Put accel's locator first (idempotent)."""
    classes = caching.CacheImpl._locator_classes
    if AccelCacheLocator not in classes:
        classes.insert(0, AccelCacheLocator)


install()
