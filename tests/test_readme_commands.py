"""The README runs as written: every command of its fenced ``bash`` blocks, in order, in a fresh
copy of the repository (the files git knows, nothing else: no reports/, no build output).

Each command is one line of a ``bash`` block (``\\`` continues it) and keeps its trailing
comment.  That comment decides the tier, and nothing is left out without being listed:

* ``# slow: ...`` -- a long run (a full sweep, a study): only the ``slow`` tier runs it;
* a command in ``NOT_RUN`` -- a Makefile target that (re)installs the project's virtual
  environment, which a test must not do to the environment it runs in, or a full-size
  hardware build that another test runs at a small size; its reason is there;
* every other command runs in the default tier and must exit 0.

The slow tier (``pytest -m slow``) runs every command but the ``NOT_RUN`` ones, in README
order.  ``accel`` and ``python`` are the interpreter running the tests, importing the copy
(``PYTHONPATH``); ``.venv`` in the copy is that interpreter's environment, so
``. .venv/bin/activate`` works as the README says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = {
    "make demo": "installs the project into .venv/ first (make install); `accel demo` is what it "
                 "then runs, and tests/sweep/test_sweep_demo.py runs that",
    "make test-all": "installs into .venv/ and runs this very suite (and the slow tier)",
    "make bench": "installs into .venv/ first; benchmarks/run.py is what it then runs",
    # accel design build writes and Verilates a whole 32x32 FP16 array: ~5 min of Verilog
    # and, on a clean cache, ~34 min of Verilator per configuration.  The same command is
    # run end to end on small designs (and rebuilt from its design.yaml) by
    # tests/hw/test_rtl_design_build.py; the full-size runs are measured by hand.
    "accel design build tour/demo --design 1 --out tour/design1 --cosim-array 8x8":
        "writes the 32x32 Verilog (~5 min); tests/hw/test_rtl_design_build.py runs the command",
    "accel design build --preset sat-vcu1525 --out tour/sat-preset":
        "a full-size 32x32 FP16 Verilator build (~34 min on a clean cache)",
    "accel design build tour/design1/design.yaml --out tour/design1-again --cosim-array 8x8 "
    "--no-synth": "needs tour/design1 (above, not run); the yaml rebuild is in "
                  "tests/hw/test_rtl_design_build.py",
}
COMMAND_TIMEOUT = 900  # s for one command of the default tier (a first Numba compile included)
SLOW_TIMEOUT = 3 * 3600


def readme_commands(text: str) -> list[tuple[str, str]]:
    """(command, trailing comment) for every command line of the README's ``bash`` blocks."""
    out = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1].rstrip() + " " + lines[i].strip()
            i += 1
            cmd, _, comment = _split_comment(line)
            if cmd.strip():
                out.append((cmd.strip(), comment.strip()))
    return out


def _split_comment(line: str) -> tuple[str, str, str]:
    """Split at the first ``#`` outside quotes that starts a word (bash's comment rule)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], "#", line[i + 1:]
    return line, "", ""


def is_slow(comment: str) -> bool:
    return comment.startswith("slow:") or comment == "slow"


COMMANDS = readme_commands(README.read_text())


def test_the_readme_has_commands_and_every_listed_exception_is_in_it():
    assert len(COMMANDS) >= 30
    cmds = [c for c, _ in COMMANDS]
    assert set(NOT_RUN) <= set(cmds), set(NOT_RUN) - set(cmds)
    # the comment syntax is what the parser reads: a '#' inside quotes is not a comment
    assert readme_commands('```bash\necho "a # b"  # slow: x\n```\n') == [('echo "a # b"', "slow: x")]
    assert readme_commands("```bash\naccel x \\\n   --y 1   # c\n```\n") == [("accel x --y 1", "c")]


def _fresh_copy(dest: Path) -> Path:
    """The repository as a fresh clone has it (git's files, tracked or new, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    (dest / ".venv").symlink_to(Path(sys.prefix))
    return dest


def _protected_cache_home(tmp: Path) -> Path:
    """An ``XDG_CACHE_HOME`` whose accel and YoWASP caches are symlinks to the user's: the
    README's commands find compiled kernels and builds warm, and its ``accel cache clear``
    (which leaves a symlinked cache alone) cannot delete what other runs share."""
    real = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = tmp / "xdg-cache"
    for tool in ("accel", "YoWASP"):
        (home / tool).mkdir(parents=True)
        if (real / tool).is_dir():
            for child in (real / tool).iterdir():
                if child.name != "workloads":  # the run builds its own (ACCEL_CACHE_DIR)
                    (home / tool / child.name).symlink_to(child)
    return home


def _run_all(tmp_path: Path, commands: list[tuple[str, str]], timeout: float) -> list[str]:
    import time

    copy = _fresh_copy(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(copy), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONDONTWRITEBYTECODE": "1", "XDG_CACHE_HOME": str(_protected_cache_home(tmp_path)),
           "ACCEL_CACHE_DIR": str(tmp_path / "workload-cache")}
    for var in ("VIRTUAL_ENV", "ACCEL_NUMBA_CACHE_DIR", "YOWASP_CACHE_DIR"):
        env.pop(var, None)
    failed = []
    for cmd, _comment in commands:
        t0 = time.monotonic()
        run_env = env
        if cmd.startswith("accel cache clear"):
            # The shared caches are symlinked in (accel never deletes through a link, and says
            # so with exit 1); the clearing command gets a scratch cache of its own to empty.
            scratch = tmp_path / "scratch-cache"
            (scratch / "accel" / "numba").mkdir(parents=True, exist_ok=True)
            (scratch / "accel" / "numba" / "kernel.nbi").write_bytes(b"x" * 100)
            run_env = {**env, "XDG_CACHE_HOME": str(scratch),
                       "ACCEL_CACHE_DIR": str(scratch / "accel" / "workloads")}
        try:
            p = subprocess.run(["bash", "-c", cmd], cwd=copy, env=run_env, capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            failed.append(f"{cmd}\n  -> still running after {timeout:.0f} s")
            continue
        print(f"{time.monotonic() - t0:7.1f} s  exit {p.returncode}  {cmd}")  # shown with -s
        if p.returncode != 0:
            tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
            failed.append(f"{cmd}\n  -> exit {p.returncode}: " + "\n     ".join(tail))
    return failed


def test_readme_commands_run_as_written(tmp_path):
    """Every default-tier command, in README order (later ones use earlier ones' files)."""
    todo = [(c, m) for c, m in COMMANDS if c not in NOT_RUN and not is_slow(m)]
    failed = _run_all(tmp_path, todo, COMMAND_TIMEOUT)
    assert not failed, f"{len(failed)} of {len(todo)} README commands failed:\n" + "\n".join(failed)


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path):
    """The slow tier: the ``# slow:`` commands too (full sweeps, studies), all in order."""
    todo = [(c, m) for c, m in COMMANDS if c not in NOT_RUN]
    failed = _run_all(tmp_path, todo, SLOW_TIMEOUT)
    assert not failed, f"{len(failed)} of {len(todo)} README commands failed:\n" + "\n".join(failed)
