"""accel's systolic model vs SCALE-Sim 3.0.0 itself: speed on the same layers, same cycles.

Not a test.  Optional: it needs SCALE-Sim in a venv of its own (NumPy >= 2.4 crashes it)::

    /usr/bin/python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2.4"
    python benchmarks/bench_systolic_vs_scalesim.py          # [--quick: the q layer only]

``ACCEL_SCALESIM_PYTHON`` names that venv's interpreter (default
/tmp/scalesim-venv/bin/python); without it the benchmark says so and exits 0.

The layers are those of tests/arch/systolic/reference/scalesim-v3-cycles.csv (MiniLM q,
ffn1, ffn2; dense and 2:4; 32x32; ws and os).  Per dataflow SCALE-Sim runs once on a
topology holding all of them (timed inside its interpreter, around its ``run_scale``,
by the driver tests/arch/systolic/reference/make_scalesim_reference.py); accel's
``simulate`` runs on the same workload after a JIT warm-up, repeated for a second.  The
cycles of every layer must agree; the ratio of wall times is printed.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from accel.arch.systolic.config import SystolicConfig
from accel.arch.systolic.model import simulate
from accel.workloads.formats import NM, Dense
from accel.workloads.ops import Gemm, Workload

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "tests" / "arch" / "systolic" / "reference"
ENV = "ACCEL_SCALESIM_PYTHON"
DEFAULT_PY = "/tmp/scalesim-venv/bin/python"

DRIVER = """
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from make_scalesim_reference import run_one
spec = json.loads(sys.argv[2])
layers = [((l[0], l[1], l[2], l[3]), l[4]) for l in spec["layers"]]
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    rows = run_one(spec["rows"], spec["cols"], spec["df"], True, layers, Path(tmp) / "run")
    wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "cycles": [r["total_cycles"] for r in rows]}))
"""


def _layers(quick: bool) -> list[tuple[str, int, int, int, str]]:
    with open(REF / "scalesim-v3-cycles.csv") as f:
        rows = list(csv.DictReader(f))
    seen = []
    for r in rows:
        key = (r["layer"], int(r["M"]), int(r["N"]), int(r["K"]),
               "1:1" if r["sparsity"] == "dense" else r["sparsity"])
        if key not in seen and (not quick or r["layer"] == "q"):
            seen.append(key)
    return seen


def _workload(layers) -> Workload:
    ops = []
    for name, m, n, k, sp in layers:
        nn, mm = map(int, sp.split(":"))
        b = Dense((k, n)) if nn == mm else NM((k, n), nn, mm, axis=0)
        ops.append(Gemm(f"{name}_{sp.replace(':', 'of')}", "infer", m, k, n, b))
    return Workload("scalesim-minilm", ops)


def main(argv: list[str]) -> int:
    py = os.environ.get(ENV, DEFAULT_PY)
    if not Path(py).is_file():
        print(f"skipped: no SCALE-Sim interpreter at {py} (set {ENV}; see this file's docstring)")
        return 0
    layers = _layers("--quick" in argv)
    w = _workload(layers)
    total_ss = total_accel = 0.0
    for df in ("ws", "os"):
        cfg = SystolicConfig(array_rows=32, array_cols=32, dataflow=df)
        spec = {"rows": 32, "cols": 32, "df": df, "layers": [list(x) for x in layers]}
        proc = subprocess.run([py, "-c", DRIVER, str(REF), json.dumps(spec)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"error: SCALE-Sim run failed: {proc.stderr.strip().splitlines()[-1:]}")
            return 1
        ss = json.loads(proc.stdout.strip().splitlines()[-1])
        simulate(w, cfg)                                  # JIT warm-up / cache load
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < 1.0:
            res = simulate(w, cfg)
            reps += 1
        accel_wall = (time.perf_counter() - t) / reps
        ours = [op["cycles"] for op in res.per_op]
        same = ours == ss["cycles"]
        total_ss += ss["wall"]
        total_accel += accel_wall
        print(f"{df}: {len(layers)} layers, cycles {'identical' if same else 'DIFFER'} "
              f"({sum(ours)} total); SCALE-Sim {ss['wall']:.2f} s, accel {accel_wall * 1e3:.3f} ms, "
              f"ratio {ss['wall'] / accel_wall:,.0f}x")
        if not same:
            print(f"  SCALE-Sim {ss['cycles']}\n  accel     {ours}")
            return 1
    print(f"all: SCALE-Sim {total_ss:.2f} s, accel {total_accel * 1e3:.3f} ms, "
          f"accel is {total_ss / total_accel:,.0f}x faster on the same layers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
