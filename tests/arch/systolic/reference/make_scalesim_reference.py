"""Regenerate ``scalesim-v3-generated.csv``: cycles SCALE-Sim 3.0.0 reports for GEMM layers.

This script drives SCALE-Sim; it is not part of SCALE-Sim and none of its code is copied
here.  It needs SCALE-Sim in a venv of its own (NumPy >= 2.4 crashes it)::

    /usr/bin/python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2.4"
    /tmp/scalesim-venv/bin/python tests/arch/systolic/reference/make_scalesim_reference.py

For every (array rows, array cols, dataflow, sparsity support) below it writes a
``scale.cfg`` (the one of ``scalesim-example/`` with those fields changed: 64 KB SRAMs,
CALC interface bandwidth, ellpack_block, OptimizedMapping false), a GEMM topology
(``Layer, M, N, K, Sparsity,``) and a layout file, runs SCALE-Sim's own ``scalesim``
class in GEMM mode, and copies one row per layer of its ``COMPUTE_REPORT.csv`` (Total
Cycles, Mapping Efficiency %, Compute Util %) into the CSV next to this file.
``CONV_RUNS`` do the same for convolution topologies (SCALE-Sim's conv input form) into
``scalesim-v3-conv.csv``, one row per layer SCALE-Sim reports (a depthwise ``DP`` layer is
reported once per channel).  ``--only gemm|conv`` regenerates one file.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from scalesim.scale_sim import scalesim

HERE = Path(__file__).parent
OUT = HERE / "scalesim-v3-generated.csv"
OUT_CONV = HERE / "scalesim-v3-conv.csv"

MINILM = [("q", 128, 384, 384), ("ffn1", 128, 1536, 384), ("ffn2", 128, 384, 1536)]
# Odd shapes: nothing divides the array, K not a multiple of M, K*n/m below one array side.
ODD = [("odd", 37, 53, 101), ("tall", 70, 9, 13), ("wide", 5, 61, 29), ("vec", 1, 23, 47),
       ("one", 1, 1, 1)]
SPARSITIES = ["1:1", "2:4", "1:4", "3:4", "2:8"]

# (rows, cols, dataflow, sparsity support, layers x sparsities)
RUNS = [
    (32, 32, "is", True, [(layer, s) for layer in MINILM for s in ("1:1", "2:4")]),
    *[(32, 32, df, True, [(layer, s) for layer in ODD[:2] for s in SPARSITIES])
      for df in ("ws", "os", "is")],
    *[(r, c, df, True, [(layer, s) for layer in ODD for s in SPARSITIES])
      for (r, c) in ((8, 8), (16, 4), (4, 16)) for df in ("ws", "os", "is")],
    # SparsitySupport false: SCALE-Sim ignores the topology's N:M and runs dense
    (8, 8, "ws", False, [(ODD[0], "2:4")]),
]

# Convolution topologies (SCALE-Sim's conv input form), one run per dataflow on 8x8.
# Fields: Layer name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride[, Sparsity]
CONV_LAYERS = ["Conv1, 16, 16, 3, 3, 3, 8, 1,", "Conv2, 15, 15, 3, 3, 4, 6, 2, 2:4,",
               "Conv3, 9, 7, 2, 3, 5, 3, 1, 1:4,", "CB_DP, 10, 10, 3, 3, 4, 1, 1,"]
CONV_RUNS = [(8, 8, df) for df in ("ws", "os", "is")]

CFG = """[general]
run_name = run

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:    64
FilterSramSzkB:   64
OfmapSramSzkB:    64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {df}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : {sparse}
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 4
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
                 "Filter Height Intraline Factor, Filter Width Intraline Factor, Channel Intraline "
                 "Factor, Num Filter Intraline Factor, IFMAP Height Intraline Order, IFMAP Width "
                 "Intraline Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP "
                 "Width Interline Order, Channel Interline Order, Num Filter Intraline Order, "
                 "Channel Intraline Order, Filter Height Intraline Order, Filter Width Intraline "
                 "Order, Num Filter Interline Order, Channel Interline Order, Filter Height "
                 "Interline Order, Filter Width Interline Order,\n")
LAYOUT_ROW = ", 1, 1, 1, 1, 1, 1, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7,\n"


def run_one(rows, cols, df, sparse, layers, work: Path) -> list[dict]:
    work.mkdir(parents=True)
    names = [f"{name}_{s.replace(':', 'of')}" for (name, *_), s in layers]
    (work / "scale.cfg").write_text(CFG.format(rows=rows, cols=cols, df=df,
                                               sparse="true" if sparse else "false"))
    with open(work / "topology.csv", "w") as f:
        f.write("Layer, M, N, K, Sparsity,\n")
        for nm, ((_, m, n, k), s) in zip(names, layers, strict=True):
            f.write(f"{nm}, {m}, {n}, {k}, {s},\n")
    with open(work / "layout.csv", "w") as f:
        f.write(LAYOUT_HEADER)
        for nm in names:
            f.write(nm + LAYOUT_ROW)
    sim = scalesim(save_disk_space=True, verbose=False, config=str(work / "scale.cfg"),
                   topology=str(work / "topology.csv"), layout=str(work / "layout.csv"),
                   input_type_gemm=True)
    sim.run_scale(top_path=str(work / "out"))
    with open(work / "out" / "run" / "COMPUTE_REPORT.csv") as f:
        report = [[c.strip() for c in line.split(",")] for line in f.read().splitlines()[1:]]
    out = []
    for nm, ((layer, m, n, k), s), rep in zip(names, layers, report, strict=True):
        out.append({"layer": layer, "M": m, "N": n, "K": k,
                    "sparsity": "dense" if s == "1:1" else s, "array_rows": rows,
                    "array_cols": cols, "dataflow": df,
                    "sparsity_support": "true" if sparse else "false",
                    "total_cycles": int(rep[2]), "mapping_efficiency_pct": float(rep[5]),
                    "compute_util_pct": float(rep[6])})
        print(nm, rows, cols, df, out[-1]["total_cycles"], file=sys.stderr)
    return out


def run_conv(rows, cols, df, work: Path) -> list[dict]:
    """One SCALE-Sim run in convolution mode; one output row per reported layer."""
    work.mkdir(parents=True)
    (work / "scale.cfg").write_text(CFG.format(rows=rows, cols=cols, df=df, sparse="true"))
    (work / "topology.csv").write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides, Sparsity,\n" + "\n".join(CONV_LAYERS) + "\n")
    (work / "layout.csv").write_text(
        LAYOUT_HEADER + "".join(line.split(",")[0] + LAYOUT_ROW for line in CONV_LAYERS))
    sim = scalesim(save_disk_space=True, verbose=False, config=str(work / "scale.cfg"),
                   topology=str(work / "topology.csv"), layout=str(work / "layout.csv"),
                   input_type_gemm=False)
    sim.run_scale(top_path=str(work / "out"))
    with open(work / "out" / "run" / "COMPUTE_REPORT.csv") as f:
        report = [[c.strip() for c in line.split(",")] for line in f.read().splitlines()[1:]]
    names = sim.topo.get_layer_names()
    return [{"topology_row": next(x for x in CONV_LAYERS if nm.startswith(x.split(",")[0])),
             "reported_layer": nm, "array_rows": rows, "array_cols": cols, "dataflow": df,
             "total_cycles": int(rep[2]), "mapping_efficiency_pct": float(rep[5])}
            for nm, rep in zip(names, report, strict=True)]


def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}", file=sys.stderr)


def main(argv: list[str]) -> None:
    """``--only gemm`` / ``--only conv`` regenerate one of the two files."""
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    with tempfile.TemporaryDirectory() as tmp:
        if only in (None, "gemm"):
            rows_out = []
            for i, (r, c, df, sparse, layers) in enumerate(RUNS):
                rows_out += run_one(r, c, df, sparse, layers, Path(tmp) / f"run{i}")
            _write(OUT, rows_out)
        if only in (None, "conv"):
            conv = []
            for i, (r, c, df) in enumerate(CONV_RUNS):
                conv += run_conv(r, c, df, Path(tmp) / f"conv{i}")
            _write(OUT_CONV, conv)


if __name__ == "__main__":
    main(sys.argv[1:])
