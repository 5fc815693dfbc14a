"""The four demo sweeps (``accel demo``, model versions sat-3, flightllm-0.6, piuma-0.2,
systolic-1) as data: ``data/demo_stores.json`` holds every row's parameters and metrics,
so the report tests read the demo report's own figures and sentences without running the
sweeps (90 s).  Regenerate after a model change that moves the demo's numbers::

    accel demo --out /tmp/demo && python tests/report/demo_stores.py /tmp/demo/*.sqlite
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from accel.sweep.store import Store

DATA = Path(__file__).parent / "data" / "demo_stores.json"
FIELDS = ("key", "spec", "point", "machine", "workload", "workload_id", "model_version", "status",
          "error", "params", "metrics")


def make_demo_stores(folder: Path) -> list[Path]:
    """Write the demo stores into ``folder``; returns their paths."""
    paths = []
    for name, st in json.loads(DATA.read_text()).items():
        path = folder / f"{name}.sqlite"
        rows = [{**r, "config": {}, "options": {}, "seconds": 0.0} for r in st["rows"]]
        with Store(path, fresh=True) as s:
            for key, meta in st["meta"].items():
                s.set_meta(key, meta)
            s.write(rows)
            s.refresh_view()
        paths.append(path)
    return paths


def dump(stores: list[str]) -> None:
    out = {}
    for f in sorted(stores):
        c = sqlite3.connect(f)
        metas = {k: json.loads(v) for k, v in c.execute("SELECT key, value FROM meta") if k.startswith("spec:")}
        for m in metas.values():
            m["source"] = "workloads/sweeps/" + m["source"].rsplit("/", 1)[-1]
        rows = [dict(zip(FIELDS, r, strict=True)) for r in c.execute(
            f"SELECT {', '.join(FIELDS)} FROM results ORDER BY point")]
        for r in rows:
            r["params"], r["metrics"] = json.loads(r["params"]), json.loads(r["metrics"])
        out[Path(f).stem] = {"meta": metas, "rows": rows}
    DATA.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")


if __name__ == "__main__":
    dump(sys.argv[1:])
