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

where a kernel module's source key hashes the Python and Numba versions and the bytes of
the module and of every accel module it imports, transitively (read from the import
statements with ``ast``): an ``@njit`` function can only call, or read constants from,
what its module imports.  Any edit to one of them selects a fresh folder, so nothing
stale can be found, while an edit to a report view or a study recompiles nothing.
Nothing is written into the package.  Kernel modules import this module before defining
their kernels (the locator is chosen when ``@njit`` runs).

A wheel ships its kernels compiled (``hatch_build.py`` runs every machine's warm-up while
the wheel is built, on the machine that installs it when pip builds from source) in
``accel/_prebuilt_kernels/<source key>/``; a checkout's ``make install`` compiles them into
the same (git-ignored) folder.  The first use of a source key whose folder the cache lacks
copies the shipped one in, so an installed accel's first run loads instead of compiling,
and after ``accel cache clear`` too.  ``ACCEL_NO_PREBUILT=1`` turns the copy off (the test
suite's cache-behaviour tests need an empty cache to stay empty).  The copy is checked like any
cache entry: Numba loads an entry only for its own version and this CPU (its index keys
each on the target machine), and compiles and adds what does not match.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import shutil
import sys
from pathlib import Path

import numba

ARCH_ROOT = Path(__file__).resolve().parent
PKG_ROOT = ARCH_ROOT.parent  # the `accel` package
ENV_VAR = "ACCEL_NUMBA_CACHE_DIR"
PREBUILT = PKG_ROOT / "_prebuilt_kernels"   # kernels a wheel ships compiled (module doc)


def cache_root() -> Path:
    """The folder holding every source key's compiled kernels (what `accel cache` shows)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accel" / "numba"


@functools.cache
def _module_file(dotted: str) -> Path | None:
    """The source file of an ``accel...`` module name, or None (a name, not a module)."""
    parts = dotted.split(".")
    if parts[0] != "accel":
        return None
    base = PKG_ROOT.joinpath(*parts[1:])
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _statements(body: list[ast.stmt]):
    """Every statement of ``body`` and of the statements nested in it (functions, classes,
    if/try/with/loop bodies): where an import can stand.  Walking statements only, not
    every expression node as ``ast.walk`` does, is what keeps a fresh process's source
    keys cheap (0.28 s of a 2.2 s ``accel sim piuma --algo all`` went to the full walk)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            todo.extend(getattr(node, field, ()))


@functools.cache
def _imports(path: Path) -> frozenset[Path]:
    """accel modules that ``path`` imports (any scope), with their packages' __init__."""
    package = ["accel", *path.relative_to(PKG_ROOT).parts[:-1]]  # for relative imports
    names: list[str] = []
    for node in _statements(ast.parse(path.read_bytes()).body):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join(package[: len(package) - node.level + 1] + ([mod] if mod else []))
            names.append(mod)
            names += [f"{mod}.{a.name}" for a in node.names]  # `from pkg import module`
    found = set()
    for name in names:
        parts = name.split(".")
        for i in range(2, len(parts) + 1):  # the module and every package on its path
            f = _module_file(".".join(parts[:i]))
            if f is not None:
                found.add(f)
    return frozenset(found)


@functools.cache
def dependencies(py_file: str) -> tuple[Path, ...]:
    """``py_file`` and every accel module it imports, transitively, sorted."""
    seen: set[Path] = set()
    todo = [Path(py_file).resolve()]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(_imports(f) - seen)
    return tuple(sorted(seen))


@functools.cache
def source_key(py_file: str) -> str:
    """Hash of a kernel module and of every source file and constant it can depend on."""
    h = hashlib.sha256(f"{sys.version_info[:2]}|numba {numba.__version__}".encode())
    for path in dependencies(py_file):
        h.update(str(path.relative_to(PKG_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def cache_dir(py_file: str | os.PathLike) -> Path:
    """Where the compiled kernels of the accel module ``py_file`` live for its current
    sources (``<root>/<source key>/<module folder under accel/arch>``), seeded from the
    kernels the package ships compiled, if any (module doc)."""
    path = Path(py_file).resolve()
    key = source_key(str(path))
    seed(key, cache_root())
    return cache_root() / key / path.parent.relative_to(ARCH_ROOT)


def seed(key: str, root: Path, prebuilt: Path | None = None) -> bool:
    """Copy the shipped kernels of source ``key`` into the cache ``root`` when the cache has
    no folder for it; True when it copied.  The copy goes to a private name first and is
    renamed into place, so a process racing this one finds either nothing or all of it;
    an unwritable cache is left alone (the kernels then compile, as without a wheel's)."""
    src, dest = (prebuilt or PREBUILT) / key, root / key
    if os.environ.get("ACCEL_NO_PREBUILT") or not src.is_dir() or dest.exists():
        return False
    tmp = root / f".{key}.{os.getpid()}.seeding"
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, tmp)
        os.rename(tmp, dest)      # a folder another process made meanwhile: it stays
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def is_compiled(py_file: str | os.PathLike) -> bool:
    """True when at least one ``@njit(cache=True)`` kernel defined in ``py_file`` has a
    compiled entry for the module's current sources, i.e. importing and running it loads
    instead of compiling.  Numba names a kernel's index ``<module stem>.<function>-<line>
    .py<version>.nbi``; a module without kernels has none, so no source scan is needed."""
    path = Path(py_file).resolve()
    try:
        folder = cache_dir(path)
    except (ValueError, OSError):   # not a module under accel/arch: no accel kernel cache
        return False
    return any(folder.glob(f"{path.stem}.*.nbi"))


def package_compiled(folder: str | os.PathLike) -> bool:
    """True when any module of the package ``folder`` (e.g. a machine's) has a compiled
    kernel for its current sources (a run compiles the kernels it needs, not all)."""
    return any(is_compiled(py) for py in sorted(Path(folder).glob("*.py")))


# --- the one place that uses Numba internals ---------------------------------------------
# Numba has no public hook for choosing where a cached kernel lives and when it is stale
# (NUMBA_CACHE_DIR moves the cache but keeps the caller-timestamp check that numba#6845
# describes).  accel therefore subclasses ``numba.core.caching._CacheLocator`` and puts it
# first in ``CacheImpl._locator_classes``, both private.  pyproject.toml bounds numba to
# the versions this was checked with (TESTED_NUMBA); outside them, or when those names
# are gone, nothing is installed: Numba's own locator is pointed (through its public
# NUMBA_CACHE_DIR setting) at ``<root>/unkeyed``, so still nothing is written into the
# package, and a warning says that an edit may now be served stale.
TESTED_NUMBA = ((0, 60), (0, 69))   # [low, high) as in pyproject.toml's numba bound


def _numba_version() -> tuple[int, int]:
    import re

    found = re.match(r"(\d+)\.(\d+)", numba.__version__)
    return (int(found[1]), int(found[2])) if found else (0, 0)


@functools.cache
def _locator_class():
    from numba.core import caching

    class AccelCacheLocator(caching._CacheLocator):
        """Numba cache locator for kernels under ``accel/arch`` (see the module docstring)."""

        def __init__(self, py_func, py_file):
            # Numba's CacheImpl reads both when a result cannot be cached (lifted loops,
            # dynamic globals: NUMBA_OPT=0 makes some), to place its warning at the
            # kernel; without _py_file that warning was an AttributeError traceback
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            path = Path(py_file).resolve()
            self._key = source_key(str(path))
            self._cache_path = str(cache_dir(path))

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            # The folder is already keyed by the whole tree's hash; the stamp repeats it so
            # an index copied between folders is still rejected.
            return self._key

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

    return AccelCacheLocator, caching.CacheImpl._locator_classes


def install() -> bool:
    """Put accel's locator first (idempotent); False when this Numba is not one it was
    checked with (the kernels then use Numba's own cache under ``<root>/unkeyed``)."""
    low, high = TESTED_NUMBA
    if not low <= _numba_version() < high:
        return _fallback(f"numba {numba.__version__} is outside the versions accel's kernel "
                         f"cache was checked with ({'.'.join(map(str, low))} to "
                         f"<{'.'.join(map(str, high))})")
    try:
        cls, classes = _locator_class()
    except (ImportError, AttributeError) as exc:
        return _fallback(f"numba {numba.__version__} lacks the cache locator interface ({exc})")
    if cls not in classes:
        classes.insert(0, cls)
    return True


def _fallback(why: str) -> bool:
    import warnings

    if not os.environ.get("NUMBA_CACHE_DIR"):   # the user's own choice wins
        numba.config.CACHE_DIR = str(cache_root() / "unkeyed")
    warnings.warn(f"{why}: compiled kernels use Numba's own cache, which does not notice an "
                  "edit to a module a kernel calls (`accel cache clear --only numba` after "
                  "editing)", RuntimeWarning, stacklevel=3)
    return False


INSTALLED = install()
