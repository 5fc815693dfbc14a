"""Ops and workloads: the one representation every model, testbench and sweep reads.

``Gemm`` computes ``C[M, N] = A[M, K] @ B[K, N]``.  ``B`` is the operand that carries
the sparsity format (the weight in ``fwd``/``bwd_data``/``prefill``/``decode``; the
activation in ``bwd_weight``, which is dense).  Its groups run along axis 0, the
reduction axis K, so the compressed arrays are what the PE array streams.

For a PyTorch/HF linear layer ``y = x @ W.T`` with ``W`` (out, in):
  fwd        A = X  (tokens x in),   B = W.T (in x out),  N:M along input channels
  bwd_data   A = dY (tokens x out),  B = W   (out x in),  N:M along output channels
  bwd_weight A = dY.T (out x tokens), B = X (tokens x in), dense
``source`` names the checkpoint tensor, ``source_axis`` the axis of that tensor along
which the groups run (1 = input channels for fwd, 0 = output channels for bwd_data).

Optional INT8 copies (``a_q``/``b_q``) with symmetric scales (``a_scale`` per row of
A, ``b_scale`` per column of B) feed the RTL path: C ~= a_scale[:,None] * (a_q @ b_q)
* b_scale[None,:].
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import Format, density

PHASES = ("fwd", "bwd_data", "bwd_weight", "prefill", "decode", "infer", "spgemm")
TRAINING_PHASES = ("fwd", "bwd_data", "bwd_weight")


@dataclass(eq=False)
class Gemm:
    name: str
    phase: str
    M: int
    K: int
    N: int
    b: Format                        # K x N operand with its sparsity format
    a: np.ndarray | None = None      # M x K float32, real activations when known
    a_bits: int = 16
    b_bits: int = 16
    a_q: np.ndarray | None = None    # int8 copy of A
    a_scale: np.ndarray | None = None
    b_q: Format | None = None        # same structure as b, int8 values
    b_scale: np.ndarray | None = None
    source: str = ""                 # checkpoint tensor the weight came from
    source_axis: int | None = None   # axis of that tensor along which N:M groups run
    repeat: int = 1                  # identical copies (e.g. the 32 layers of a shape preset)
    kind: str = field(default="gemm", init=False)

    def __post_init__(self):
        if self.phase not in PHASES:
            raise WorkloadError(f"op {self.name}: unknown phase {self.phase!r}")
        for dim, v in (("M", self.M), ("K", self.K), ("N", self.N)):
            if int(v) <= 0:
                raise WorkloadError(f"op {self.name}: {dim} must be positive, got {v}")
        if tuple(self.b.shape) != (self.K, self.N):
            raise WorkloadError(f"op {self.name}: B shape {tuple(self.b.shape)} != (K, N) = "
                                f"{(self.K, self.N)}")
        if self.a is not None and self.a.shape != (self.M, self.K):
            raise WorkloadError(f"op {self.name}: A shape {self.a.shape} != (M, K) = "
                                f"{(self.M, self.K)}")

    @property
    def format(self) -> str:
        return self.b.kind

    @property
    def density(self) -> float:
        return density(self.b)

    @property
    def macs(self) -> int:
        return self.M * self.K * self.N * self.repeat


@dataclass(eq=False)
class SpGemm:
    """C = A @ B with both operands CSR (``Unstructured``)."""

    name: str
    a: Format
    b: Format
    phase: str = "spgemm"
    kind: str = field(default="spgemm", init=False)

    def __post_init__(self):
        if self.a.kind != "unstructured" or self.b.kind != "unstructured":
            raise WorkloadError(f"op {self.name}: SpGEMM operands must be CSR (unstructured)")
        if self.a.shape[1] != self.b.shape[0]:
            raise WorkloadError(f"op {self.name}: inner dimensions differ: A is "
                                f"{self.a.shape[0]}x{self.a.shape[1]}, B is "
                                f"{self.b.shape[0]}x{self.b.shape[1]}")

    @property
    def M(self) -> int:
        return self.a.shape[0]

    @property
    def K(self) -> int:
        return self.a.shape[1]

    @property
    def N(self) -> int:
        return self.b.shape[1]

    @property
    def format(self) -> str:
        return "unstructured"

    @property
    def density(self) -> float:
        return density(self.b)


Op = Gemm | SpGemm


@dataclass(eq=False)
class Workload:
    name: str
    ops: list[Op]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        names = [op.name for op in self.ops]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise WorkloadError(f"workload {self.name}: duplicate op name {dup!r}")

    def op(self, name: str) -> Op:
        for op in self.ops:
            if op.name == name:
                return op
        known = ", ".join(o.name for o in self.ops[:6])
        raise WorkloadError(f"no op named {name!r} in workload {self.name} (e.g. {known}, ...)")

    def phases(self) -> set[str]:
        return {op.phase for op in self.ops}

    def summary(self) -> dict:
        """The `accel workload show --json` object."""
        return {
            "name": self.name,
            "provenance": self.provenance,
            "ops": [
                {"name": op.name, "phase": op.phase, "M": int(op.M), "K": int(op.K),
                 "N": int(op.N), "format": op.format, "density": float(op.density),
                 **({"repeat": op.repeat} if getattr(op, "repeat", 1) != 1 else {})}
                for op in self.ops
            ],
        }

    def content_id(self) -> str:
        """Stable hash of the ops' shapes, formats and arrays (keys sweep results)."""
        arrays, manifest = workload_arrays_and_manifest(self)
        h = hashlib.sha256()
        man = dict(manifest)
        man.pop("provenance", None)
        h.update(json.dumps(man, sort_keys=True).encode())
        for key in sorted(arrays):
            arr = np.ascontiguousarray(arrays[key])
            h.update(key.encode())
            h.update(str(arr.dtype).encode())
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
        return h.hexdigest()[:16]


# --- serialisation: the arrays and manifest of a workload -------------------------------
# Here rather than in ``io`` so that ``Workload.content_id`` hashes exactly what a file
# stores without ``ops`` importing ``io`` (``io`` imports ``ops``; no cycle).
# Schema history (of the file format ``io`` writes):
#   1  first version.
SCHEMA_VERSION = 1

_GEMM_SCALARS = ("name", "phase", "M", "K", "N", "a_bits", "b_bits", "source", "source_axis",
                 "repeat")
_GEMM_ARRAYS = ("a", "a_q", "a_scale", "b_scale")


def workload_arrays_and_manifest(w: Workload) -> tuple[dict[str, np.ndarray], dict]:
    arrays: dict[str, np.ndarray] = {}
    ops = []
    for i, op in enumerate(w.ops):
        p = f"op{i}"
        if isinstance(op, Gemm):
            entry = {"kind": "gemm", **{k: getattr(op, k) for k in _GEMM_SCALARS},
                     "b": op.b.meta(), "b_q": op.b_q.meta() if op.b_q is not None else None}
            for k in _GEMM_ARRAYS:
                v = getattr(op, k)
                if v is not None:
                    arrays[f"{p}.{k}"] = np.asarray(v)
            for k, v in op.b.arrays().items():
                arrays[f"{p}.b.{k}"] = v
            if op.b_q is not None:
                for k, v in op.b_q.arrays().items():
                    arrays[f"{p}.b_q.{k}"] = v
        elif isinstance(op, SpGemm):
            entry = {"kind": "spgemm", "name": op.name, "phase": op.phase,
                     "a": op.a.meta(), "b": op.b.meta()}
            for side in ("a", "b"):
                for k, v in getattr(op, side).arrays().items():
                    arrays[f"{p}.{side}.{k}"] = v
        else:  # pragma: no cover - Op is a closed union
            raise TypeError(type(op))
        ops.append(entry)
    manifest = {"schema_version": SCHEMA_VERSION, "name": w.name,
                "provenance": w.provenance, "ops": ops}
    return arrays, manifest
