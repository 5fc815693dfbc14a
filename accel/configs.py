"""YAML -> validator -> typed config, shared by every machine model and the sweeps.

A machine's parameters are a frozen dataclass.  Users pick a named preset, or a YAML
file (optionally ``base: <preset>`` plus overrides), then apply ``--set key=value``
overrides.  Every key is checked against the dataclass fields, so a misspelt key is an
error naming the key, never silently ignored.  Values are coerced to the field's
declared type; the dataclass's own ``validate()`` then checks ranges.

Unlike ZigZag's kwargs bags, nothing untyped ever reaches a model.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import typing
from pathlib import Path
from typing import Any, TypeVar

from accel import safe_yaml
from accel.errors import ConfigError

T = TypeVar("T")


def yaml_load(text: str | bytes, where: str = "YAML"):
    """Parse YAML with the bounded safe loader (:mod:`accel.safe_yaml`)."""
    return safe_yaml.loads(text, where)


# Bounds every numeric config field obeys whatever its machine's own validate() says.
# They are what keeps a typo from becoming an hour-long or out-of-memory simulation:
# the models size arrays and loops by these fields, so a value far beyond the preset
# it overrides is refused up front (the message names the limit).
MAX_INT_FIELD = 2**31 - 1   # counts, sizes and cycles are int32/int64 in the kernels
MAX_SCALE = 1024            # an override may be at most 1024x (or 1/1024 of) its preset value
MAX_STR_FIELD = 200         # names and patterns; longer is not a config value


MAX_SEED = 2**63 - 1       # NumPy's default_rng takes seeds in 0..2^63-1 (and more, but no less)


def check_number(name: str, value: Any, label: str | None = None) -> None:
    """The one rule for a number a user hands accel outside a config (a CLI flag, a
    sweep's workload knob): finite; integers within MAX_INT_FIELD; seeds in 0..2^63-1.
    Lists are checked element by element; other types pass (their own parser decides)."""
    label = label or name
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, list | tuple):
        for v in value:
            check_number(name, v, label)
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number, got {value}")
    if isinstance(value, int):
        if name == "seed" or name.endswith("_seed"):
            if not 0 <= value <= MAX_SEED:
                raise ConfigError(f"{label} must be an integer in 0..2^63-1, got {value}")
        elif abs(value) > MAX_INT_FIELD:
            raise ConfigError(f"{label} {value} is out of range (|value| <= {MAX_INT_FIELD})")


def _suggest(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ConfigError(f"{name}: expected a finite number, got {value!r}")
    return value


def _coerce(name: str, value: Any, typ: Any) -> Any:
    """Coerce a YAML/CLI value to a dataclass field type, or raise ConfigError."""
    origin = typing.get_origin(typ)
    if origin is tuple:
        args = typing.get_args(typ)
        if isinstance(value, str):
            value = yaml_load(value, f"{name}") if value.strip().startswith("[") else value.split(",")
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name}: expected a list, got {_short(value)}")
        if len(value) > 64:
            raise ConfigError(f"{name}: at most 64 entries, got {len(value)}")
        inner = args[0] if args else Any
        return tuple(_coerce(name, v, inner) for v in value)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{name}: expected true/false, got {_short(value)}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        if isinstance(value, str):
            _ascii_number(name, value)
            try:
                value = int(value.strip())
            except ValueError:
                try:
                    value = float(value)
                except ValueError:
                    raise ConfigError(f"{name}: expected an integer, got {_short(value)}") from None
        if isinstance(value, float):
            _finite(name, value)
            if not value.is_integer():
                raise ConfigError(f"{name}: expected an integer, got {value!r}")
            value = int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{name}: expected an integer, got {_short(value)}")
        if abs(value) > MAX_INT_FIELD:
            raise ConfigError(f"{name}={value} is out of range (|value| <= {MAX_INT_FIELD})")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{name}: expected a number, got {_short(value)}")
        if isinstance(value, str):
            _ascii_number(name, value)
        try:
            out = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{name}: expected a number, got {_short(value)}") from None
        return _finite(name, out)
    if typ is str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{name}: expected a string, got {_short(value)}")
        out = str(value)
        if len(out) > MAX_STR_FIELD or not out.isprintable():
            raise ConfigError(f"{name}: expected a short printable string, got {_short(out)}")
        return out
    return value


def _check_scale(name: str, new: Any, old: Any) -> None:
    """Refuse a numeric override more than MAX_SCALE times away from its preset value."""
    if isinstance(new, bool) or not isinstance(new, int | float) or isinstance(old, bool):
        return
    if not isinstance(old, int | float) or old <= 0 or new <= 0:
        return
    if new > old * MAX_SCALE or new < old / MAX_SCALE:
        raise ConfigError(f"{name}={new:g} is more than {MAX_SCALE}x away from the preset value "
                          f"{old:g} (limit {old / MAX_SCALE:g}..{old * MAX_SCALE:g}); the models "
                          "size their work by it")


def field_types(cls: type) -> dict[str, Any]:
    return dict(_field_types(cls))


@functools.lru_cache(maxsize=256)   # get_type_hints evaluates every annotation: ~1.5 ms a call
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def apply_overrides(cfg: T, overrides: dict[str, Any], where: str = "") -> T:
    """Return a copy of ``cfg`` with ``overrides`` applied; unknown keys are errors."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"config overrides{where} must be a mapping, got {_short(overrides)}")
    types = field_types(type(cfg))
    changes = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or key not in types:
            raise ConfigError(
                f"unknown config key {_short(key)}{where}{_suggest(key, list(types))}"
            )
        changes[key] = _coerce(key, value, types[key])
        _check_scale(key, changes[key], getattr(cfg, key))
    new = dataclasses.replace(cfg, **changes)
    for key, typ in types.items():  # presets are trusted, but a whole-file arch is not
        v = getattr(new, key)
        if typ is float and isinstance(v, float):
            _finite(key, v)
    validate = getattr(new, "validate", None)
    if validate is not None:
        try:
            validate()
        except (ArithmeticError, ValueError, TypeError) as exc:  # e.g. 1 << huge, x / 0
            raise ConfigError(f"invalid configuration{where}: {type(exc).__name__}: {exc}") from None
    return new


def _ascii_number(name: str, text: str) -> None:
    """Python's int()/float() read every Unicode digit ('٣' is 3); a number in a config
    is written in ASCII, anything else is refused by name."""
    if not text.isascii():
        raise ConfigError(f"{name}: expected a number in ASCII digits, got {_short(text)}")


def parse_sets(sets: list[str] | None) -> dict[str, Any]:
    """Parse ``--set key=value`` strings; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for item in sets or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {_short(item)}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--set expects key=value, got {_short(item)}")
        if key in out:
            raise ConfigError(f"--set {key} given twice")
        try:
            out[key] = yaml_load(raw, f"--set {key}") if raw.strip() else raw
        except ConfigError:
            out[key] = raw
        if isinstance(out[key], dict | list) and not raw.strip().startswith("["):
            out[key] = raw  # `a: b` style text is a string value, not a mapping
    return out


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """A YAML file through the bounded loader: regular file, UTF-8, no bombs."""
    return safe_yaml.load_file(path, what)


def load_config(
    presets: dict[str, T],
    arch: str | None,
    sets: list[str] | dict[str, Any] | None = None,
    default: str | None = None,
) -> T:
    """Resolve ``arch`` (preset name or YAML path) and ``--set`` overrides into a config.

    A YAML arch file is a mapping of config fields, optionally with ``base: <preset>``.
    """
    name = arch or default or next(iter(presets))
    if name in presets:
        cfg = presets[name]
        where = ""
    elif name.endswith((".yaml", ".yml")) or Path(name).exists():
        data = read_yaml(name, "arch file")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"arch file {name} must be a mapping of config keys")
        base = data.pop("base", default or next(iter(presets)))
        if not isinstance(base, str) or base not in presets:
            raise ConfigError(f"unknown base preset {_short(base)} in {name}; known: {', '.join(presets)}")
        cfg = apply_overrides(presets[base], data, where=f" in {name}")
        where = ""
    else:
        raise ConfigError(f"unknown preset {_short(name)}; known: {', '.join(presets)} (or a .yaml file)")
    overrides = sets if isinstance(sets, dict) else parse_sets(sets)
    return apply_overrides(cfg, overrides, where=where)


def config_dict(cfg: Any) -> dict[str, Any]:
    """Plain dict of a config (tuples become lists), for JSON and hashing."""
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
