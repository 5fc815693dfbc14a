"""Search quality: how much of the full grid's Pareto hypervolume an NSGA-II search
reaches, with what fraction of the grid's evaluations.

Not a test.  Run::

    python benchmarks/bench_search.py [SPEC.yaml] [--grid GRID.sqlite] [--fraction 0.15]
        [--seeds 0 1 2] [--workers 2] [--population P]

Default spec: ``workloads/sweeps/sat-minilm.yaml``.  Without ``--grid`` the full grid is
swept first (into a temporary store).  Each seed runs the same spec with
``search: {strategy: nsga2, budget: fraction x grid rows, seed}`` into its own fresh
store.  Hypervolumes are over the spec's objectives, normalised by the grid's range
(0 best, 1 worst; reference point 1.1), so the ratio search / grid is comparable.
A uniform random draw of as many grid points is printed beside it as the baseline.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def costs(db: Path, objectives) -> np.ndarray:
    from accel.sweep import open_frame

    df = open_frame(db)
    df = df[df["status"] == "ok"]
    cols = [f"metric.{o.metric}" for o in objectives]
    sign = np.array([1.0 if o.goal == "min" else -1.0 for o in objectives])
    out = df[cols].to_numpy(dtype=np.float64) * sign
    if "metric.feasible" in df.columns:   # a design that does not fit (fit:) joins no front:
        out[df["metric.feasible"].fillna(1.0).to_numpy(float) == 0] = np.inf  # hypervolume skips it
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default=str(ROOT / "workloads/sweeps/sat-minilm.yaml"))
    ap.add_argument("--grid", type=Path, help="a store holding the spec's full grid")
    ap.add_argument("--fraction", type=float, default=0.15)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--population", type=int, default=0)
    args = ap.parse_args(argv)

    from accel.safe_yaml import loads
    from accel.sweep import parse_spec, run_sweep
    from accel.sweep.pareto import hypervolume

    raw = loads(Path(args.spec).read_text())
    grid_spec = parse_spec(raw, source=args.spec, name=Path(args.spec).stem)
    with tempfile.TemporaryDirectory() as tmp:
        grid_db = args.grid
        if grid_db is None:
            grid_db = Path(tmp) / "grid.sqlite"
            run_sweep(grid_spec, grid_db, workers=args.workers)
        g = costs(grid_db, grid_spec.objectives)
        fin = g[np.all(np.isfinite(g), axis=1)]
        lo, hi = fin.min(axis=0), fin.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        ref = np.full(g.shape[1], 1.1)
        hv_grid = hypervolume((g - lo) / span, ref)
        budget = int(math.floor(args.fraction * len(g)))
        print(f"{grid_spec.name}: grid {len(g)} rows, Pareto hypervolume {hv_grid:.5f} "
              f"(normalised, reference {ref[0]}); search budget {budget} "
              f"({100 * budget / len(g):.1f} % of the grid)")
        ratios = []
        for seed in args.seeds:
            s_raw = copy.deepcopy(raw)
            s_raw["search"] = {"strategy": "nsga2", "budget": budget, "seed": seed,
                               **({"population": args.population} if args.population else {})}
            spec = parse_spec(s_raw, source=args.spec, name=f"{grid_spec.name}-search")
            db = Path(tmp) / f"search-{seed}.sqlite"
            t0 = time.perf_counter()
            s = run_sweep(spec, db, workers=args.workers)
            wall = time.perf_counter() - t0
            c = costs(db, spec.objectives)
            hv = hypervolume((c - lo) / span, ref)
            ratios.append(hv / hv_grid)
            # the baseline a search must beat: as many grid points drawn at random
            pick = np.random.default_rng(seed).choice(len(g), size=min(budget, len(g)), replace=False)
            hv_rand = hypervolume(((g - lo) / span)[pick], ref)
            print(f"  seed {seed}: {s.computed} evaluations ({100 * s.computed / len(g):.1f} % of "
                  f"the grid), {s.points} proposals, hypervolume {hv:.5f} = "
                  f"{100 * hv / hv_grid:.2f} % of the grid's (a random {budget} of the grid: "
                  f"{100 * hv_rand / hv_grid:.2f} %), {wall:.1f} s")
        print(f"  min over seeds {100 * min(ratios):.2f} %, mean {100 * np.mean(ratios):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
