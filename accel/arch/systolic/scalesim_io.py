"""Read SCALE-Sim's own inputs: ``scale.cfg`` and topology CSVs, into accel objects.

* :func:`read_scale_cfg` -- the ``[architecture_presets]``, ``[sparsity]`` and
  ``[run_presets]`` keys that decide SCALE-Sim's compute cycles, as a ``SystolicConfig``.
  SRAM sizes, offsets, bandwidths and layout keys only matter to SCALE-Sim's memory model
  (which adds nothing in CALC mode) and are read no further.  What accel does not model is
  refused with one line: ``InterfaceBandwidth: USER`` (its stalls) and
  ``OptimizedMapping: true`` (random per-column N).
* :func:`read_topology` -- a GEMM topology (``Layer, M, N, K, Sparsity,``) or a
  convolution topology (``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter
  Width, Channels, Num Filter, Strides, Sparsity,``), as a ``Workload`` of metadata-only
  ``Gemm`` ops (dense, or N:M with groups along K).  As in SCALE-Sim the first line is a
  header, every row ends with a comma, a missing sparsity means dense, and a convolution
  becomes the GEMM M = output pixels, K = filter height x width x channels, N = filters.
  A layer whose name contains ``DP`` is depthwise: SCALE-Sim runs one single-channel layer
  per channel, here one op repeated ``Channels`` times.

Every problem raises ``ConfigError``/``WorkloadError`` with one line naming file, line and value.
"""

from __future__ import annotations

import configparser
import math
from pathlib import Path

from accel.arch.systolic.config import DATAFLOWS, MAX_ARRAY_SIDE, SystolicConfig
from accel.errors import ConfigError, WorkloadError
from accel.workloads.formats import NM, Dense
from accel.workloads.nm import parse_nm
from accel.workloads.ops import Gemm, Workload

MAX_DIM = 1 << 24          # per GEMM dimension; bounds the fold walk and any allocation
GEMM_FIELDS = (4, 5)       # Layer, M, N, K[, Sparsity]
CONV_FIELDS = (8, 9)       # Layer, IH, IW, FH, FW, C, NF, Stride[, Sparsity]


def _regular_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found or not a regular file: {path}")
    return p


def _get(cp: configparser.ConfigParser, path: Path, section: str, key: str) -> str:
    if not cp.has_section(section):
        raise ConfigError(f"{path}: missing section [{section}]")
    if not cp.has_option(section, key):
        raise ConfigError(f"{path}: missing key {key!r} in [{section}]")
    return cp.get(section, key).strip()


def _bool(text: str, path: Path, key: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    raise ConfigError(f"{path}: {key} must be true or false, got {text!r}")


def read_scale_cfg(path: str | Path) -> SystolicConfig:
    """The ``SystolicConfig`` a SCALE-Sim ``scale.cfg`` describes (module docstring)."""
    p = _regular_file(path, "scale.cfg")
    cp = configparser.ConfigParser()
    try:
        cp.read_string(p.read_text(), source=str(p))
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"malformed scale.cfg {p}: {first}") from None
    dims = {}
    for key in ("ArrayHeight", "ArrayWidth"):
        raw = _get(cp, p, "architecture_presets", key)
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ARRAY_SIDE:
            raise ConfigError(f"{p}: {key} must be a whole number in 1..{MAX_ARRAY_SIDE}, got {raw!r}")
        dims[key] = int(raw)
    df = _get(cp, p, "architecture_presets", "Dataflow").lower()
    if df not in DATAFLOWS:
        raise ConfigError(f"{p}: Dataflow must be one of {', '.join(DATAFLOWS)}, got {df!r}")
    bw = _get(cp, p, "run_presets", "InterfaceBandwidth")
    if bw != "CALC":
        raise ConfigError(f"{p}: InterfaceBandwidth {bw!r} is not modelled; accel reproduces "
                          f"SCALE-Sim's CALC mode (compute cycles without memory stalls)")
    sparse = _bool(_get(cp, p, "sparsity", "SparsitySupport"), p, "SparsitySupport")
    if sparse and _bool(_get(cp, p, "sparsity", "OptimizedMapping"), p, "OptimizedMapping"):
        raise ConfigError(f"{p}: OptimizedMapping true (random N per column) is not modelled; "
                          f"set it to false")
    cfg = SystolicConfig(array_rows=dims["ArrayHeight"], array_cols=dims["ArrayWidth"],
                         dataflow=df, sparsity_support=sparse)
    cfg.validate()
    return cfg


def _int(tok: str, what: str, where: str, low: int = 1) -> int:
    t = tok.strip()
    if not t.isdigit() or not low <= int(t) <= MAX_DIM:
        raise WorkloadError(f"{where}: {what} must be a whole number in {low}..{MAX_DIM}, got {t!r}")
    return int(t)


def _sparsity(tok: str, where: str) -> tuple[int, int]:
    return parse_nm(tok, f"{where}: sparsity", max_m=1024, example="2:4")


def _operand(k: int, n_cols: int, nm: tuple[int, int]):
    n, m = nm
    if n == m:
        return Dense((k, n_cols))
    return NM((k, n_cols), n, m, axis=0)


def read_topology(path: str | Path, name: str | None = None) -> Workload:
    """The workload of a SCALE-Sim topology CSV, GEMM or convolution form (module docstring)."""
    p = _regular_file(path, "topology file")
    try:
        lines = p.read_text().splitlines()
    except UnicodeDecodeError:
        raise WorkloadError(f"{p}: not a text file") from None
    ops: list[Gemm] = []
    kind = None
    for lineno, raw in enumerate(lines[1:], start=2):     # line 1 is the header
        row = raw.strip()
        if not row:
            continue
        where = f"{p}:{lineno}"
        if not row.endswith(","):
            raise WorkloadError(f"{where}: row must end with a comma (SCALE-Sim drops the last "
                                f"field of every row), got {row!r}")
        elems = row.split(",")[:-1]
        this = "gemm" if len(elems) in GEMM_FIELDS else "conv" if len(elems) in CONV_FIELDS else None
        if this is None:
            raise WorkloadError(f"{where}: expected {GEMM_FIELDS[0]}-{GEMM_FIELDS[1]} fields "
                                f"(Layer, M, N, K, Sparsity) or {CONV_FIELDS[0]}-{CONV_FIELDS[1]} "
                                f"(Layer, IFMAP H, IFMAP W, Filter H, Filter W, Channels, "
                                f"Num Filter, Stride, Sparsity), got {len(elems)}")
        if kind is not None and this != kind:
            raise WorkloadError(f"{where}: {this} row in a {kind} topology")
        kind = this
        layer = elems[0].strip()
        if not layer:
            raise WorkloadError(f"{where}: empty layer name")
        sparsity_tok = elems[GEMM_FIELDS[1] - 1 if this == "gemm" else CONV_FIELDS[1] - 1] \
            if len(elems) in (GEMM_FIELDS[1], CONV_FIELDS[1]) else "1:1"
        nm = _sparsity(sparsity_tok, where)
        repeat = 1
        if this == "gemm":
            m = _int(elems[1], "M", where)
            n = _int(elems[2], "N", where)
            k = _int(elems[3], "K", where)
        else:
            ih, iw, fh, fw, ch, nf, stride = (
                _int(elems[i], what, where) for i, what in enumerate(
                    ("IFMAP height", "IFMAP width", "filter height", "filter width",
                     "channels", "filters", "stride"), start=1))
            if fh > ih or fw > iw:
                raise WorkloadError(f"{where}: filter {fh}x{fw} larger than IFMAP {ih}x{iw}")
            oh = math.ceil((ih - fh + stride) / stride)
            ow = math.ceil((iw - fw + stride) / stride)
            if "DP" in layer:   # SCALE-Sim: one single-channel layer per channel
                repeat, ch = ch, 1
            m, k, n = oh * ow, fh * fw * ch, nf
            if max(m, k) > MAX_DIM:
                raise WorkloadError(f"{where}: GEMM of {m} x {k} exceeds {MAX_DIM} per dimension")
        ops.append(Gemm(name=layer, phase="infer", M=m, K=k, N=n, b=_operand(k, n, nm),
                        repeat=repeat))
    if not ops:
        raise WorkloadError(f"{p}: no layers (line 1 is the header, rows follow)")
    if len({o.name for o in ops}) != len(ops):
        dup = next(o.name for o in ops if sum(x.name == o.name for x in ops) > 1)
        raise WorkloadError(f"{p}: duplicate layer name {dup!r}")
    return Workload(name=name or p.stem, ops=ops,
                    provenance={"source": str(p.resolve()), "format": f"scalesim-{kind}-topology"})


def workload_source(spec: str, **knobs) -> Workload | None:
    """The registry's machine-only workload names: a ``.csv`` is a SCALE-Sim topology (its
    rows carry their own sparsity, so workload knobs such as ``prune`` do not apply);
    anything else falls through to ``accel.workloads.builtin.resolve``."""
    if str(spec).strip().lower().endswith(".csv"):
        return read_topology(str(spec).strip())
    return None
