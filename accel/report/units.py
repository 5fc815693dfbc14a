"""Units and number formatting for report axes, tables and sentences: the one table.

A metric's unit comes from the machine's own ``UNITS`` table when it has one (spelt the
report's way: ``B`` and ``bytes`` are bytes, ``x`` is ×), else from its name read as words
(``tokens_per_j`` is tokens per joule, ``energy_j`` is joules, ``dram_bytes`` is bytes),
never from a substring: the old regex read the ``_j`` of ``tokens_per_j`` as joules.
Tables show numbers with thousands separators and no scientific notation; large byte
counts are shown in MB or GB.

:class:`SectionUnits` fixes one unit and one scale per metric for a whole report section
(from every design's value), so a figure's axis, the table's header and the sentences
read the same (``[MB]``, ``[MB]``, "MB"; ``[PEs]`` everywhere), never ``[MB]`` in one
place and ``[B]`` or "bytes" in the next.
"""

from __future__ import annotations

import math

# whole-word unit of a metric's last word(s)
_LAST_WORD = {
    "cycles": "cycles", "bytes": "bytes", "s": "s", "seconds": "s", "ms": "ms", "us": "µs",
    "j": "J", "w": "W", "gbps": "GB/s", "gops": "GOP/s", "gflops": "GFLOP/s",
    "lut": "LUTs", "ff": "flip-flops", "carry": "CARRY4 cells", "dsp48e2": "DSP slices",
    "dsp": "DSP slices", "bram": "BRAM tiles", "bits": "bits", "probes": "probes",
    "collisions": "collisions", "spills": "spills", "atomics": "atomic ops",
    "products": "products", "macs": "MACs", "intensity": "ops/byte", "pes": "PEs",
}
# how machines' UNITS tables spell a unit -> how the report spells it
_ALIASES = {"B": "bytes", "x": "×", "MAC": "MACs", "-": "", "bool": "1 = yes"}
_PER = {"s": "s", "j": "J", "w": "W", "cycle": "cycle"}
_FRACTION_WORDS = ("utilization", "utilisation", "util", "rate", "efficiency")
_RATIO_WORDS = ("speedup", "ratio", "vs", "imbalance", "reduction", "ceiling")
_EXACT = {"correct": "1 = matches SciPy", "decode_tokens_per_s": "tokens/s",
          "end_to_end_tokens_per_s": "tokens/s", "weight_bytes": "bytes"}


def metric_unit(name: str) -> str:
    """The unit of a metric, from its name read as words; '' when it has none."""
    low = name.lower()
    if low in _EXACT:
        return _EXACT[low]
    words = low.split("_")
    if len(words) >= 3 and words[-2] == "per" and words[-1] in _PER:
        what = words[-3]
        return f"{what}/{_PER[words[-1]]}"
    if any(w in _RATIO_WORDS for w in words):
        return "×"
    if words[-1] in _FRACTION_WORDS:
        return "fraction"
    if words[-1] in _LAST_WORD:
        return _LAST_WORD[words[-1]]
    return ""


def metric_label(name: str, scale_unit: str | None = None) -> str:
    """``name [unit]``; a metric without a unit is a count (``[-]``)."""
    unit = scale_unit or metric_unit(name) or "-"
    return f"{name} [{unit}]"


def display_scale(name: str, values, unit: str | None = None) -> tuple[float, str]:
    """(divisor, unit) for showing a metric: bytes as MB / GB when they are large."""
    unit = metric_unit(name) if unit is None else unit
    try:
        big = max(abs(float(v)) for v in values if v == v)
    except ValueError:
        big = 0.0
    if unit == "bytes" and big >= 1e9:
        return 1e9, "GB"
    if unit == "bytes" and big >= 1e6:
        return 1e6, "MB"
    return 1.0, unit


def fmt_num(v, digits: int = 4) -> str:
    """A number for people: thousands separators, about ``digits`` significant digits,
    never scientific notation; integers stay integers."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == int(x) and abs(x) >= 1:
        return f"{int(x):,}"
    ax = abs(x)
    if ax >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    if ax == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(ax))))
    return f"{x:,.{min(decimals, 6)}f}"


def fmt_value(name: str, v, scale: float = 1.0) -> str:
    return fmt_num(float(v) / scale if scale != 1.0 and v is not None else v)


def fmt_with_unit(name: str, v) -> str:
    """``1,165,432 cycles``, ``371.7 MB``, ``7.85 tokens/J``, ``1.41×``."""
    scale, unit = display_scale(name, [v])
    text = fmt_value(name, v, scale)
    if unit == "×":
        return f"{text}×"
    return f"{text} {unit}" if unit and unit != "fraction" else text


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 design``, ``2 designs``, with thousands separators."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


class SectionUnits:
    """One unit and one scale per metric for a report section: the machine's table
    first (``table``: metric or glob -> unit, as ``accel.arch.registry.unit_of`` reads it),
    else the metric's name; the scale (bytes as MB/GB) from every value in ``frame``."""

    def __init__(self, frame=None, lookup=None):
        self._frame = frame
        self._lookup = lookup or (lambda metric: None)
        self._cache: dict[str, tuple[float, str]] = {}

    def unit(self, name: str) -> str:
        declared = self._lookup(name)
        if declared is None:
            return metric_unit(name)
        return _ALIASES.get(declared, declared)

    def scale(self, name: str, values=None) -> tuple[float, str]:
        """(divisor, shown unit) of ``name`` in this section."""
        if name not in self._cache:
            col = f"metric.{name}"
            if self._frame is not None and col in getattr(self._frame, "columns", ()):
                vals = list(self._frame[col].dropna())
            else:
                vals = list(values) if values is not None else []
            self._cache[name] = display_scale(name, vals or [0.0], self.unit(name))
        return self._cache[name]

    def label(self, name: str, values=None) -> str:
        """``name [unit]``, ``[-]`` for a count without a unit."""
        return f"{name} [{self.scale(name, values)[1] or '-'}]"

    def value(self, name: str, v) -> str:
        """The number alone, in this section's scale (table cells)."""
        return fmt_value(name, v, self.scale(name)[0])

    def text(self, name: str, v) -> str:
        """The number with its unit, in this section's scale (sentences, figure text)."""
        scale, unit = self.scale(name)
        t = fmt_value(name, v, scale)
        if unit == "×":
            return f"{t}×"
        return f"{t} {unit}" if unit and not unit.startswith(("fraction", "1 = ")) else t
