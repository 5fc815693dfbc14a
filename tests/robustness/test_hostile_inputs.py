"""Hostile input for every command: exit 2, one ``error:`` line, nothing written or changed.

Each case is (id, argv, files): the files are created in an empty folder (strings and
bytes as content, callables as makers from ``hostile_files``), names in ``COPY`` are
copied from the session's valid assets (good.npz, good.yaml, good.sqlite).  The classes
of the issue (#11) are all here: NaN/inf/huge numbers, unbounded work, YAML bombs,
deep nesting, non-UTF-8, duplicate keys, spec expansion, tampered workload files, zip
bombs, Matrix Market headers, files of the wrong kind, outputs that may not be
replaced, stores that are not stores, exit codes; plus cases of our own (FIFOs, lying
.npy headers, pickles, recursive aliases, control characters, ...).
"""

from __future__ import annotations

import json

import hostile_files as H
import numpy as np
import pytest

GEMM = H.gemm_manifest()
SPG = H.spgemm_manifest()

# --- tampered workload files (.npz) ----------------------------------------------------------
BAD_NPZ = {
    "manifest-list": H.npz(raw_manifest=b"[1, 2, 3]", arrays=H.spgemm_arrays()),
    "manifest-not-json": H.npz(raw_manifest=b"{not json", arrays=H.spgemm_arrays()),
    "manifest-nan": H.npz(raw_manifest=json.dumps(SPG).replace('"provenance": {}', '"provenance": NaN').encode(),
                          arrays=H.spgemm_arrays()),
    "manifest-not-utf8": H.npz(raw_manifest=b"\xff\xfe{}", arrays=H.spgemm_arrays()),
    "manifest-float-array": H.npz(manifest_array=np.zeros(3)),
    "no-manifest": H.npz(arrays=H.spgemm_arrays()),
    "schema-future": H.npz({**SPG, "schema_version": 99}, H.spgemm_arrays()),
    "schema-string": H.npz({**SPG, "schema_version": "1"}, H.spgemm_arrays()),
    "ops-missing": H.npz({"schema_version": 1, "name": "x"}, {}),
    "ops-dict": H.npz({"schema_version": 1, "name": "x", "ops": {"a": 1}}, {}),
    "op-not-object": H.npz({**SPG, "ops": [7]}, H.spgemm_arrays()),
    "op-kind-unknown": H.npz({**SPG, "ops": [{**SPG["ops"][0], "kind": "conv"}]}, H.spgemm_arrays()),
    "shape-negative": H.npz(H.spgemm_manifest(shape=(-4, 4)), H.spgemm_arrays()),
    "shape-huge": H.npz(H.spgemm_manifest(shape=(10**12, 10**12)), H.spgemm_arrays()),
    "shape-string": H.npz(H.spgemm_manifest(shape=("4", 4)), H.spgemm_arrays()),
    "csr-index-out-of-range": H.npz(SPG, H.spgemm_arrays(**{"op0.a.indices": np.array([0, 1, 2, 9], np.int32)})),
    "csr-index-negative": H.npz(SPG, H.spgemm_arrays(**{"op0.a.indices": np.array([0, -1, 2, 3], np.int32)})),
    "csr-float-indices": H.npz(SPG, H.spgemm_arrays(**{"op0.a.indices": np.array([0., 1., 2., 3.])})),
    "csr-indptr-decreasing": H.npz(SPG, H.spgemm_arrays(**{"op0.a.indptr": np.array([0, 3, 1, 3, 4])})),
    "csr-indptr-short": H.npz(SPG, H.spgemm_arrays(**{"op0.a.indptr": np.array([0, 4])})),
    "csr-data-nan": H.npz(SPG, H.spgemm_arrays(**{"op0.a.data": np.array([1., np.nan, 1., 1.])})),
    "csr-data-inf": H.npz(SPG, H.spgemm_arrays(**{"op0.b.data": np.array([1., np.inf, 1., 1.])})),
    "csr-data-complex": H.npz(SPG, H.spgemm_arrays(**{"op0.a.data": np.ones(4, complex)})),
    "csr-data-strings": H.npz(SPG, H.spgemm_arrays(**{"op0.a.data": np.array(["a", "b", "c", "d"])})),
    "csr-data-2d": H.npz(SPG, H.spgemm_arrays(**{"op0.a.data": np.ones((2, 2))})),
    "csr-missing-data": H.npz(SPG, {k: v for k, v in H.spgemm_arrays().items() if k != "op0.a.data"}),
    "extra-array": H.npz(SPG, H.spgemm_arrays(**{"junk": np.zeros(3)})),
    "metadata-only-spgemm": H.npz(SPG, {}),
    "lying-npy-header": H.lying_header_npz(),
    "declared-zip-bomb": H.declared_bomb_npz(),
    "pickled-member": H.pickled_npz(),
    "pickle-file": H.pickle_file(),
    "random-bytes": H.random_bytes(),
    "empty-file": b"",
    "fifo": H.fifo(),
    "directory": H.directory(),
}
BAD_GEMM_NPZ = {
    "nm-index-ge-m": H.npz(GEMM, H.gemm_arrays(**{"op0.b.indices": np.full((4, 2), 7, np.uint8)})),
    "nm-index-repeated": H.npz(GEMM, H.gemm_arrays(**{"op0.b.indices": np.zeros((4, 2), np.uint8)})),
    "nm-values-wrong-shape": H.npz(GEMM, H.gemm_arrays(**{"op0.b.values": np.ones((3, 2), np.float32)})),
    "nm-values-nan": H.npz(GEMM, H.gemm_arrays(**{"op0.b.values": np.full((4, 2), np.nan, np.float32)})),
    "nm-float-indices": H.npz(GEMM, H.gemm_arrays(**{"op0.b.indices": np.zeros((4, 2))})),
    "gemm-a-nan": H.npz(GEMM, H.gemm_arrays(**{"op0.a": np.full((4, 8), np.nan, np.float32)})),
    "gemm-a-wrong-shape": H.npz(GEMM, H.gemm_arrays(**{"op0.a": np.ones((5, 8), np.float32)})),
    "gemm-dims-1e12": H.npz(H.gemm_manifest(M=10**12, K=10**12, N=10**12,
                                            b={"kind": "dense", "shape": [10**12, 10**12]}), {}),
    "gemm-macs-beyond-limit": H.npz(H.gemm_manifest(M=2**24, K=2**24, N=2**24,
                                                    b={"kind": "dense", "shape": [2**24, 2**24]}), {}),
    "gemm-M-zero": H.npz(H.gemm_manifest(M=0), H.gemm_arrays(**{"op0.a": None})),
    "gemm-M-float": H.npz(H.gemm_manifest(M=4.5), H.gemm_arrays(**{"op0.a": None})),
    "gemm-repeat-huge": H.npz(H.gemm_manifest(repeat=10**15), H.gemm_arrays()),
    "gemm-b-shape-mismatch": H.npz(H.gemm_manifest(b={"kind": "nm", "shape": [9, 2], "n": 2, "m": 4,
                                                      "axis": 0}), H.gemm_arrays()),
    "gemm-nm-m-zero": H.npz(H.gemm_manifest(b={"kind": "nm", "shape": [8, 2], "n": 2, "m": 0,
                                               "axis": 0}), H.gemm_arrays()),
    "gemm-phase-unknown": H.npz(H.gemm_manifest(phase="sideways"), H.gemm_arrays()),
}

# --- Matrix Market ---------------------------------------------------------------------------
BAD_MTX = {
    "header-1e9": H.mtx("1000000000 1000000000 1", "1 1 1.0\n"),
    "header-1e11": H.mtx("100000000000 100000000000 1", "1 1 1.0\n"),
    "entries-1e12": H.mtx("10 10 1000000000000", "1 1 1.0\n"),
    "nan-entry": H.mtx("3 3 2", "1 1 nan\n2 2 1.0\n"),
    "inf-entry": H.mtx("3 3 2", "1 1 inf\n2 2 1.0\n"),
    "index-beyond-shape": H.mtx("3 3 1", "9 9 1.0\n"),
    "zero-index": H.mtx("3 3 1", "0 0 1.0\n"),
    "fewer-entries": H.mtx("3 3 5", "1 1 1.0\n"),
    "negative-size": H.mtx("-3 3 1", "1 1 1.0\n"),
    "empty-shape": H.mtx("0 0 0"),
    "no-size-line": "%%MatrixMarket matrix coordinate real general\n% only comments\n",
    "bad-banner": H.mtx("3 3 1", "1 1 1\n", banner="%%NotMatrixMarket"),
    "complex": H.mtx("3 3 1", "1 1 1.0 2.0\n", banner="%%MatrixMarket matrix coordinate complex general"),
    "hermitian": H.mtx("3 3 1", "1 1 1.0\n", banner="%%MatrixMarket matrix coordinate real hermitian"),
    "array-huge": H.mtx("100000 100000", "1.0\n", banner="%%MatrixMarket matrix array real general"),
    "text-in-entry": H.mtx("3 3 1", "a b c\n"),
    "random-bytes": H.random_bytes(2048, 1),
    "fifo": H.fifo(),
    "directory": H.directory(),
}

# --- edge lists (SNAP / KONECT text, accel.workloads.edgelist) -------------------------------
BAD_EDGES = {
    "random-bytes": H.random_bytes(2048, 3),
    "one-column": "1\n2\n",
    "float-ids": "1 2\n1.5 2\n",
    "negative-id": "1 2\n1 -2\n",
    "id-beyond-int64": "1 " + "9" * 30 + "\n",
    "only-comments": "# Directed graph\n# Nodes: 0 Edges: 0\n",
    "empty": "",
    "not-gzip": "plain text, not gzip\n",   # written as g.txt.gz below
    "fifo": H.fifo(),
    "directory": H.directory(),
}

# --- sweep specs -----------------------------------------------------------------------------
S = H.spec_yaml
BAD_SPECS = {
    "alias-bomb": H.alias_bomb(),
    "alias-bomb-in-parameters": "name: h\nmachine: piuma\nworkloads: [rmat:4]\nparameters:\n  x: &x [1,1,1,1,1,1,1,1,1,1]\n  y: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\n  z: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\n  w: &w [*z,*z,*z,*z,*z,*z,*z,*z,*z,*z]\n  v: [*w,*w,*w,*w,*w,*w,*w,*w,*w,*w]\n",
    "recursive-alias": "a: &a [*a]\n",
    "deep-nesting": H.deep_yaml(),
    "deep-mapping": "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)),
    "not-utf8": b"name: h\nmachine: piuma \xff\xfe\n",
    "utf16": "name: h\n".encode("utf-16"),
    "nul-bytes": b"name: h\x00\nmachine: piuma\n",
    "duplicate-key": "name: h\nmachine: piuma\nmachine: sat\nworkloads: [rmat:4]\n",
    "duplicate-parameter": "name: h\nmachine: piuma\nworkloads: [rmat:4]\nparameters:\n  cores: [1]\n  cores: [2]\n",
    "not-a-mapping": "- 1\n- 2\n",
    "scalar": "42\n",
    "fit-unknown-device": "name: h\nmachine: sat\nworkloads: [minilm-l6]\nparameters:\n  pe_rows: [8]\nfit: {device: xc7z020}\n",
    "fit-ceiling-above-1": "name: h\nmachine: sat\nworkloads: [minilm-l6]\nparameters:\n  pe_rows: [8]\nfit: {max_utilisation: {LUT: 1.5}}\n",
    "fit-ceiling-nan": "name: h\nmachine: sat\nworkloads: [minilm-l6]\nparameters:\n  pe_rows: [8]\nfit: {max_utilisation: {DSP: .nan}}\n",
    "fit-unknown-resource": "name: h\nmachine: sat\nworkloads: [minilm-l6]\nparameters:\n  pe_rows: [8]\nfit: {max_utilisation: {GATES: 0.5}}\n",
    "fit-no-device-machine": "name: h\nmachine: piuma\nworkloads: [rmat:4]\nfit: {}\n",
    "empty": "",
    "malformed": "name: [unclosed\n",
    "tab-indent": "name: h\n\tmachine: piuma\n",
    "unknown-key": S(colour="blue"),
    "unknown-machine": S(machine="quantum"),
    "machine-list": S(machine=["piuma"]),
    "no-machine": S(machine=None),
    "no-workloads": S(workloads=None),
    "workloads-int": S(workloads=[7]),
    "workloads-empty": S(workloads=[]),
    "workload-unknown": S(workloads=["nope"]),
    "workload-missing-file": S(workloads=["missing.npz"]),
    "base-list": S(base=[1, 2]),
    "base-unknown": S(base="nope"),
    "parameters-list": S(parameters=[1, 2]),
    "parameter-unknown": S(parameters={"warp_drive": [1]}),
    "parameter-empty": S(parameters={"cores": []}),
    "parameter-nested": S(parameters={"cores": [[1, 2]]}),
    "range-num-1e12": S(parameters={"cores": {"range": {"start": 1, "stop": 2, "num": 1e12}}}),
    "range-num-int-huge": S(parameters={"cores": {"range": {"start": 1, "stop": 2, "num": 10**12}}}),
    "sample-n-1e12": S(parameters={"cores": {"sample": {"low": 1, "high": 2, "n": 1e12}}}),
    "range-factor-tiny": S(parameters={"clock_ghz": {"range": {"start": 1, "stop": 1e300, "factor": 1.000000001}}}),
    "range-step-1e-308": S(parameters={"clock_ghz": {"range": {"start": 1e-308, "stop": 1e308, "step": 1e-308}}}),
    "range-nan-start": "name: h\nmachine: piuma\nworkloads: [rmat:4]\nparameters:\n  clock_ghz: {range: {start: .nan, stop: 2, num: 3}}\n",
    "range-inf-stop": "name: h\nmachine: piuma\nworkloads: [rmat:4]\nparameters:\n  clock_ghz: {range: {start: 1, stop: .inf, step: 1}}\n",
    "range-step-zero": S(parameters={"cores": {"range": {"start": 1, "stop": 4, "step": 0}}}),
    "range-step-backwards": S(parameters={"cores": {"range": {"start": 1, "stop": 4, "step": -1}}}),
    "range-two-modes": S(parameters={"cores": {"range": {"start": 1, "stop": 4, "step": 1, "num": 3}}}),
    "range-huge-int": S(parameters={"cores": {"range": {"start": 1, "stop": 10**30, "num": 2}}}),
    "sample-seed-negative": S(parameters={"cores": {"sample": {"low": 1, "high": 4, "n": 2, "seed": -1}}}),
    "grid-too-large": S(parameters={"cores": list(range(1, 1001)), "spad_latency": list(range(1, 1001)),
                                    "threads_per_pipeline": [1, 2]}),
    "constraint-power-tower": S(parameters={"threads_per_pipeline": [4, 8]},
                                constraints=["((((threads_per_pipeline**64)**64)**64)**64)**64 > 1"]),
    "constraint-unary-990": S(constraints=["-" * 990 + "threads_per_pipeline > 0"]),
    "constraint-nested-calls": S(constraints=["abs(" * 80 + "threads_per_pipeline" + ")" * 80 + " > 0"]),
    "constraint-import": S(constraints=["__import__('os').system('true')"]),
    "constraint-attribute": S(constraints=["threads_per_pipeline.bit_length() > 1"]),
    "constraint-lambda": S(constraints=["(lambda: 1)() > 0"]),
    "constraint-string-repeat": S(constraints=["'a' * 10**9 == 'b'"]),
    "constraint-unknown-name": S(constraints=["warp > 1"]),
    "constraint-syntax": S(constraints=["threads_per_pipeline >"]),
    "constraint-too-long": S(constraints=["threads_per_pipeline > 0 and " * 100 + "True"]),
    "constraint-control-char": S(constraints=["threads_per_pipeline\x1b > 0"]),
    "constraint-divide-zero": S(constraints=["threads_per_pipeline / 0 > 1"]),
    "constraints-mapping": S(constraints={"a": 1}),
    "objective-bad-goal": S(objectives={"cycles": "maximise"}),
    "objective-unknown-metric": S(objectives={"cyclez": "min"}),
    "objective-nested": S(objectives=[[1]]),
    "sample-not-mapping": S(sample=5),
    "knob-seed-negative": S(machine="sat", base=None, workloads=["minilm-l6"], parameters={"seed": [-1]}),
    "knob-batch-zero": S(machine="sat", base=None, workloads=["minilm-l6"], parameters={"batch": [0]}),
    "knob-batch-huge": S(machine="sat", base=None, workloads=["minilm-l6"], parameters={"batch": [10**12]}),
    "knob-prefill-zero": S(machine="flightllm", base=None, workloads=["llama2-7b"], parameters={"prefill": [0]}),
    "knob-sparsity-bad": S(machine="flightllm", base=None, workloads=["llama2-7b"], parameters={"sparsity": ["7:16"]}),
    "knob-rmat-seed": S(parameters={"seed": [-3]}),
    "name-with-slash": S(name="../../etc"),
    "name-non-ascii": S(name="sweep\u0661"),
    "name-dotfile": S(name=".hidden"),
}

# ---------------------------------------------------------------------------------------------
CASES: list[tuple[str, list, dict]] = []


def case(cid: str, argv: list, files: dict | None = None, copy: tuple[str, ...] = ()):
    CASES.append(pytest.param(argv, files or {}, copy, id=cid))


# workload show / sim piuma over every damaged .npz; sim sat and rtl cosim over the GEMM ones
for name, maker in BAD_NPZ.items():
    case(f"workload-show-npz-{name}", ["workload", "show", "w.npz"], {"w.npz": maker})
for name in ("manifest-list", "csr-index-out-of-range", "csr-data-nan", "declared-zip-bomb",
             "lying-npy-header", "fifo", "metadata-only-spgemm", "csr-float-indices"):
    case(f"sim-piuma-npz-{name}", ["sim", "piuma", "--workload", "w.npz"], {"w.npz": BAD_NPZ[name]})
for name, maker in BAD_GEMM_NPZ.items():
    case(f"workload-show-gemm-{name}", ["workload", "show", "g.npz"], {"g.npz": maker})
for name in ("nm-index-ge-m", "gemm-dims-1e12", "nm-values-nan", "gemm-macs-beyond-limit"):
    case(f"sim-sat-npz-{name}", ["sim", "sat", "--workload", "g.npz"], {"g.npz": BAD_GEMM_NPZ[name]})
for name in ("nm-index-ge-m", "nm-float-indices", "gemm-a-nan"):
    case(f"rtl-cosim-npz-{name}", ["rtl", "cosim", "pe-array", "--workload", "g.npz", "--layer", "fc"],
         {"g.npz": BAD_GEMM_NPZ[name]})

# Matrix Market through the three commands that read it
for name, text in BAD_MTX.items():
    case(f"workload-synth-mtx-{name}", ["workload", "synth", "mtx", "m.mtx", "--out", "o.npz"],
         {"m.mtx": text})
for name in ("header-1e9", "nan-entry", "index-beyond-shape", "random-bytes", "fifo"):
    case(f"sim-piuma-mtx-{name}", ["sim", "piuma", "--workload", "m.mtx"], {"m.mtx": BAD_MTX[name]})
    case(f"workload-show-mtx-{name}", ["workload", "show", "m.mtx"], {"m.mtx": BAD_MTX[name]})

# edge lists through the commands that resolve a workload
for name, text in BAD_EDGES.items():
    f = "g.txt.gz" if name == "not-gzip" else "g.txt"
    case(f"sim-piuma-edges-{name}", ["sim", "piuma", "--workload", f], {f: text})
    case(f"workload-show-edges-{name}", ["workload", "show", f], {f: text})
    case(f"workload-synth-edges-{name}", ["workload", "synth", "edges", f, "--out", "o.npz"], {f: text})
case("workload-synth-edges-not-an-edge-list", ["workload", "synth", "edges", "m.mtx", "--out", "o.npz"],
     {"m.mtx": BAD_MTX["nan-entry"]})

# sweep specs
for name, text in BAD_SPECS.items():
    case(f"sweep-spec-{name}", ["sweep", "s.yaml", "--db", "r.sqlite", "--quiet"], {"s.yaml": text})
case("sweep-spec-missing", ["sweep", "nope.yaml"])
case("sweep-spec-directory", ["sweep", "d.yaml"], {"d.yaml": H.directory()})
case("sweep-spec-fifo", ["sweep", "f.yaml"], {"f.yaml": H.fifo()})
case("sweep-spec-too-big", ["sweep", "big.yaml"], {"big.yaml": "# " + "x" * (5 * 2**20) + "\n"})
case("sweep-spec-not-yaml-suffix", ["sweep", "good.sqlite"], copy=("good.sqlite",))

# sweep flags and stores
G = ("good.yaml",)
for flag, val in (("--workers", "0"), ("--workers", "-1"), ("--workers", "100000"),
                  ("--point-timeout", "0"), ("--point-timeout", "nan"), ("--point-timeout", "inf"),
                  ("--point-timeout", "-5"), ("--point-timeout", "1e300"), ("--workers", "1e3"),
                  ("--dask-local", "0"), ("--scheduler", "http://x"), ("--workers", "abc")):
    case(f"sweep-flag{flag}={val}", ["sweep", "good.yaml", "--db", "r.sqlite", flag, val], copy=G)
case("sweep-scheduler-and-local", ["sweep", "good.yaml", "--db", "r.sqlite", "--scheduler",
                                   "tcp://127.0.0.1:1", "--dask-local", "1"], copy=G)
case("sweep-db-directory", ["sweep", "good.yaml", "--db", "d"], {"d/keep": "x"}, copy=G)
case("sweep-db-not-a-store", ["sweep", "good.yaml", "--db", "x.sqlite"], {"x.sqlite": "precious " * 100}, copy=G)
case("sweep-db-not-a-store-fresh", ["sweep", "good.yaml", "--db", "x.sqlite", "--fresh"],
     {"x.sqlite": H.random_bytes(8192, 2)}, copy=G)
case("sweep-existing-store-bad-workers", ["sweep", "good.yaml", "--db", "good.sqlite", "--workers", "0"],
     copy=("good.yaml", "good.sqlite"))
case("sweep-existing-store-bad-spec", ["sweep", "s.yaml", "--db", "good.sqlite"],
     {"s.yaml": S(parameters={"cores": {"range": {"start": 1, "stop": 2, "num": 1e12}}})}, copy=("good.sqlite",))
case("sweep-existing-store-bad-workload", ["sweep", "s.yaml", "--db", "good.sqlite"],
     {"s.yaml": S(workloads=["m.mtx"]), "m.mtx": H.mtx("1000000000 1000000000 1", "1 1 1.0\n")},
     copy=("good.sqlite",))
case("sweep-db-fifo", ["sweep", "good.yaml", "--db", "p.sqlite"], {"p.sqlite": H.fifo()}, copy=G)
case("sweep-db-parent-is-file", ["sweep", "good.yaml", "--db", "f/r.sqlite"], {"f": "file"}, copy=G)


def _future_store(p):
    """A real store, as written by a future accel (schema version 999)."""
    import sqlite3

    from accel.sweep.store import Store

    Store(p).close()
    conn = sqlite3.connect(p)
    conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


case("sweep-db-future-schema", ["sweep", "good.yaml", "--db", "s/f.sqlite"], {"s/f.sqlite": _future_store},
     copy=G)

# sweep export
E = ("good.sqlite",)
case("export-db-missing", ["sweep", "export", "nope.sqlite", "--out", "o.csv"])
case("export-db-directory", ["sweep", "export", "d", "--out", "o.csv"], {"d/x": "1"})
case("export-db-not-sqlite", ["sweep", "export", "x.sqlite", "--out", "o.csv"], {"x.sqlite": "hello " * 50})
case("export-db-random", ["sweep", "export", "x.sqlite", "--out", "o.csv"], {"x.sqlite": H.random_bytes(4096, 3)})
case("export-db-future", ["sweep", "export", "s/f.sqlite", "--out", "o.csv"], {"s/f.sqlite": _future_store})
case("export-db-fifo", ["sweep", "export", "p.sqlite", "--out", "o.csv"], {"p.sqlite": H.fifo()})
case("export-out-directory", ["sweep", "export", "good.sqlite", "--out", "od"], {"od/keep": "k"}, copy=E)
case("export-out-device", ["sweep", "export", "good.sqlite", "--out", "/dev/null"], copy=E)
case("export-out-fifo", ["sweep", "export", "good.sqlite", "--out", "o.csv"], {"o.csv": H.fifo()}, copy=E)
case("export-out-missing-folder", ["sweep", "export", "good.sqlite", "--out", "no/such/o.csv"], copy=E)
case("export-out-is-store", ["sweep", "export", "good.sqlite", "--out", "good.sqlite"], copy=E)
case("export-format-xml", ["sweep", "export", "good.sqlite", "--out", "o.xml", "--format", "xml"], copy=E)
case("export-out-parent-file", ["sweep", "export", "good.sqlite", "--out", "f/o.csv"], {"f": "x"}, copy=E)

def _tamper(sql: str | None = None, truncate: int | None = None):
    """Damage the copied good.sqlite (a store edited by hand, or half-written by a crash)."""
    def make(p):
        import sqlite3

        store = p.parent / "good.sqlite"
        if truncate is not None:
            store.write_bytes(store.read_bytes()[:truncate])
        else:
            conn = sqlite3.connect(store)
            conn.executescript(sql)
            conn.close()
        p.write_text("tampered")
    return make


TAMPERED = {
    "params-not-json": _tamper("UPDATE results SET params = 'not json';"),
    "metrics-a-list": _tamper("UPDATE results SET metrics = '[1, 2]';"),
    "metrics-nested": _tamper("UPDATE results SET metrics = '{\"cycles\": {\"a\": 1}}';"),
    "spec-path-traversal": _tamper("UPDATE results SET spec = '../../evil';"),
    "no-results-table": _tamper("DROP TABLE results;"),
    "no-meta": _tamper("DROP TABLE meta;"),
    "truncated": _tamper(truncate=1500),
}
for name in ("no-results-table", "no-meta", "truncated"):
    case(f"sweep-resume-store-{name}", ["sweep", "good.yaml", "--db", "good.sqlite"], {"note": TAMPERED[name]},
         copy=("good.sqlite", "good.yaml"))
for name, maker in TAMPERED.items():
    case(f"report-store-{name}", ["report", "good.sqlite", "--out", "rep"], {"note": maker}, copy=E)
    case(f"export-store-{name}", ["sweep", "export", "good.sqlite", "--out", "o.csv"], {"note": maker}, copy=E)

# report
case("report-db-missing", ["report", "nope.sqlite", "--out", "rep"])
case("report-db-not-store", ["report", "x.sqlite", "--out", "rep"], {"x.sqlite": "text " * 30})
case("report-db-directory", ["report", "d", "--out", "rep"], {"d/x": "1"})
case("report-db-future", ["report", "s/f.sqlite", "--out", "rep"], {"s/f.sqlite": _future_store})
case("report-second-db-bad", ["report", "good.sqlite", "x.sqlite", "--out", "rep"], {"x.sqlite": "no"}, copy=E)
case("report-out-is-file", ["report", "good.sqlite", "--out", "f"], {"f": "keep me"}, copy=E)
case("report-out-under-file", ["report", "good.sqlite", "--out", "f/rep"], {"f": "keep me"}, copy=E)
case("report-empty-sqlite", ["report", "e.sqlite", "--out", "rep"], {"e.sqlite": b""})

# sim piuma
for s in ("clock_ghz=nan", "clock_ghz=.inf", "clock_ghz=-1", "cores=1e23", "cores=0", "cores=2.5",
          "cores=abc", "index=1", "clock_ghz", "=3", "cores=[1,2]", "clock_ghz=1e9",
          "dram_mtps=1e-300", "hash_table_entries=3", "cores=1e15", "cores=99999999999",
          "cores=" + "9" * 5000, "cores=!!python/name:os.system", "clock_ghz=1e-320",
          "cores=0x7fffffffffffffff", "dram_interleave_bytes=4", "dram_interleave_bytes=12"):
    case(f"sim-piuma-set-{s}", ["sim", "piuma", "--workload", "rmat:4", "--set", s])
for w in ("rmat:99", "rmat:-1", "rmat:4:0", "rmat:abc", "rmat:4:1000000000000", "rmat:26",
          "nope", "minilm-weight:x:nan", "minilm-weight::1e999", "rmat:4:4:4"):
    case(f"sim-piuma-workload-{w}", ["sim", "piuma", "--workload", w])
case("sim-piuma-algo", ["sim", "piuma", "--workload", "rmat:4", "--algo", "quicksort"])
for f in ("quick", "", "EXACT"):
    case(f"sim-piuma-fidelity-{f or 'empty'}",
         ["sim", "piuma", "--workload", "rmat:4", "--fidelity", f])
ARCH = {
    "bomb": H.alias_bomb(), "dup-key": "cores: 2\ncores: 4\n", "not-utf8": b"cores: \xff\n",
    "list": "[1, 2]\n", "base-list": "base: [1, 2]\n", "int-key": "1: 2\n", "null-key": "~: 2\n",
    "nan-value": "clock_ghz: .nan\n", "deep": H.deep_yaml(3000), "unknown-base": "base: nope\n",
    "nested-value": "cores: {a: 1}\n",
    "python-tag": 'cores: !!python/object/apply:os.system ["true"]\n',
    "binary-tag": "cores: !!binary aGVsbG8=\n",
    "date-value": "cores: 2019-01-01\n",
    "huge-int": "cores: " + "9" * 5000 + "\n",
    "merge-bomb": "x: &a {cores: 1}\n" + "".join(f"y{i}: &y{i} {{<<: [*{'a' if i == 0 else f'y{i - 1}'}]}}\n" for i in range(30)),
}
for name, text in ARCH.items():
    case(f"sim-piuma-arch-{name}", ["sim", "piuma", "--workload", "rmat:4", "--arch", "a.yaml"],
         {"a.yaml": text})
case("sim-piuma-arch-directory", ["sim", "piuma", "--workload", "rmat:4", "--arch", "d.yaml"],
     {"d.yaml": H.directory()})
case("sim-piuma-arch-fifo", ["sim", "piuma", "--workload", "rmat:4", "--arch", "f.yaml"],
     {"f.yaml": H.fifo()})

# sim sat
for s in ("clock_mhz=nan", "clock_mhz=-inf", "index_bits=1e12", "pe_rows=0", "pe_rows=1e23",
          "dram_efficiency=2", "optimizer=adamw2", "supported_patterns=[9:4]", "pe_cols=64.5"):
    case(f"sim-sat-set-{s}", ["sim", "sat", "--workload", "minilm-l6", "--set", s])
for flag, val in (("--batch", "0"), ("--batch", "-1"), ("--batch", "1000000000000"),
                  ("--seq-len", "0"), ("--seq-len", "100000"), ("--seed", "-1"),
                  ("--prune", "bdwp:9:4"), ("--prune", "x:y")):
    case(f"sim-sat-flag{flag}={val}", ["sim", "sat", "--workload", "minilm-l6", flag, val])
case("sim-sat-workload-unknown", ["sim", "sat", "--workload", "resnet9000"])
case("sim-sat-arch-bomb", ["sim", "sat", "--workload", "minilm-l6", "--arch", "a.yaml"],
     {"a.yaml": H.alias_bomb()})

# sim flightllm
for s in ("clock_mhz=nan", "clock_mhz=.inf", "clock_mhz=0", "hbm_efficiency=nan", "cores=1e23",
          "weight_bits=nan", "max_length=-5"):
    case(f"sim-flightllm-set-{s}", ["sim", "flightllm", "--set", s])
for flag, val in (("--prefill", "0"), ("--prefill", "1000000000000"), ("--decode", "-3"),
                  ("--sparsity", "3:16"), ("--sparsity", "mixed:nan"), ("--sparsity", "mixed:1e999"),
                  ("--weight-bits", "nan"), ("--weight-bits", "inf"), ("--seed", "-1"),
                  ("--model", "gpt-17"), ("--device", "tpu")):
    case(f"sim-flightllm-flag{flag}={val}", ["sim", "flightllm", flag, val])
HF = {"hidden_size": 4096, "num_hidden_layers": 2, "num_attention_heads": 32, "vocab_size": 1000,
      "intermediate_size": 11008}
for name, cfg in (("hidden-string", {**HF, "hidden_size": "4096"}), ("hidden-null", {**HF, "hidden_size": None}),
                  ("hidden-1e15", {**HF, "hidden_size": 1e15}), ("layers-negative", {**HF, "num_hidden_layers": -2}),
                  ("heads-not-dividing", {**HF, "num_attention_heads": 3}), ("missing-vocab",
                  {k: v for k, v in HF.items() if k != "vocab_size"}), ("a-list", [1, 2])):
    case(f"sim-flightllm-hfconfig-{name}", ["sim", "flightllm", "--model", "c.json"], {"c.json": json.dumps(cfg)})
case("sim-flightllm-hfconfig-nan", ["sim", "flightllm", "--model", "c.json"],
     {"c.json": json.dumps(HF).replace("4096", "NaN")})
case("sim-flightllm-hfconfig-not-utf8", ["sim", "flightllm", "--model", "c.json"], {"c.json": b"{\"a\": \"\xff\"}"})
case("sim-flightllm-device-bomb", ["sim", "flightllm", "--device", "d.yaml"], {"d.yaml": H.alias_bomb()})
case("sim-flightllm-device-dup", ["sim", "flightllm", "--device", "d.yaml"],
     {"d.yaml": "clock_mhz: 200\nclock_mhz: 300\n"})

# workload synth rmat / llm, extract
for flag, val in (("--scale", "0"), ("--scale", "27"), ("--scale", "26"), ("--edge-factor", "1000000000000"),
                  ("--edge-factor", "0"), ("--seed", "-1"), ("--a", "nan"), ("--a", "inf"), ("--b", "-0.5"),
                  ("--c", "0.9")):
    args = ["workload", "synth", "rmat", "--out", "o.npz"]
    args += [flag, val] if flag == "--scale" else ["--scale", "4", flag, val]
    case(f"synth-rmat{flag}={val}", args)
case("synth-rmat-out-not-npz", ["workload", "synth", "rmat", "--scale", "4", "--out", "o.txt"])
case("synth-rmat-out-missing-folder", ["workload", "synth", "rmat", "--scale", "4", "--out", "no/o.npz"])
case("synth-rmat-out-is-directory", ["workload", "synth", "rmat", "--scale", "4", "--out", "d.npz"],
     {"d.npz/keep": "k"})
case("synth-rmat-out-fifo", ["workload", "synth", "rmat", "--scale", "4", "--out", "f.npz"], {"f.npz": H.fifo()})
for flag, val in (("--prefill", "0"), ("--decode", "1000000000000"), ("--sparsity", "5:16"),
                  ("--model", "nope"), ("--seed", "-5")):
    case(f"synth-llm{flag}={val}", ["workload", "synth", "llm", "--out", "o.npz", flag, val])
case("synth-llm-hf-bad", ["workload", "synth", "llm", "--model", "c.json", "--out", "o.npz"],
     {"c.json": json.dumps({**HF, "vocab_size": "lots"})})
for flag, val in (("--prune", "7:4"), ("--prune", "wanda:nan"), ("--seq-len", "1"), ("--seq-len", "100000"),
                  ("--batch", "0"), ("--seed", "-1"), ("--model", "gpt-x")):
    case(f"extract{flag}={val}", ["workload", "extract", "--out", "o.npz", flag, val])
case("extract-checkpoint-missing", ["workload", "extract", "--out", "o.npz", "--checkpoint", "nodir"])
case("extract-checkpoint-empty", ["workload", "extract", "--out", "o.npz", "--checkpoint", "ck"], {"ck/README": "x"})
case("extract-safetensors-header-len", ["workload", "extract", "--out", "o.npz", "--checkpoint", "ck"],
     {"ck/model.safetensors": H.safetensors(b"{}", hlen=2**40)})
case("extract-safetensors-not-json", ["workload", "extract", "--out", "o.npz", "--checkpoint", "ck"],
     {"ck/model.safetensors": H.safetensors(b"{nope")})
case("extract-safetensors-offsets", ["workload", "extract", "--out", "o.npz", "--checkpoint", "ck"],
     {"ck/model.safetensors": H.safetensors({"encoder.layer.0.output.dense.weight": {
         "dtype": "F32", "shape": [4096, 4096], "data_offsets": [0, 4096 * 4096 * 4]}}, b"\0" * 64)})
case("extract-safetensors-nan", ["workload", "extract", "--out", "o.npz", "--checkpoint", "ck"],
     {"ck/model.safetensors": H.safetensors({"encoder.layer.0.output.dense.weight": {
         "dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}},
         np.full(4, np.nan, np.float32).tobytes())})
case("extract-out-not-npz", ["workload", "extract", "--out", "o.csv"])

# workload show by name
for w in ("rmat:abc", "rmat:27", "nope", "llama2-7b:0", "llama2-7b:1:99999999999", "x.txt"):
    case(f"workload-show-name-{w}", ["workload", "show", w])

# rtl
for flag, val in (("--rows", "0"), ("--rows", "100000"), ("--n", "5"), ("--m", "0"), ("--act-bits", "0"),
                  ("--acc-bits", "1000000"), ("--cols", "-4")):
    case(f"rtl-generate{flag}={val}", ["rtl", "generate", "pe-array", "--out", "g", flag, val])
case("rtl-generate-out-is-file", ["rtl", "generate", "pe-array", "--out", "g"], {"g": "keep"})
for flag, val in (("--rows", "0"), ("--n", "9"), ("--weight-bits", "-1"), ("--m", "0"),
                  ("--acc-bits", "0"), ("--cols", "100000"), ("--rows", "1e3")):
    case(f"rtl-synth{flag}={val}", ["rtl", "synth", "pe-array", flag, val])
case("rtl-cosim-mode", ["rtl", "cosim", "pe-array", "--workload", "good.npz", "--layer", "A*A", "--mode", "both"], copy=("good.npz",))
case("rtl-cosim-max-tiles", ["rtl", "cosim", "pe-array", "--workload", "good.npz", "--layer", "A*A", "--max-tiles", "0"],
     copy=("good.npz",))
case("rtl-cosim-workload-missing", ["rtl", "cosim", "pe-array", "--workload", "nope.npz", "--layer", "x"])
case("rtl-cosim-layer-missing", ["rtl", "cosim", "pe-array", "--workload", "g.npz", "--layer", "nope"],
     {"g.npz": H.npz(GEMM, H.gemm_arrays())})
# the other registered blocks: bad parameters are refused before any build or synthesis
for flag, val in (("--chain-dsps", "0"), ("--chain-dsps", "7"), ("--dsp-group", "3"),
                  ("--acc-bits", "4"), ("--chain-dsps", "1e3")):
    case(f"rtl-generate-dsp-chain{flag}={val}", ["rtl", "generate", "dsp-chain", "--out", "g", flag, val])
    case(f"rtl-synth-dsp-chain{flag}={val}", ["rtl", "synth", "dsp-chain", flag, val])
for flag, val in (("--ops", "nope"), ("--patterns", "17"), ("--cols", "0"), ("--model-config", "nope.json"),
                  ("--dsp-group", "0")):
    case(f"rtl-cosim-dsp-chain{flag}={val}", ["rtl", "cosim", "dsp-chain", flag, val])
for flag, val in (("--n", "5"), ("--m", "0"), ("--lanes", "3"), ("--lanes", "0")):
    case(f"rtl-generate-weight-gen{flag}={val}", ["rtl", "generate", "weight-gen", "--out", "g", flag, val])
    case(f"rtl-synth-weight-gen{flag}={val}", ["rtl", "synth", "weight-gen", flag, val])
case("rtl-cosim-weight-gen-workload-missing", ["rtl", "cosim", "weight-gen", "--workload", "nope.npz",
                                                "--layer", "x"])
case("rtl-cosim-weight-gen-phase-without-training",
     ["rtl", "cosim", "pe-array", "--workload", "g.npz", "--layer", "fc", "--phase", "bwd_data"],
     {"g.npz": H.npz(GEMM, H.gemm_arrays())})

# sim systolic (SCALE-Sim inputs) and flightllm validate
TOPO = "Layer, M, N, K, Sparsity,\n"
for name, text in (("dims-huge", TOPO + "fc, 100000000, 16, 16, 2:4,\n"),
                   ("dims-max-folds", TOPO + "fc, 16777216, 16777216, 16777216, 2:4,\n"),
                   ("nan-dim", TOPO + "fc, 16, nan, 16, 2:4,\n"), ("bad-sparsity", TOPO + "fc, 16, 16, 16, 9:4,\n"),
                   ("no-rows", TOPO), ("binary", b"\xff\xfe\x00junk"), ("fifo", H.fifo()),
                   ("duplicate-layer", TOPO + "fc, 4, 4, 4, 2:4,\nfc, 4, 4, 4, 2:4,\n")):
    case(f"sim-systolic-topology-{name}", ["sim", "systolic", "--workload", "t.csv"], {"t.csv": text})
for name, text in (("zero-height", "[architecture_presets]\nArrayHeight: 0\n"),
                   ("huge", "[architecture_presets]\nArrayHeight: 100000000\nArrayWidth: 4\nDataflow: ws\n"),
                   ("not-ini", "\x00\x01"), ("dup-section", "[a]\nx: 1\n[a]\nx: 2\n")):
    case(f"sim-systolic-cfg-{name}", ["sim", "systolic", "--workload", "minilm-l6", "--scalesim-cfg", "s.cfg"],
         {"s.cfg": text})
for s_ in ("array_rows=nan", "nope=1", "array_rows=1e23"):
    case(f"sim-systolic-set-{s_}", ["sim", "systolic", "--workload", "minilm-l6", "--set", s_])
for flag, val in (("--seed", "-1"), ("--prune", "9:4"), ("--seq-len", "0")):
    case(f"sim-systolic-flag{flag}={val}", ["sim", "systolic", "--workload", "minilm-l6", flag, val])
for name in ("nm-index-ge-m", "gemm-a-nan"):
    case(f"sim-systolic-npz-{name}", ["sim", "systolic", "--workload", "g.npz"], {"g.npz": BAD_GEMM_NPZ[name]})
for s_ in ("clock_mhz=nan", "nope=1", "clock_mhz=1e9", "hbm_efficiency=.inf"):
    case(f"flightllm-validate-set-{s_}", ["flightllm", "validate", "--set", s_])

# bdwp, demo, usage errors
case("bdwp-study-out-is-file", ["bdwp", "study", "--out", "f", "--no-accuracy"], {"f": "keep"})
case("bdwp-study-out-under-file", ["bdwp", "study", "--out", "f/sub"], {"f": "keep"})
case("bdwp-study-out-device", ["bdwp", "study", "--out", "/dev/null"])
case("bdwp-study-out-fifo", ["bdwp", "study", "--out", "p"], {"p": H.fifo()})
case("bdwp-accuracy-seed-text", ["bdwp", "accuracy", "--seed", "abc"])
case("bdwp-accuracy-seed-float", ["bdwp", "accuracy", "--seed", "1.5"])
case("bdwp-accuracy-seed", ["bdwp", "accuracy", "--seed", "-1"])
case("bdwp-accuracy-seed-huge", ["bdwp", "accuracy", "--seed", str(2**64)])
case("bdwp-accuracy-numerics", ["bdwp", "accuracy", "--numerics", "bf16"])
for val in ("0", "-2", "100000"):
    case(f"demo-workers-{val}", ["demo", "--workers", val, "--out", "d"])
case("demo-out-is-file", ["demo", "--out", "f"], {"f": "keep"})
# design build: bad store, design number, key, preset or option: refused before any build
case("design-build-store-random-bytes", ["design", "build", "s.sqlite", "--design", "1", "--out", "o"],
     {"s.sqlite": H.random_bytes()})
case("design-build-store-fifo", ["design", "build", "s.sqlite", "--design", "1", "--out", "o"],
     {"s.sqlite": H.fifo()})
case("design-build-store-missing", ["design", "build", "nope.sqlite", "--design", "1", "--out", "o"])
case("design-build-yaml-alias-bomb", ["design", "build", "d.yaml", "--out", "o"],
     {"d.yaml": H.alias_bomb()})
case("design-build-yaml-deep", ["design", "build", "d.yaml", "--out", "o"], {"d.yaml": H.deep_yaml()})
for val in ("0", "-1", "1.5", "99999999999999999999", "\u0661"):
    case(f"design-build-preset-tiles-{val}", ["design", "build", "--preset", "sat-vcu1525",
                                              "--tiles", val, "--out", "o"])
case("design-build-preset-unknown", ["design", "build", "--preset", "nope", "--out", "o"])
case("design-build-preset-no-rtl", ["design", "build", "--preset", "u280", "--out", "o"])
case("design-build-cosim-array-bad", ["design", "build", "--preset", "sat-vcu1525",
                                      "--cosim-array", "0x8", "--out", "o"])
case("design-build-out-is-file", ["design", "build", "--preset", "sat-vcu1525", "--out", "f"],
     {"f": "keep"})
# cache: an unknown cache name is refused before anything is removed
case("cache-clear-unknown", ["cache", "clear", "--only", "nope"])
case("cache-clear-empty-name", ["cache", "clear", "--only", ""])
case("cache-clear-one-bad-of-two", ["cache", "clear", "--only", "numba", "--only", "nope"])
case("cache-info-extra-argument", ["cache", "info", "extra"])
# cache warm: an unknown machine is refused before anything compiles
case("cache-warm-unknown-machine", ["cache", "warm", "--machine", "nope"])
case("cache-warm-empty-machine", ["cache", "warm", "--machine", ""])
case("cache-warm-extra-argument", ["cache", "warm", "piuma"])
# device: an unknown name lists the catalogue; show takes exactly one name
case("device-show-unknown", ["device", "show", "xc7z020"])
case("device-show-empty", ["device", "show", ""])
case("device-show-control-chars", ["device", "show", "xcvu9p\x1b[2J"])
case("device-show-missing", ["device", "show"])
case("device-list-extra-argument", ["device", "list", "extra"])
case("usage-unknown-command", ["teleport"])
case("usage-unknown-option", ["sim", "piuma", "--workload", "rmat:4", "--warp", "9"])
case("usage-missing-required", ["sim", "piuma"])
case("usage-int-not-number", ["workload", "synth", "rmat", "--scale", "four", "--out", "o.npz"])


@pytest.mark.parametrize(("argv", "files", "copy"), CASES)
def test_hostile_input_is_refused(hostile, argv, files, copy):
    hostile(argv, files, copy)


def test_suite_covers_every_command():
    """Every leaf command of the CLI has hostile cases (new commands must add theirs)."""
    import typer.main

    from accel.cli import app

    def leaves(cmd, prefix=()):
        subs = getattr(cmd, "commands", None)
        if not subs:
            yield prefix
            return
        for name, sub in subs.items():
            yield from leaves(sub, (*prefix, name))

    commands = set(leaves(typer.main.get_command(app)))
    argvs = [p.values[0] for p in CASES]
    missing = []
    for cmd in commands:
        alias = {("sweep", "run"): ("sweep",)}.get(cmd, cmd)
        if not any(tuple(a[: len(cmd)]) == cmd or tuple(a[: len(alias)]) == alias and
                   (alias != ("sweep",) or a[1] != "export") for a in argvs):
            missing.append(" ".join(cmd))
    assert not missing, f"commands without hostile cases: {missing}"
    assert len(CASES) >= 150
