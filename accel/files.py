"""Files in and out, the one way accel touches the file system for user paths.

Inputs: a path must name an existing *regular* file (a directory, FIFO or device is
refused by kind, not reported "not found"; a FIFO would block a read forever) of at
most ``max_bytes``.

Outputs: ``check_output_file``/``check_output_dir`` say *before any work* whether a
path can be written; the write itself is :func:`accel.atomic_write.atomic_write`
(temporary sibling, 0644, rename; only regular files are replaced).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from accel.errors import AccelError


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_input_file(path: str | os.PathLike, what: str = "file", max_bytes: int | None = None,
                     error: type[AccelError] = AccelError) -> Path:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except OSError as exc:
        raise error(f"cannot open {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{what} {path} is {_kind(st.st_mode)}, expected a regular file")
    if max_bytes is not None and st.st_size > max_bytes:
        raise error(f"{what} {path} is {st.st_size} bytes, more than the {max_bytes} allowed")
    if not os.access(p, os.R_OK):
        raise error(f"cannot read {what} {path}: permission denied")
    return p


def check_output_file(path: str | os.PathLike, what: str = "--out",
                      error: type[AccelError] = AccelError) -> Path:
    """Fail before any work if ``path`` could not be written atomically."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.name in ("", ".", ".."):
        raise error(f"{what} {path} is not a file name")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise error(f"{what} {path}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise error(f"{what} {path} is {_kind(st.st_mode)}; only regular files are replaced")
    if not parent.is_dir():
        raise error(f"{what} folder does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"{what} folder {parent} is not writable")
    return p


def check_output_dir(path: str | os.PathLike, what: str = "--out",
                     error: type[AccelError] = AccelError) -> Path:
    """A folder that exists and is writable, or whose nearest existing parent is."""
    p = Path(path)
    probe = p
    while not probe.exists():
        if probe.is_symlink():
            raise error(f"{what} {path}: dangling symbolic link {probe}")
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise error(f"{what} {path}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise error(f"{what} folder {probe} is not writable")
    return p
