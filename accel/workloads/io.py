"""Workload files: one ``.npz`` (read with ``allow_pickle=False``) holding every array and
a JSON manifest (``manifest.json`` stored as bytes inside the archive, so the file is
self-contained and cannot be separated from its description).

Schema history:
  1  first version.
A file with a newer ``schema_version`` than this code fails with a message naming both
versions; older versions are migrated on load.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

import accel
from accel.atomic_write import atomic_write
from accel.errors import WorkloadError
from accel.workloads.formats import format_from_arrays
from accel.workloads.ops import (  # noqa: F401 - SCHEMA_VERSION, workload_arrays_and_manifest re-exported
    _GEMM_ARRAYS,
    _GEMM_SCALARS,
    SCHEMA_VERSION,
    Gemm,
    SpGemm,
    Workload,
    workload_arrays_and_manifest,
)

MANIFEST_KEY = "manifest.json"


def save(w: Workload, path: str | os.PathLike, compress: bool = True) -> Path:
    """Write atomically: a failed save never leaves a damaged or partial file behind.

    ``compress=False`` stores the arrays uncompressed: float weights barely compress
    (MiniLM 2:4: 30 MB vs 41 MB) while zlib takes ~70x longer (6.8 s vs 0.1 s).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise WorkloadError(f"workload files end in .npz, got {path}")
    if not path.parent.exists():
        raise WorkloadError(f"output folder does not exist: {path.parent}")
    arrays, manifest = workload_arrays_and_manifest(w)
    manifest["provenance"] = {**w.provenance, "accel_version": accel.__version__}
    blob = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    writer = np.savez_compressed if compress else np.savez
    try:
        atomic_write(path, lambda tmp: writer(tmp, **{MANIFEST_KEY: blob}, **arrays),
                     suffix=".tmp.npz")
    except OSError as exc:
        raise WorkloadError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _sub(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    n = len(prefix)
    return {k[n:]: v for k, v in arrays.items() if k.startswith(prefix)}


def load(path: str | os.PathLike) -> Workload:
    path = Path(path)
    if not path.is_file():
        raise WorkloadError(f"workload file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise WorkloadError(f"{path} contains a pickled object; accel never loads pickles") from None
        raise WorkloadError(f"{path} is not a valid workload archive: {exc}") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise WorkloadError(f"{path} is truncated or not a .npz archive ({type(exc).__name__})") from None
    if MANIFEST_KEY not in arrays:
        raise WorkloadError(f"{path} has no {MANIFEST_KEY}: not an accel workload file")
    try:
        manifest = json.loads(arrays.pop(MANIFEST_KEY).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WorkloadError(f"{path}: manifest is not valid JSON") from None
    version = manifest.get("schema_version")
    if not isinstance(version, int):
        raise WorkloadError(f"{path}: manifest has no integer schema_version")
    if version > SCHEMA_VERSION:
        raise WorkloadError(f"{path} has schema_version {version}, newer than this accel "
                            f"(reads up to {SCHEMA_VERSION}); upgrade accel")
    try:
        return _from_manifest(manifest, arrays)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WorkloadError(f"{path}: manifest does not match its arrays ({exc})") from None


def _from_manifest(manifest: dict, arrays: dict[str, np.ndarray]) -> Workload:
    ops = []
    for i, entry in enumerate(manifest["ops"]):
        p = f"op{i}."
        if entry["kind"] == "gemm":
            b = format_from_arrays(entry["b"], _sub(arrays, p + "b."))
            b_q = (format_from_arrays(entry["b_q"], _sub(arrays, p + "b_q."))
                   if entry.get("b_q") else None)
            kw = {k: entry[k] for k in _GEMM_SCALARS if k in entry}
            kw.update({k: arrays.get(p + k) for k in _GEMM_ARRAYS})
            ops.append(Gemm(b=b, b_q=b_q, **kw))
        elif entry["kind"] == "spgemm":
            ops.append(SpGemm(entry["name"], format_from_arrays(entry["a"], _sub(arrays, p + "a.")),
                              format_from_arrays(entry["b"], _sub(arrays, p + "b.")),
                              entry.get("phase", "spgemm")))
        else:
            raise WorkloadError(f"unknown op kind {entry['kind']!r}")
    return Workload(manifest["name"], ops, manifest.get("provenance", {}))
