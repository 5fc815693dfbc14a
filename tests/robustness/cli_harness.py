"""Run the CLI in-process and check the hostile-input promise (used by conftest and tests)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
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


# The command runs under a small launcher process, and its peak RSS is the launcher's
# RUSAGE_CHILDREN.  Measuring a direct child of pytest would not do: Linux carries the
# high-water RSS of the address space a process exec()s *from* into its ru_maxrss, and a
# child forked (or vforked) from pytest starts from pytest's own, possibly large, memory.
_LAUNCH = """
import json, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print(json.dumps([p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  p.stderr]))
"""


def peak_rss_kb(argv: list[str], cwd) -> tuple[int, int, str, float]:
    """(exit code, peak RSS in kB, stderr, seconds) of ``accel argv`` in a fresh process."""
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _LAUNCH, sys.executable, "-m", "accel.cli", *argv],
                         cwd=cwd, capture_output=True, text=True, check=True).stdout
    rc, kb, err = json.loads(out.strip().splitlines()[-1])
    return rc, kb, err, time.monotonic() - t0
