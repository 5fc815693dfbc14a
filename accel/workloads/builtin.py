"""Built-in workload names, usable wherever a workload file is.

    FILE.npz                 a saved workload
    FILE.mtx                 a Matrix Market matrix A, as the SpGEMM A*A
    FILE.txt[.gz]            an edge list (SNAP, KONECT; also .tsv, .edges, .el) as its
                             adjacency matrix A, the SpGEMM A*A (accel.workloads.edgelist)
    minilm-l6                real MiniLM weights and activations, pruned by ``prune``
                             (``training=True``: fwd/bwd_data/bwd_weight per layer)
    rmat:S[:EF]              SpGEMM A*A of an R-MAT graph of scale S, edge factor EF
                             (default 16), seeded by ``seed``
    llama2-7b[:P[:D]]        shape presets (no weights) via accel.workloads.llm, prefill
    opt-6.7b[:P[:D]]         length P (default ``prefill``, else ``seq_len``) and decode
    FILE.json                (a Hugging Face config.json: the same, for any LLaMA/OPT shape)
                             length D (default ``decode``, else DEFAULT_DECODE), sparsity
                             ``sparsity`` (else ``prune``)
    resnet18, resnet50,      one training step of the vision models (accel.workloads.cnn):
    vit-b16                  fwd/bwd_data/bwd_weight per layer, pruned by ``prune``, batch
                             ``batch`` (default per model); always a training workload
    minilm-weight[:MOD[:D]]  SpGEMM W.W^T of one real MiniLM weight pruned to density D
                             (accel.workloads.weight_products)

This is the one resolver: the CLI, the sweeps and co-simulation all call ``resolve``.

Built workloads of ``minilm-l6`` and ``rmat`` are cached on disk under
``$XDG_CACHE_HOME/accel/workloads`` (else ``~/.cache/accel/workloads``; ``ACCEL_CACHE_DIR``
overrides, ``ACCEL_NO_CACHE=1`` disables).  The key hashes everything that changes
the result: the spec and every option, the accel version, the source of the modules
that build it, and the checkpoint files' names, sizes and mtimes.  Entries are written
atomically (``accel.workloads.io.save``), so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import accel
from accel.errors import WorkloadError
from accel.workloads import io
from accel.workloads.ops import Workload

DEFAULT_DECODE = 512   # FlightLLM's shortest evaluated decode length [128, 512] (REFERENCE 2)
LLM_MODELS = ("llama2-7b", "opt-6.7b")
_BUILDER_MODULES = ("builtin", "extract", "prune", "quantize", "minilm", "checkpoint",
                    "graphs", "formats", "ops", "io", "training")
NAMES_HELP = ("FILE.npz, FILE.mtx, FILE.txt[.gz] (edge list), FILE.json (HF config), minilm-l6, resnet18, resnet50, vit-b16, rmat:S[:EF], "
              "minilm-weight[:MODULE[:DENSITY]], llama2-7b[:P[:D]], opt-6.7b[:P[:D]]")
VISION_MODELS = ("resnet18", "resnet50", "vit-b16")
# The knobs ``resolve`` takes: a sweep routes a parameter of these names to the workload.
KNOBS = ("prune", "training", "seq_len", "batch", "seed", "prefill", "decode", "sparsity")


def cache_dir() -> Path:
    if os.environ.get("ACCEL_CACHE_DIR"):
        return Path(os.environ["ACCEL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accel"


def _code_hash() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for mod in _BUILDER_MODULES:
        h.update((here / f"{mod}.py").read_bytes())
    return h.hexdigest()[:16]


def _cached(key: dict, build) -> Workload:
    if os.environ.get("ACCEL_NO_CACHE"):
        return build()
    key = {**key, "accel_version": accel.__version__, "code": _code_hash(),
           "schema": io.SCHEMA_VERSION}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    folder = cache_dir() / "workloads"
    path = folder / f"{digest}.npz"
    if path.is_file():
        try:
            return io.load(path)
        except WorkloadError:
            pass  # a damaged entry (disk full, older schema) is rebuilt, not fatal
    w = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        io.save(w, path, compress=False)  # speed over size for a cache
    except (OSError, WorkloadError):
        pass  # a read-only cache only costs time
    return w


def _int_field(tok: str, what: str, spec: str) -> int:
    if not re.fullmatch(r"[0-9]+", tok):
        raise WorkloadError(f"workload {spec!r}: {what} {tok!r} is not a whole number")
    return int(tok)


def resolve(spec: str, *, prune: str = "dense", training: bool = False, seq_len: int = 128,
            batch: int | None = None, seed: int = 0, checkpoint: str | None = None,
            advance=None, prefill: int | None = None, decode: int | None = None,
            sparsity: str | None = None) -> Workload:
    """The workload a file path or built-in name stands for (module docstring).

    ``batch=None`` is the per-model default (1 for minilm-l6, CNN_PRESETS for vision)."""
    spec = str(spec).strip()
    low = spec.lower()
    if low.endswith(".npz"):
        return io.load(spec)
    if low.endswith(".mtx"):
        from accel.workloads.graphs import read_mtx, spgemm_workload

        return spgemm_workload(read_mtx(spec), name=Path(spec).stem,
                               provenance={"source": str(Path(spec).resolve()), "method": "A*A"})
    from accel.workloads.edgelist import is_edge_list

    if is_edge_list(low):
        from accel.workloads.edgelist import read_edges
        from accel.workloads.graphs import spgemm_workload

        name = Path(spec).name
        name = name[:-3] if name.lower().endswith(".gz") else name
        return spgemm_workload(read_edges(spec), name=Path(name).stem,
                               provenance={"source": str(Path(spec).resolve()), "method": "A*A",
                                           "format": "edge list"})
    if low == "minilm-l6":
        from accel.workloads.checkpoint import checkpoint_identity, model_folder
        from accel.workloads.extract import extract_workload, validate_request

        batch = 1 if batch is None else batch
        validate_request(prune, seq_len, batch, training)
        folder = model_folder(low, checkpoint)
        key = {"spec": low, "prune": str(prune).strip().lower(), "training": bool(training),
               "seq_len": int(seq_len), "batch": int(batch), "seed": int(seed),
               "checkpoint": str(folder.resolve()), "files": checkpoint_identity(folder)}
        return _cached(key, lambda: extract_workload(low, checkpoint, prune, seq_len, batch,
                                                     training, seed, advance))
    if low.startswith("rmat:"):
        from accel.workloads.graphs import rmat, spgemm_workload

        parts = low.split(":")[1:]
        if len(parts) not in (1, 2):
            raise WorkloadError(f"workload {spec!r}: expected rmat:SCALE[:EDGE_FACTOR]")
        scale = _int_field(parts[0], "scale", spec)
        ef = _int_field(parts[1], "edge factor", spec) if len(parts) == 2 else 16
        key = {"spec": "rmat", "scale": scale, "edge_factor": ef, "seed": int(seed)}
        prov = {"generator": "rmat", "scale": scale, "edge_factor": ef, "seed": int(seed),
                "abc": [0.57, 0.19, 0.19], "method": "A*A"}
        return _cached(key, lambda: spgemm_workload(rmat(scale, ef, seed), name=f"rmat-{scale}-{ef}",
                                                    provenance=prov))
    if low.endswith(".json"):  # a Hugging Face config.json: an LLM shape like the presets
        from accel.workloads.llm import llm_workload

        return llm_workload(spec, int(seq_len if prefill is None else prefill),
                            int(DEFAULT_DECODE if decode is None else decode),
                            sparsity=prune if sparsity is None else sparsity, seed=seed)
    if low in VISION_MODELS:
        from accel.workloads.cnn import cnn_workload

        return cnn_workload(low, prune=prune, batch=batch, seed=seed)
    head, *rest = low.split(":")
    if head == "minilm-weight":
        from accel.workloads.weight_products import (
            DEFAULT_DENSITY,
            DEFAULT_MODULE,
            pruned_weight_workload,
        )

        parts = spec.split(":")[1:]  # module names are case-sensitive: split the original
        if len(parts) > 2:
            raise WorkloadError(f"workload {spec!r}: expected minilm-weight[:MODULE[:DENSITY]]")
        module = parts[0] if parts and parts[0] else DEFAULT_MODULE
        try:
            density = float(parts[1]) if len(parts) > 1 else DEFAULT_DENSITY
        except ValueError:
            raise WorkloadError(f"workload {spec!r}: density {parts[1]!r} is not a number") from None
        return pruned_weight_workload(module, density)
    if head in LLM_MODELS:
        from accel.workloads.llm import llm_workload  # written by the FlightLLM helper

        if len(rest) > 2:
            raise WorkloadError(f"workload {spec!r}: expected {head}[:PREFILL[:DECODE]]")
        if rest:
            prefill = _int_field(rest[0], "prefill length", spec)
        elif prefill is None:
            prefill = int(seq_len)
        if len(rest) == 2:
            decode = _int_field(rest[1], "decode length", spec)
        elif decode is None:
            decode = DEFAULT_DECODE
        return llm_workload(head, int(prefill), int(decode),
                            sparsity=prune if sparsity is None else sparsity, seed=seed)
    if Path(spec).exists():
        raise WorkloadError(f"{spec}: workload files end in .npz (Matrix Market in .mtx, "
                            f"edge lists in .txt, .tsv, .edges or .el, each optionally .gz)")
    raise WorkloadError(f"unknown workload {spec!r}; expected {NAMES_HELP}")
