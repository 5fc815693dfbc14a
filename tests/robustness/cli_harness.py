"""Run the CLI in-process and check the hostile-input promise (used by conftest and tests)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from accel.cli import main


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``folder``: bytes (None for non-regular files) and mode."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            st = p.lstat()
            data = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[str(p.relative_to(folder))] = (data, st.st_mode)
    return out


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in argv])
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


def assert_refused(rc: int, out: str, err: str, before: dict, after: dict, argv) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert rc == 2, (argv, rc, err)
    assert len(lines) == 1 and lines[0].startswith("error:"), (argv, err)
    new = sorted(set(after) - set(before))
    assert not new, (argv, "new files", new)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, (argv, "changed", changed)
    return lines[0]
