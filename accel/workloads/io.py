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
from accel.workloads.formats import MAX_DIM, check_format, check_spgemm_work, format_from_arrays
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
    from accel.files import check_output_file

    path = Path(path)
    if path.suffix != ".npz":
        raise WorkloadError(f"workload files end in .npz, got {path}")
    check_output_file(path, "workload file", WorkloadError)
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


# Limits of what a workload file may ask this process to hold or simulate.  Checked
# against the zip directory and the .npy headers *before* anything is decompressed, so a
# zip bomb or a header claiming 10^12 elements costs nothing.
MAX_FILE_BYTES = 4 * 2**30     # the file itself
MAX_ARRAY_BYTES = 2 * 2**30    # all arrays, decompressed (MiniLM-L6 2:4 training: ~0.2 GB)
MAX_MEMBERS = 100_000          # arrays in one archive
MAX_OPS = 10_000               # ops in one workload (ResNet-50 training: ~160)
MAX_GEMM_DIM = 2**24           # M, K or N of one GEMM (OPT's vocabulary: 50272)
MAX_MACS = 2**50               # M*K*N*repeat of one op, ~1e15 (OPT-6.7B, 2048+2048: 4e12)
MAX_REPEAT = 2**20
_ALLOWED_KINDS = "biuf"        # bool, int, uint, float: no complex, object, string, void


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One .npy member: header checked against the zip's declared size and the dtype
    whitelist, then read without pickles."""
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, TypeError) as exc:
            raise WorkloadError(f"{path}: array {info.filename!r} has a bad .npy header "
                                f"({str(exc).splitlines()[0][:80]})") from None
        if dtype.hasobject or dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None:
            kind = "a pickled object" if dtype.hasobject else f"dtype {dtype}"
            raise WorkloadError(f"{path}: array {info.filename!r} holds {kind}; workload "
                                "arrays are real numbers (accel never loads pickles)")
        count = 1
        for d in shape:
            count *= int(d)
        if count * dtype.itemsize > info.file_size:
            raise WorkloadError(f"{path}: array {info.filename!r} claims {count * dtype.itemsize} "
                                f"bytes but the archive holds {info.file_size}")
        data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise WorkloadError(f"{path}: array {info.filename!r} is truncated")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    if fortran:
        return arr.reshape(shape[::-1]).T.copy()
    return arr.reshape(shape).copy()


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise WorkloadError(f"{path}: {len(infos)} arrays, more than the {MAX_MEMBERS} allowed")
            total = sum(i.file_size for i in infos)
            if total > MAX_ARRAY_BYTES:
                raise WorkloadError(f"{path}: arrays would take {total / 2**30:.3g} GiB in memory, "
                                    f"more than the {MAX_ARRAY_BYTES / 2**30:g} GiB limit")
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                name = info.filename
                if info.is_dir() or not name.endswith(".npy"):
                    raise WorkloadError(f"{path}: member {name[:80]!r} is not a .npy array")
                key = name[: -len(".npy")]
                if key in arrays:
                    raise WorkloadError(f"{path}: array {key[:80]!r} appears twice")
                arrays[key] = _read_member(zf, info, path)
            return arrays
    except WorkloadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError,
            ValueError, NotImplementedError, RuntimeError) as exc:  # zlib.error is an Exception
        raise WorkloadError(f"{path} is truncated or not a .npz archive ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - zlib.error and friends from a corrupt member
        raise WorkloadError(f"{path} is corrupt ({type(exc).__name__})") from None


def load(path: str | os.PathLike) -> Workload:
    """Read a workload file, checking it against its manifest before anything uses it."""
    from accel.files import check_input_file

    path = check_input_file(path, "workload file", MAX_FILE_BYTES, WorkloadError)
    arrays = _read_arrays(path)
    if MANIFEST_KEY not in arrays:
        raise WorkloadError(f"{path} has no {MANIFEST_KEY}: not an accel workload file")
    blob = arrays.pop(MANIFEST_KEY)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise WorkloadError(f"{path}: manifest must be UTF-8 JSON bytes")
    try:
        manifest = json.loads(blob.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError):
        raise WorkloadError(f"{path}: manifest is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise WorkloadError(f"{path}: manifest must be a JSON object, got {type(manifest).__name__}")
    version = manifest.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise WorkloadError(f"{path}: manifest has no integer schema_version")
    if version > SCHEMA_VERSION:
        raise WorkloadError(f"{path} has schema_version {version}, newer than this accel "
                            f"(reads up to {SCHEMA_VERSION}); upgrade accel")
    if version < 1:
        raise WorkloadError(f"{path}: schema_version {version} is not a known version")
    try:
        w = _from_manifest(manifest, arrays, path)
    except WorkloadError as exc:
        msg = str(exc)
        raise WorkloadError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise WorkloadError(f"{path}: manifest does not match its arrays "
                            f"({type(exc).__name__}: {str(exc)[:80]})") from None
    used = {k for k in arrays if any(k.startswith(f"op{i}.") for i in range(len(w.ops)))}
    extra = set(arrays) - used
    if extra:
        raise WorkloadError(f"{path}: array {sorted(extra)[0][:80]!r} is not described by the manifest")
    return w


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _int(where: str, v, low: int, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise WorkloadError(f"{where} must be an integer in {low}..{high}, got {str(v)[:40]}")
    return v


def _meta(where: str, meta) -> dict:
    if not isinstance(meta, dict):
        raise WorkloadError(f"{where} must be an object")
    shape = meta.get("shape")
    if not isinstance(shape, list) or len(shape) != 2:
        raise WorkloadError(f"{where}.shape must be [rows, cols]")
    for d in shape:
        _int(f"{where}.shape", d, 1, MAX_DIM)
    for k in ("n", "m", "axis", "block"):
        if k in meta:
            _int(f"{where}.{k}", meta[k], 0, 64)
    return meta


def _from_manifest(manifest: dict, arrays: dict[str, np.ndarray], path: Path | str = "") -> Workload:
    ops_raw = manifest.get("ops")
    if not isinstance(ops_raw, list) or not ops_raw:
        raise WorkloadError("manifest needs a non-empty list of ops")
    if len(ops_raw) > MAX_OPS:
        raise WorkloadError(f"manifest has {len(ops_raw)} ops, more than {MAX_OPS}")
    name = manifest.get("name")
    if not isinstance(name, str) or not name or len(name) > 200:
        raise WorkloadError("manifest name must be a non-empty string")
    prov = manifest.get("provenance", {})
    if not isinstance(prov, dict):
        raise WorkloadError("manifest provenance must be an object")
    ops = []
    for i, entry in enumerate(ops_raw):
        p = f"op{i}."
        where = f"op {i}"
        if not isinstance(entry, dict):
            raise WorkloadError(f"{where} must be an object")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise WorkloadError(f"{where} needs a name")
        where = f"op {entry['name'][:60]!r}"
        if entry.get("kind") == "gemm":
            for k in ("M", "K", "N"):
                _int(f"{where}: {k}", entry.get(k), 1, MAX_GEMM_DIM)
            _int(f"{where}: repeat", entry.get("repeat", 1), 1, MAX_REPEAT)
            for k in ("a_bits", "b_bits"):
                if k in entry:
                    _int(f"{where}: {k}", entry[k], 1, 64)
            macs = entry["M"] * entry["K"] * entry["N"] * entry.get("repeat", 1)
            if macs > MAX_MACS:
                raise WorkloadError(f"{where}: {macs:.3g} multiply-accumulates, more than the "
                                    f"limit {MAX_MACS:.3g} one op may simulate")
            for k in ("phase", "source"):
                if k in entry and not isinstance(entry[k], str):
                    raise WorkloadError(f"{where}: {k} must be a string")
            if entry.get("source_axis") not in (None, 0, 1):
                raise WorkloadError(f"{where}: source_axis must be 0, 1 or null")
            b = format_from_arrays(_meta(f"{where}: b", entry.get("b")), _sub(arrays, p + "b."))
            check_format(b, f"{where}: B")
            b_q = None
            if entry.get("b_q"):
                b_q = format_from_arrays(_meta(f"{where}: b_q", entry["b_q"]), _sub(arrays, p + "b_q."))
                check_format(b_q, f"{where}: B (int8)")
                if tuple(b_q.shape) != tuple(b.shape) or b_q.kind != b.kind:
                    raise WorkloadError(f"{where}: b_q must have B's shape and format")
            kw = {k: entry[k] for k in _GEMM_SCALARS if k in entry}
            kw.update({k: arrays.get(p + k) for k in _GEMM_ARRAYS})
            m, kk, n = entry["M"], entry["K"], entry["N"]
            for k, shape in (("a", (m, kk)), ("a_q", (m, kk)), ("a_scale", (m,)), ("b_scale", (n,))):
                arr = kw.get(k)
                if arr is not None:
                    if arr.dtype.kind not in "iuf" or tuple(arr.shape) != shape:
                        raise WorkloadError(f"{where}: {k} must be a real array of shape {shape}, "
                                            f"got {arr.dtype} {tuple(arr.shape)}")
                    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                        raise WorkloadError(f"{where}: {k} contains NaN or infinite values")
            ops.append(Gemm(b=b, b_q=b_q, **kw))
        elif entry.get("kind") == "spgemm":
            fa = format_from_arrays(_meta(f"{where}: a", entry.get("a")), _sub(arrays, p + "a."))
            fb = format_from_arrays(_meta(f"{where}: b", entry.get("b")), _sub(arrays, p + "b."))
            check_format(fa, f"{where}: A")
            check_format(fb, f"{where}: B")
            if fa.kind == fb.kind == "unstructured" and fa.shape[1] == fb.shape[0]:
                check_spgemm_work(fa, fb, where)
            if not isinstance(entry.get("phase", "spgemm"), str):
                raise WorkloadError(f"{where}: phase must be a string")
            ops.append(SpGemm(entry["name"], fa, fb, entry.get("phase", "spgemm")))
        else:
            raise WorkloadError(f"{where}: unknown op kind {str(entry.get('kind'))[:40]!r}")
    return Workload(name, ops, prov)
