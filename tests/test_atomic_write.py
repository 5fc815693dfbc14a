"""The one atomic-write helper: mode 0644, never a partial or damaged file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import accel
from accel.atomic_write import atomic_write


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.parametrize("data", ["text\n", b"\x00bytes", lambda tmp: Path(tmp).write_text("cb")])
def test_writes_0644_whatever_the_umask(tmp_path, data):
    old = os.umask(0o077)   # mkstemp's 0600 would survive a plain rename
    try:
        p = atomic_write(tmp_path / "out.txt", data)
    finally:
        os.umask(old)
    assert _mode(p) == 0o644
    assert p.read_bytes() in (b"text\n", b"\x00bytes", b"cb")
    assert [q.name for q in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text("old")

    def boom(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(p, boom)
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["out.txt"]


def test_no_other_copy_of_the_helper():
    root = Path(accel.__file__).parent
    copies = [str(f.relative_to(root)) for f in root.rglob("*.py")
              if f.name != "atomic_write.py" and "mkstemp(" in f.read_text()]
    assert copies == []
