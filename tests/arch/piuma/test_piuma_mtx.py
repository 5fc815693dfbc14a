"""`.mtx` workloads (SuiteSparse / SNAP Matrix Market files) on the PIUMA model: small
committed files in the layouts those collections use, and hostile ones refused cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import simulate
from accel.workloads.builtin import resolve

DATA = Path(__file__).parent / "data"
FILES = sorted(DATA.glob("*.mtx"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("algo", ["smash-v1", "smash-v3", "outer"])
def test_mtx_workload_matches_scipy(path, algo):
    w = resolve(str(path))
    a = w.ops[0].a.to_scipy()
    want = scipy.io.mmread(path).tocsr()   # symmetric files come back whole
    np.testing.assert_array_equal(a.toarray(), want.toarray())
    r = simulate(w, PRESETS["piuma"], algo)
    assert r.correct and r.cycles > 0
    np.testing.assert_allclose(r.C.toarray(), (want @ want).toarray(), rtol=1e-12)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "accel.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_cli_runs_a_mtx_file(tmp_path):
    p = _cli("sim", "piuma", "--workload", str(FILES[0]), "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["correct"] is True and d["checked_rows"] == 16


@pytest.mark.parametrize("size_line, body", [
    ("3 3 \u00b2", "1 1 1.0\n"),                       # a superscript digit (str.isdigit() says yes)
    ("3 3 2", "1 1 1.0\n\u0663 2 1.0\n"),              # an Arabic-Indic digit in an entry
    ("3 3 2", "1 1 1.0\n2 2 nan\n"),                   # not finite
])
def test_cli_refuses_non_ascii_numbers(tmp_path, size_line, body):
    f = tmp_path / "m.mtx"
    f.write_bytes(f"%%MatrixMarket matrix coordinate real general\n{size_line}\n{body}"
                  .encode())
    p = _cli("sim", "piuma", "--workload", str(f), cwd=tmp_path)
    assert p.returncode == 2
    assert p.stdout == "" and p.stderr.count("\n") == 1 and p.stderr.startswith("error: ")
