"""Makers of hostile files: each returns a callable(path) writing one damaged or
malicious input.  Written the way an attacker would: small files that *claim* a lot,
files of the wrong kind, and valid-looking files with one wrong field."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np


# --- .npz workload files --------------------------------------------------------------------
def _csr(n: int = 4):
    return {"indptr": np.arange(n + 1, dtype=np.int64), "indices": np.arange(n, dtype=np.int32),
            "data": np.ones(n)}


def spgemm_manifest(shape=(4, 4), **op) -> dict:
    entry = {"kind": "spgemm", "name": "A*A", "phase": "spgemm",
             "a": {"kind": "unstructured", "shape": list(shape)},
             "b": {"kind": "unstructured", "shape": list(shape)}, **op}
    return {"schema_version": 1, "name": "x", "provenance": {}, "ops": [entry]}


def spgemm_arrays(**override) -> dict:
    arrays = {}
    for side in ("a", "b"):
        for k, v in _csr().items():
            arrays[f"op0.{side}.{k}"] = v
    arrays.update(override)
    return arrays


def gemm_manifest(M=4, K=8, N=2, b=None, **op) -> dict:
    entry = {"kind": "gemm", "name": "fc", "phase": "fwd", "M": M, "K": K, "N": N,
             "a_bits": 16, "b_bits": 16, "source": "", "source_axis": None, "repeat": 1,
             "b": b or {"kind": "nm", "shape": [K, N], "n": 2, "m": 4, "axis": 0}, "b_q": None,
             **op}
    return {"schema_version": 1, "name": "g", "provenance": {}, "ops": [entry]}


def gemm_arrays(**override) -> dict:
    idx = np.tile(np.array([[0], [2]], dtype=np.uint8), (2, 2))   # groups of 4, keep 0 and 2
    arrays = {"op0.b.values": np.arange(8, dtype=np.float32).reshape(4, 2) + 1,
              "op0.b.indices": idx,
              "op0.a": np.ones((4, 8), dtype=np.float32)}
    arrays.update(override)
    return {k: v for k, v in arrays.items() if v is not None}


def npz(manifest=None, arrays=None, raw_manifest: bytes | None = None, manifest_array=None):
    def make(p: Path):
        d = {}
        if manifest_array is not None:
            d["manifest.json"] = manifest_array
        elif raw_manifest is not None or manifest is not None:
            blob = raw_manifest if raw_manifest is not None else json.dumps(manifest).encode()
            d["manifest.json"] = np.frombuffer(blob, dtype=np.uint8)
        d.update(arrays or {})
        with open(p, "wb") as f:
            np.savez(f, **d)
    return make


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def lying_header_npz(shape=(10**12,)):
    """A 1-member archive whose .npy header claims ``shape`` float64 (8 TB) over 8 bytes."""
    def make(p: Path):
        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, header)
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("manifest.json.npy", npy_bytes(np.frombuffer(
                json.dumps(spgemm_manifest()).encode(), dtype=np.uint8)))
            z.writestr("op0.a.data.npy", buf.getvalue() + b"\0" * 8)
    return make


def declared_bomb_npz():
    """A zip directory declaring a 16 GiB member (what a real zip bomb declares); the
    bytes behind it are a few KB, so the test costs nothing if accel believes the size."""
    def make(p: Path):
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json.npy", npy_bytes(np.frombuffer(
                json.dumps(spgemm_manifest()).encode(), dtype=np.uint8)))
            z.writestr("op0.a.data.npy", npy_bytes(np.zeros(1000)))
        data = bytearray(p.read_bytes())
        # patch the uncompressed size of the second member in the central directory
        cd = data.rfind(b"PK\x01\x02")
        struct.pack_into("<I", data, cd + 24, 0xFFFFFFF0)
        p.write_bytes(bytes(data))
    return make


def real_zip_bomb(member_bytes: int = 3 * 2**30):
    """A genuine deflate bomb: ``member_bytes`` of zeros (the .npy header says so too)
    compressed to a few MB.  Slow to build (~10 s): used by the slow memory test."""
    def make(p: Path):
        count = member_bytes // 8
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (count,)})
        with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            z.writestr("manifest.json.npy", npy_bytes(np.frombuffer(
                json.dumps(spgemm_manifest()).encode(), dtype=np.uint8)))
            with z.open("op0.a.data.npy", "w", force_zip64=True) as f:
                f.write(header.getvalue())
                chunk = bytes(2**24)
                left = count * 8
                while left > 0:
                    f.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
    return make


def pickled_npz():
    def make(p: Path):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("manifest.json.npy", npy_bytes(np.array([{"x": 1}], dtype=object)))
    return make


def pickle_file():
    def make(p: Path):
        p.write_bytes(pickle.dumps({"ops": []}))
    return make


def random_bytes(n=4096, seed=0):
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def truncated(assets_file: Path, keep: int = 200):
    def make(p: Path):
        p.write_bytes(assets_file.read_bytes()[:keep])
    return make


def fifo():
    def make(p: Path):
        os.mkfifo(p)
    return make


def directory():
    def make(p: Path):
        p.mkdir()
    return make


# --- Matrix Market --------------------------------------------------------------------------
def mtx(header: str, body: str = "", banner="%%MatrixMarket matrix coordinate real general"):
    return f"{banner}\n{header}\n{body}"


# --- YAML -----------------------------------------------------------------------------------
def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_yaml(depth: int = 5000) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


def spec_yaml(**fields) -> str:
    base = {"name": "h", "machine": "piuma", "base": "piuma", "workloads": ["rmat:4"],
            "parameters": {"threads_per_pipeline": [4, 8]}}
    base.update(fields)
    base = {k: v for k, v in base.items() if v is not None}
    return json.dumps(base)  # JSON is YAML; exact values (1e12 stays a float) survive


# --- safetensors ----------------------------------------------------------------------------
def safetensors(header: dict | bytes, data: bytes = b"", hlen: int | None = None):
    def make(p: Path):
        blob = header if isinstance(header, bytes) else json.dumps(header).encode()
        n = len(blob) if hlen is None else hlen
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(struct.pack("<Q", n) + blob + data)
    return make
