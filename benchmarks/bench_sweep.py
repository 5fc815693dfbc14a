"""Sweep throughput: design points per second of a whole sweep, and rows equal to a
reference store.

Not a test.  Run::

    python benchmarks/bench_sweep.py [SPEC.yaml] [--workers 2] [--compare REF.sqlite] [--keep DB]

Default spec: ``workloads/sweeps/sat-minilm.yaml``.  The sweep runs into a fresh
temporary store with the given local workers; the rate printed is ``accel sweep``'s own
(rows evaluated per second after the first, kernel-loading point) and the end-to-end
rate (every row over the whole run's wall time, workload resolution included).
``--compare`` checks that every row key of the reference store (e.g. one written by an
older accel) is present with the same status and exactly the same metrics.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rows(db: Path) -> dict[str, tuple[str, dict]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {k: (s, json.loads(m)) for k, s, m in
                conn.execute("SELECT key, status, metrics FROM results")}
    finally:
        conn.close()


def compare(ours: Path, ref: Path) -> int:
    a, b = rows(ours), rows(ref)
    missing = sorted(set(b) - set(a))
    extra = sorted(set(a) - set(b))
    differ = [k for k in set(a) & set(b) if a[k] != b[k]]
    print(f"compare with {ref}: {len(b)} reference rows, {len(a)} rows; missing {len(missing)}, "
          f"extra {len(extra)}, metrics differ {len(differ)}")
    for k in differ[:3]:
        da, db_ = a[k][1], b[k][1]
        bad = {m: (da.get(m), db_.get(m)) for m in set(da) | set(db_) if da.get(m) != db_.get(m)}
        print(f"  {k}: {dict(list(bad.items())[:4])}")
    return 0 if not (missing or extra or differ) else 1


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default=str(ROOT / "workloads/sweeps/sat-minilm.yaml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--keep", type=Path, help="write the store here instead of a temp file")
    args = ap.parse_args(argv)

    from accel.sweep import load_spec, run_sweep

    spec = load_spec(args.spec)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep or Path(tmp) / "bench.sqlite"
        t0 = time.perf_counter()
        s = run_sweep(spec, db, workers=args.workers, fresh=True)
        wall = time.perf_counter() - t0
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_self, cpu_kids = me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime
        print(f"{spec.name}: {s.computed} rows on {s.workers} {s.executor} workers: "
              f"{s.rate:.1f} design points/s after the first point "
              f"({s.seconds:.1f} s); end to end {s.computed / wall:.1f} points/s ({wall:.1f} s, "
              f"first point {s.warmup_seconds:.1f} s)")
        print(f"CPU: coordinator {cpu_self:.1f} s, workers {cpu_kids:.1f} s: "
              f"{1e3 * (cpu_self + cpu_kids) / max(1, s.computed):.1f} ms per point in all")
        return compare(db, args.compare) if args.compare else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
