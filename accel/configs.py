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
import re
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from accel.errors import ConfigError

T = TypeVar("T")


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 base-60 numbers: ``2:4`` must stay the N:M pattern
    "2:4", not the integer 124 that PyYAML would otherwise read."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers
         if not (tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in rx.pattern)]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                             r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
                             r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def yaml_load(text: str):
    """Parse YAML safely, keeping ``a:b`` scalars (N:M patterns) as strings."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(name: str, value: Any, typ: Any) -> Any:
    """Coerce a YAML/CLI value to a dataclass field type, or raise ConfigError."""
    origin = typing.get_origin(typ)
    if origin is tuple:
        args = typing.get_args(typ)
        if isinstance(value, str):
            value = yaml_load(value) if value.strip().startswith("[") else value.split(",")
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_coerce(name, v, inner) for v in value)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{name}: expected true/false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(float(value)) if float(value).is_integer() else int(value)
            except ValueError:
                pass
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if typ is str:
        if isinstance(value, str | int | float):
            return str(value)
        raise ConfigError(f"{name}: expected a string, got {value!r}")
    return value


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def apply_overrides(cfg: T, overrides: dict[str, Any], where: str = "") -> T:
    """Return a copy of ``cfg`` with ``overrides`` applied; unknown keys are errors."""
    types = field_types(type(cfg))
    changes = {}
    for key, value in overrides.items():
        if key not in types:
            raise ConfigError(
                f"unknown config key {key!r}{where}{_suggest(key, list(types))}"
            )
        changes[key] = _coerce(key, value, types[key])
    new = dataclasses.replace(cfg, **changes)
    validate = getattr(new, "validate", None)
    if validate is not None:
        validate()
    return new


def parse_sets(sets: list[str] | None) -> dict[str, Any]:
    """Parse ``--set key=value`` strings; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for item in sets or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        try:
            out[key] = yaml_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            out[key] = raw
    return out


def read_yaml(path: str | Path, what: str = "file") -> Any:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found: {path}")
    try:
        return yaml_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"malformed YAML in {path}{loc}: {getattr(exc, 'problem', exc)}") from None


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
    elif name.endswith((".yaml", ".yml")) or Path(name).is_file():
        data = read_yaml(name, "arch file")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"arch file {name} must be a mapping of config keys")
        base = data.pop("base", default or next(iter(presets)))
        if base not in presets:
            raise ConfigError(f"unknown base preset {base!r} in {name}; known: {', '.join(presets)}")
        cfg = apply_overrides(presets[base], data, where=f" in {name}")
        where = ""
    else:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(presets)} (or a .yaml file)")
    overrides = sets if isinstance(sets, dict) else parse_sets(sets)
    return apply_overrides(cfg, overrides, where=where)


def config_dict(cfg: Any) -> dict[str, Any]:
    """Plain dict of a config (tuples become lists), for JSON and hashing."""
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
