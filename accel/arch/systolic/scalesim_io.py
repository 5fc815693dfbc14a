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

Every problem raises ``ConfigError``/``WorkloadError`` with one line naming file, line and value:
numbers are ASCII digits only (``str.isdigit`` also passes ``²``, which ``int`` refuses), every
parser exception (configparser's, a value ``int`` cannot take) becomes that one line, and the
input's size bounds the work it implies before any is done: a file of at most
``MAX_INPUT_BYTES``, a topology of at most ``MAX_TOPOLOGY_LAYERS`` rows (checked before a row
is parsed), each check linear in the rows (the model bounds the folds it walks in total).
"""

from __future__ import annotations

import configparser
import math
import re
from pathlib import Path

from accel.arch.systolic.config import DATAFLOWS, MAX_ARRAY_SIDE, SystolicConfig
from accel.errors import ConfigError, WorkloadError
from accel.files import check_input_file
from accel.workloads.formats import NM, Dense
from accel.workloads.io import MAX_OPS
from accel.workloads.nm import parse_nm
from accel.workloads.ops import Gemm, Workload

MAX_DIM = 1 << 24          # per GEMM dimension; bounds the fold walk and any allocation
GEMM_FIELDS = (4, 5)       # Layer, M, N, K[, Sparsity]
CONV_FIELDS = (8, 9)       # Layer, IH, IW, FH, FW, C, NF, Stride[, Sparsity]
# A topology is one op per row: at most as many as a saved workload may hold.  SCALE-Sim's
# own topologies have tens of rows (ResNet-50: 54), so 10^4 refuses only a generated file.
MAX_TOPOLOGY_LAYERS = MAX_OPS
MAX_INPUT_BYTES = 16 * 2**20   # scale.cfg is ~1 KB and a 10^4-row topology ~0.5 MB
_WHOLE = re.compile(r"[0-9]{1,18}")   # ASCII digits only, short enough for int() to be cheap


def _regular_file(path: str | Path, what: str) -> Path:
    return check_input_file(path, what, MAX_INPUT_BYTES, ConfigError)


def _get(cp: configparser.ConfigParser, path: Path, section: str, key: str) -> str:
    if not cp.has_section(section):
        raise ConfigError(f"{path}: missing section [{section}]")
    if not cp.has_option(section, key):
        raise ConfigError(f"{path}: missing key {key!r} in [{section}]")
    try:
        return cp.get(section, key).strip()
    except configparser.Error as exc:   # none with interpolation=None; kept as the net
        raise ConfigError(f"{path}: [{section}] {key}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


def _bool(text: str, path: Path, key: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    raise ConfigError(f"{path}: {key} must be true or false, got {text!r}")


def read_scale_cfg(path: str | Path) -> SystolicConfig:
    """The ``SystolicConfig`` a SCALE-Sim ``scale.cfg`` describes (module docstring)."""
    p = _regular_file(path, "scale.cfg")
    # No interpolation: a value is the text written ('ws%' is a bad dataflow named as such,
    # not an InterpolationSyntaxError); SCALE-Sim's keys never use %(name)s.
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(p.read_bytes().decode("utf-8"), source=str(p))
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"malformed scale.cfg {p}: {_first_line(exc)}") from None
    dims = {}
    for key in ("ArrayHeight", "ArrayWidth"):
        raw = _get(cp, p, "architecture_presets", key)
        if not _WHOLE.fullmatch(raw) or not 1 <= int(raw) <= MAX_ARRAY_SIDE:
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
    if not _WHOLE.fullmatch(t) or not low <= int(t) <= MAX_DIM:
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
        lines = p.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise WorkloadError(f"{p}: not a text file") from None
    except OSError as exc:
        raise WorkloadError(f"cannot read topology file {p}: {exc.strerror or exc}") from None
    rows = sum(1 for raw in lines[1:] if raw.strip())
    if rows > MAX_TOPOLOGY_LAYERS:   # before any row is parsed: the work is linear in rows
        raise WorkloadError(f"{p}: {rows} layers, more than MAX_TOPOLOGY_LAYERS = "
                            f"{MAX_TOPOLOGY_LAYERS}")
    ops: list[Gemm] = []
    first_line: dict[str, int] = {}      # layer name -> its line: duplicates found in O(rows)
    kind = None
    for lineno, raw in enumerate(lines[1:], start=2):     # line 1 is the header
        row = raw.strip()
        if not row:
            continue
        where = f"{p}:{lineno}"
        try:
            op, this = _topology_row(row, where, kind)
        except (ValueError, OverflowError) as exc:   # a field a parser let through, refused late
            raise WorkloadError(f"{where}: {_first_line(exc)}") from None
        kind = this
        if op.name in first_line:
            raise WorkloadError(f"{where}: duplicate layer name {op.name!r} "
                                f"(first on line {first_line[op.name]})")
        first_line[op.name] = lineno
        ops.append(op)
    if not ops:
        raise WorkloadError(f"{p}: no layers (line 1 is the header, rows follow)")
    return Workload(name=name or p.stem, ops=ops,
                    provenance={"source": str(p.resolve()), "format": f"scalesim-{kind}-topology"})


def _topology_row(row: str, where: str, kind: str | None) -> tuple[Gemm, str]:
    """One topology row as its op, and the row's form ("gemm" or "conv")."""
    if not row.endswith(","):
        raise WorkloadError(f"{where}: row must end with a comma (SCALE-Sim drops the last "
                            f"field of every row), got {row[:80]!r}")
    elems = row.split(",")[:-1]
    this = "gemm" if len(elems) in GEMM_FIELDS else "conv" if len(elems) in CONV_FIELDS else None
    if this is None:
        raise WorkloadError(f"{where}: expected {GEMM_FIELDS[0]}-{GEMM_FIELDS[1]} fields "
                            f"(Layer, M, N, K, Sparsity) or {CONV_FIELDS[0]}-{CONV_FIELDS[1]} "
                            f"(Layer, IFMAP H, IFMAP W, Filter H, Filter W, Channels, "
                            f"Num Filter, Stride, Sparsity), got {len(elems)}")
    if kind is not None and this != kind:
        raise WorkloadError(f"{where}: {this} row in a {kind} topology")
    layer = elems[0].strip()
    if not layer:
        raise WorkloadError(f"{where}: empty layer name")
    odd = next((t.strip() for t in elems[1:] if not t.isascii()), None)
    if odd is not None:   # before any field parser: int() would read '٣' as 3
        raise WorkloadError(f"{where}: {odd[:20]!r} is not written in ASCII digits")
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
    return Gemm(name=layer, phase="infer", M=m, K=k, N=n, b=_operand(k, n, nm),
                repeat=repeat), this


# The workload knobs (accel.workloads.builtin.resolve) a topology ignores: its rows fix every
# shape and carry their own sparsity, and it has no activations, training step, batch or
# seed.  Setting one is refused rather than recorded as the label of a result it did not
# change (a sweep of prune: [dense, "2:4"] would give one result under two labels).
TOPOLOGY_IGNORES = ("prune", "training", "seq_len", "batch", "seed")


def _is_topology(spec) -> bool:
    return str(spec).strip().lower().endswith(".csv")


def ignored_knobs(spec: str) -> tuple[str, ...]:
    """The workload knobs that have no effect on workload ``spec`` (the sweep refuses a
    parameter of these names, whatever its values)."""
    return TOPOLOGY_IGNORES if _is_topology(spec) else ()


def refuse_ignored_knobs(topology: str, **knobs) -> None:
    """Refuse a workload knob set to anything but the resolver's default for a topology
    (``TOPOLOGY_IGNORES``): it would not change the result it labels."""
    import inspect

    from accel.workloads.builtin import resolve

    defaults = {k: v.default for k, v in inspect.signature(resolve).parameters.items()}
    for knob, value in knobs.items():
        if knob in TOPOLOGY_IGNORES and value is not None and value != defaults.get(knob):
            raise WorkloadError(f"{knob} = {str(value)[:40]!r} has no effect on the SCALE-Sim "
                                f"topology {str(topology).strip()} (its rows carry their own shapes "
                                f"and sparsity); leave {knob} unset")


def workload_source(spec: str, **knobs) -> Workload | None:
    """The registry's machine-only workload names: a ``.csv`` is a SCALE-Sim topology (its
    rows carry their own sparsity, so workload knobs such as ``prune`` do not apply: one
    set to anything but the resolver's default is refused); anything else falls through
    to ``accel.workloads.builtin.resolve``."""
    if not _is_topology(spec):
        return None
    refuse_ignored_knobs(spec, **knobs)
    return read_topology(str(spec).strip())
