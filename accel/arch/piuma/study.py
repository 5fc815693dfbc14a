"""Studies behind the issue-5 acceptance: the rmat:12 algorithm table and skew vs uniform.

    python -m accel.arch.piuma.study [--scale 12] [--out reports/piuma]

Writes ``rmat<S>.md``/``.json`` (every algorithm on R-MAT A.A, speedups, traffic),
``skew_vs_uniform.md``/``.json`` (smash-v1 vs smash-v2 on R-MAT and on a uniform random
matrix with the same size and density) and ``ablations.md``/``.json`` (each modelling
choice of piuma-0.2 switched back, one at a time).  Every number is a model output of
this run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import SMASH, simulate_all
from accel.atomic_write import atomic_write
from accel.workloads.builtin import resolve
from accel.workloads.graphs import spgemm_workload, uniform_random

COLUMNS = ("cycles", "gflops", "dram_bytes_read", "dram_bytes_written", "partial_product_bytes",
           "accumulator_bytes", "hash_probes", "hash_collisions", "hash_spills",
           "load_imbalance", "pipeline_utilisation", "correct")


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.3g}"
    return f"{int(v):,}"


def algorithm_table(scale: int = 12, edge_factor: int = 16, config=None) -> dict:
    cfg = config or PRESETS["piuma"]
    w = resolve(f"rmat:{scale}:{edge_factor}")  # the graph `accel sim piuma` uses
    res = simulate_all(w, cfg)
    rows = {n: r.to_dict() for n, r in res.items()}
    best_smash = min(SMASH, key=lambda n: res[n].cycles)
    rivals = [n for n in res if n not in SMASH]
    best_rival = min(rivals, key=lambda n: res[n].cycles)
    return {"workload": w.name, "algorithms": rows, "best_smash": best_smash,
            "best_competitor": best_rival,
            "best_smash_speedup": res[best_rival].cycles / res[best_smash].cycles,
            "thesis_speedup": 9.4}


def uniform_twin(g, seed: int = 0):
    """A uniform random matrix with the size and density of ``g`` (the skew-free control)."""
    n = g.shape[0]
    return uniform_random(n, g.nnz / float(n * n), seed=seed)


def skew_vs_uniform(scale: int = 12, edge_factor: int = 16, config=None) -> dict:
    """v1 vs v2 on R-MAT and on uniform random of equal size/density, on the preset machine
    and on the same machine without its single-threaded pipelines (which are 16x faster per
    thread, so static distribution also loses to tokens on *uniform* work there)."""
    base = config or PRESETS["piuma"]
    g = resolve(f"rmat:{scale}:{edge_factor}").ops[0].a
    n = g.shape[0]
    u = uniform_twin(g)
    out = {}
    mt_only = dataclasses.replace(base, st_pipelines=0)
    for label, m, cfg in (("rmat", g, base), ("uniform", u, base),
                          ("rmat, MT pipelines only", g, mt_only),
                          ("uniform, MT pipelines only", u, mt_only)):
        res = simulate_all(spgemm_workload(m, name=label), cfg, ("smash-v1", "smash-v2"))
        v1, v2 = res["smash-v1"], res["smash-v2"]
        out[label] = {"n": n, "nnz": m.nnz, "v1_cycles": v1.cycles, "v2_cycles": v2.cycles,
                      "v2_speedup_over_v1": v1.cycles / v2.cycles,
                      "v1_load_imbalance": v1.load_imbalance,
                      "v2_load_imbalance": v2.load_imbalance,
                      "correct": v1.correct and v2.correct}
    return out


ABLATIONS = (  # label, config changes, algorithms to run
    ("preset", {}, ("smash-v1", "smash-v2", "smash-v3", "gustavson-dense")),
    ("whole rows as tokens (token_pps=0)", {"token_pps": 0}, ("smash-v2", "smash-v3")),
    ("sorted C rows (sorted_output)", {"sorted_output": True}, ("smash-v1", "smash-v2", "smash-v3")),
    ("long runs hold the pipeline (step_slots=1e6)", {"step_slots": 1_000_000},
     ("smash-v1", "smash-v2", "smash-v3")),
    ("cached dense accumulator", {"dense_acc_cached": True}, ("gustavson-dense",)),
)


def ablations(scale: int = 12, edge_factor: int = 16, config=None) -> dict:
    """Cycles with each piuma-0.2 modelling choice switched back, one at a time."""
    base = config or PRESETS["piuma"]
    w = resolve(f"rmat:{scale}:{edge_factor}")
    out = {}
    for label, changes, algos in ABLATIONS:
        cfg = dataclasses.replace(base, **changes)
        res = simulate_all(w, cfg, algos)
        out[label] = {a: {"cycles": r.cycles, "dram_bytes_read": r.dram_bytes_read,
                          "load_imbalance": r.load_imbalance, "correct": r.correct}
                      for a, r in res.items()}
    return out


def _ablations_md(d: dict, workload: str) -> str:
    algos = sorted({a for row in d.values() for a in row})
    lines = [f"# PIUMA modelling choices, {workload}: cycles with one choice switched back", "",
             "| variant | " + " | ".join(algos) + " |", "|---|" + "---:|" * len(algos)]
    for label, row in d.items():
        cells = [f"{row[a]['cycles']:,}" if a in row else "" for a in algos]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table_md(d: dict) -> str:
    lines = [f"# PIUMA SpGEMM, {d['workload']} (A.A), model {next(iter(d['algorithms'].values()))['model_version']}",
             "", "| algorithm | " + " | ".join(COLUMNS) + " |",
             "|---|" + "---:|" * len(COLUMNS)]
    for name, r in d["algorithms"].items():
        lines.append(f"| {name} | " + " | ".join(_fmt(r[c]) for c in COLUMNS) + " |")
    lines += ["", f"Best SMASH: **{d['best_smash']}**; best competitor: **{d['best_competitor']}**; "
              f"speedup **{d['best_smash_speedup']:.2f}x** (thesis: {d['thesis_speedup']}x)."]
    return "\n".join(lines) + "\n"


def _skew_md(d: dict) -> str:
    lines = ["# smash-v2 (tokens) vs smash-v1 (static windows): skewed vs uniform", "",
             "| matrix | n | nnz | v1 cycles | v2 cycles | v2 speedup | v1 imbalance | v2 imbalance | correct |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for k, r in d.items():
        lines.append(f"| {k} | {r['n']:,} | {r['nnz']:,} | {r['v1_cycles']:,} | {r['v2_cycles']:,} | "
                     f"{r['v2_speedup_over_v1']:.2f}x | {r['v1_load_imbalance']:.2f} | "
                     f"{r['v2_load_imbalance']:.2f} | {str(r['correct']).lower()} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=12)
    ap.add_argument("--out", default="reports/piuma")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t = algorithm_table(args.scale)
    atomic_write(out / f"rmat{args.scale}.json", json.dumps(t, indent=1))
    atomic_write(out / f"rmat{args.scale}.md", _table_md(t))
    print(_table_md(t))
    s = skew_vs_uniform(args.scale)
    atomic_write(out / "skew_vs_uniform.json", json.dumps(s, indent=1))
    atomic_write(out / "skew_vs_uniform.md", _skew_md(s))
    print(_skew_md(s))
    a = ablations(args.scale)
    atomic_write(out / "ablations.json", json.dumps(a, indent=1))
    atomic_write(out / "ablations.md", _ablations_md(a, t["workload"]))
    print(_ablations_md(a, t["workload"]))


if __name__ == "__main__":
    main()
