"""The one atomic-write helper: write a temporary sibling, chmod 0644, rename.

Lives at the bottom layer (next to ``errors``/``configs``) so that workloads, models'
studies, the RTL emitters and the reports all share it.  A failed write leaves no new
file and never a damaged one; ``mkstemp`` creates files 0600, so the mode is set
explicitly: reports, Verilog and workload files are ordinary shareable outputs.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o644  # DESIGN.md "Files": modes 0644


def _only_regular(path: Path) -> None:
    """Replace only regular files: never a device, FIFO, socket or directory that
    happens to sit at an output path (os.replace would swap a FIFO or /dev node away)."""
    from accel.errors import AccelError

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise AccelError(f"{path} exists and is not a regular file; only regular files are replaced")


def atomic_write(path: str | os.PathLike, data: str | bytes | Callable[[str], None],
                 suffix: str = ".tmp") -> Path:
    """Replace ``path`` atomically with ``data``.

    ``data`` is text, bytes, or a callable that writes the temporary file it is given
    (e.g. ``lambda tmp: np.savez(tmp, ...)``; ``suffix`` then keeps the extension the
    writer expects).
    """
    path = Path(path)
    _only_regular(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w",
                           **({} if isinstance(data, bytes) else {"newline": ""})) as fh:
                fh.write(data)
        os.chmod(tmp, FILE_MODE)
        _only_regular(path)  # again: the target may have been swapped while we wrote
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
