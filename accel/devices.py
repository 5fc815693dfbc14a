"""The device catalogue: the FPGA parts accel's machines target, with their resources.

YAML data (``accel/data/devices.yaml``, shipped inside the package) -> validator -> frozen
typed :class:`Device`, as ZigZag describes its hardware: the numbers live in one data file,
each with the vendor document it comes from beside it; this module only checks and serves
them.  A figure the catalogue does not have is absent (``Device.resources`` has no key for
it), never zero or a guess, so a fit check can say "not in the catalogue" instead of passing.

Public API (base layer: arch presets, hw, sweep and cli may all use it)::

    from accel import devices
    dev = devices.get("xcvu9p")                 # ConfigError listing the known names
    dev.resources["LUT"]                        # 1182240
    devices.utilisation(dev, {"LUT": 9e5, "DSP": 2048})   # {"LUT": 0.761..., "DSP": 0.299...}

Resource names are canonical (:data:`RESOURCES`); :func:`canonical` maps the spellings
other parts of accel use (``DSP48E2``, ``BRAM``, ``CARRY``, ``hw_lut``...) onto them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from accel.errors import ConfigError

DATA_FILE = Path(__file__).resolve().parent / "data" / "devices.yaml"

# canonical resource names, in the order reports list them
RESOURCES = ("LUT", "FF", "DSP", "BRAM36", "URAM", "CARRY8")
# other spellings -> canonical (resource models name primitives: DSP48E2, RAMB36, CARRY8)
ALIASES = {"LUTS": "LUT", "REGISTERS": "FF", "FFS": "FF", "DSP48E2": "DSP", "DSP58": "DSP",
           "DSPS": "DSP", "BRAM": "BRAM36", "RAMB36": "BRAM36", "RAMB36E2": "BRAM36",
           "URAM288": "URAM", "CARRY": "CARRY8"}
# capacity of one memory block (UltraScale+ and Versal alike: UG573 UltraScale Memory
# Resources, UG1273 Versal Design Guide "Programmable Logic"): 36 Kb block RAM, 288 Kb UltraRAM
BRAM36_KBITS = 36
URAM_KBITS = 288

_DEVICE_KEYS = ("part", "board", "family", "dsp_kind", "resources", "memory")
_MEMORY_KEYS = ("kind", "gbytes", "gbps", "channels", "source")


@dataclass(frozen=True)
class Memory:
    """An off-chip memory of the board (figures absent when not published: None)."""

    kind: str
    gbytes: float | None
    gbps: float | None
    channels: int | None
    source: str


@dataclass(frozen=True)
class Device:
    name: str                       # catalogue key, e.g. "xcvu9p"
    part: str                       # full part number
    board: str                      # the board the machines' presets use
    family: str
    dsp_kind: str                   # DSP48E2 (UltraScale+) or DSP58 (Versal)
    resources: Mapping[str, int] = field(default_factory=dict)   # canonical name -> count
    sources: Mapping[str, str] = field(default_factory=dict)     # canonical name -> document
    memory: tuple[Memory, ...] = ()

    def capacity(self, resource: str) -> int | None:
        """The count of ``resource`` (any spelling), None when the catalogue lacks it."""
        return self.resources.get(canonical(resource))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "part": self.part, "board": self.board,
                "family": self.family, "dsp_kind": self.dsp_kind,
                "resources": dict(self.resources), "sources": dict(self.sources),
                "missing": [r for r in RESOURCES if r not in self.resources],
                "memory": [vars(m).copy() for m in self.memory]}


def canonical(resource: str) -> str:
    """``resource`` as a canonical name: ``dsp48e2``, ``hw_dsp48e2``, ``BRAM`` -> DSP, DSP,
    BRAM36.  An unknown name is a ConfigError listing the known ones."""
    if not isinstance(resource, str):
        raise ConfigError(f"resource names are strings, got {resource!r}")
    key = resource.upper()
    key = key[3:] if key.startswith("HW_") else key
    key = ALIASES.get(key, key)
    if key not in RESOURCES:
        raise ConfigError(f"unknown resource {resource!r}; known: {', '.join(RESOURCES)}")
    return key


def resource_of(name: str) -> str | None:
    """The canonical resource ``name`` spells (as :func:`canonical`), or None when it is no
    resource (``register_bits``, ``fp16``): for scanning metric names."""
    try:
        return canonical(name)
    except ConfigError:
        return None


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _positive(where: str, value: Any, integer: bool) -> int | float | None:
    if value is None:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where} must be a positive {'integer' if integer else 'number'}, "
                          f"got {value!r}")
    return value


def _device(name: str, raw: Any) -> Device:
    where = f"{DATA_FILE.name}: {name}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping")
    for key in raw:
        if key not in _DEVICE_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r}")
    resources, sources = {}, {}
    res_raw = raw.get("resources") or {}
    if not isinstance(res_raw, dict):
        raise ConfigError(f"{where}.resources must be a mapping")
    for res, entry in res_raw.items():
        if res not in RESOURCES:   # the data file uses canonical names only
            raise ConfigError(f"{where}.resources: unknown resource {res!r}")
        if not isinstance(entry, dict) or set(entry) != {"count", "source"}:
            raise ConfigError(f"{where}.resources.{res} must be {{count: N, source: document}}")
        resources[res] = _positive(f"{where}.resources.{res}.count", entry["count"], True)
        sources[res] = _text(f"{where}.resources.{res}.source", entry["source"])
    memory = []
    for i, m in enumerate(raw.get("memory") or []):
        if not isinstance(m, dict) or not set(m) <= set(_MEMORY_KEYS):
            raise ConfigError(f"{where}.memory[{i}] must be a mapping of {', '.join(_MEMORY_KEYS)}")
        memory.append(Memory(_text(f"{where}.memory[{i}].kind", m.get("kind")),
                             _positive(f"{where}.memory[{i}].gbytes", m.get("gbytes"), False),
                             _positive(f"{where}.memory[{i}].gbps", m.get("gbps"), False),
                             _positive(f"{where}.memory[{i}].channels", m.get("channels"), True),
                             _text(f"{where}.memory[{i}].source", m.get("source"))))
    return Device(name=name, part=_text(f"{where}.part", raw.get("part")),
                  board=_text(f"{where}.board", raw.get("board")),
                  family=_text(f"{where}.family", raw.get("family")),
                  dsp_kind=_text(f"{where}.dsp_kind", raw.get("dsp_kind")),
                  resources=MappingProxyType(resources), sources=MappingProxyType(sources),
                  memory=tuple(memory))


@functools.lru_cache(maxsize=1)
def catalogue() -> Mapping[str, Device]:
    """Every device of the data file, validated once."""
    from accel import safe_yaml

    data = safe_yaml.load_file(DATA_FILE, "device catalogue")
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{DATA_FILE} must be a non-empty mapping of device name -> device")
    return MappingProxyType({str(k): _device(str(k), v) for k, v in data.items()})


def names() -> tuple[str, ...]:
    return tuple(catalogue())


def get(name: str) -> Device:
    """The device ``name`` (case-insensitive); unknown -> ConfigError listing the known."""
    cat = catalogue()
    key = name.lower() if isinstance(name, str) else name
    if key not in cat:
        raise ConfigError(f"unknown device {str(name)[:40]!r}; known: {', '.join(cat)}")
    return cat[key]


def check_name(name: Any, where: str = "device") -> str:
    """Validate a config's ``device`` field: a catalogue name exactly as listed (so one
    device has one spelling in configs and in sweep point keys), or ConfigError naming
    ``where`` and listing the known devices."""
    if not isinstance(name, str):
        raise ConfigError(f"{where} must be a device name, got {name!r}; known: {', '.join(names())}")
    if name not in catalogue():
        raise ConfigError(f"{where}: unknown device {name[:40]!r}; known: {', '.join(names())}")
    return name


def utilisation(device: Device | str, used: Mapping[str, float]) -> dict[str, float]:
    """Fraction of ``device`` each resource of ``used`` takes (canonical names; any
    spelling :func:`canonical` knows is accepted).  Resources the catalogue has no count
    for are left out: a caller that must check them sees they are missing."""
    dev = get(device) if isinstance(device, str) else device
    out: dict[str, float] = {}
    for res, amount in used.items():
        key = canonical(res)
        cap = dev.resources.get(key)
        if cap is not None:
            out[key] = out.get(key, 0.0) + float(amount) / cap
    return out
