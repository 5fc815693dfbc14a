"""A synthetic sweep store shaped like the demo's defects: three objectives (one missing for
some designs), a boolean parameter, a category parameter, N:M patterns, an outlier and
two failures with the same reason.  Metrics are arithmetic on the parameters, so every
expectation below can be recomputed by hand."""

from __future__ import annotations

import itertools

from accel.sweep.store import Store

PARAMS = {"pe_rows": [16, 32, 64], "prune": ["dense", "bdwp:2:4", "bdwp:2:8"],
          "dram_gbps_per_channel": [9.6, 38.4], "pipelined_tiles": [False, True],
          "preset": ["u280", "vhk158"]}
KEEP = {"dense": 1.0, "bdwp:2:4": 0.5, "bdwp:2:8": 0.25}


def _metrics(p: dict) -> dict:
    work = 1e7 * (0.4 + 0.6 * KEEP[p["prune"]])
    cycles = work / p["pe_rows"] * (0.8 if p["pipelined_tiles"] else 1.0) * (38.4 / p["dram_gbps_per_channel"]) ** 0.3
    if p["preset"] == "vhk158":
        cycles *= 0.7
    m = {"cycles": cycles, "dense_cycles": 1e7 / p["pe_rows"], "speedup_vs_dense": (1e7 / p["pe_rows"]) / cycles,
         "dram_bytes": 3e8 * (1 + KEEP[p["prune"]]) + 1e6 * p["pe_rows"],
         "tokens_per_j": 1e9 / cycles, "energy_j": cycles / 1e6}
    if p["pe_rows"] != 64:  # the resource model covers 16 and 32 rows only
        m["hw_lut"] = 1000.0 * p["pe_rows"] ** 1.5 * (1.3 if p["pipelined_tiles"] else 1.0)
    if p["pe_rows"] == 16 and p["prune"] == "dense" and p["preset"] == "u280" and not p["pipelined_tiles"]:
        m["cycles"] *= 40  # an outlier
    return m


def make_store(path, *, objectives=None, name="synth") -> dict:
    objectives = objectives or [{"metric": "cycles", "goal": "min"}, {"metric": "hw_lut", "goal": "min"},
                                {"metric": "dram_bytes", "goal": "min"}]
    rows = []
    keys = list(PARAMS)
    for i, combo in enumerate(itertools.product(*PARAMS.values())):
        p = dict(zip(keys, combo, strict=True))
        failed = p["preset"] == "u280" and p["pe_rows"] == 64 and p["prune"] == "dense" \
            and p["dram_gbps_per_channel"] == 9.6
        rows.append({"key": f"k{i}", "spec": name, "point": i, "machine": "sat", "workload": "w",
                     "workload_id": "w0", "model_version": "t-1",
                     "status": "failed" if failed else "ok",
                     "error": "AccelError: weights (9.25 GiB) do not fit u280's 8 GiB HBM" if failed else None,
                     "params": p, "config": {}, "options": {},
                     "metrics": {} if failed else _metrics(p), "seconds": 0.01})
    with Store(path, fresh=True) as st:
        st.set_meta(f"spec:{name}", {"machine": "sat", "base": "b", "workloads": ["w"],
                                     "parameters": {k: list(v) for k, v in PARAMS.items()},
                                     "constraints": [], "objectives": objectives, "source": "synth.yaml"})
        st.write(rows)
        st.refresh_view()
    return {"rows": rows, "failed": sum(r["status"] == "failed" for r in rows)}


