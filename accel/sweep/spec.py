"""Sweep spec: YAML -> validator -> typed ``SweepSpec``.

A spec names a machine, a base configuration, the workloads and the parameters to vary::

    name: sat-minilm                 # optional, defaults to the file stem
    machine: sat                     # a name in accel.arch.registry.MACHINES
    base: sat-vcu1525                # preset name or arch YAML file
    workloads: [minilm-l6]           # built-in names or .npz paths
    parameters:                      # config fields, workload knobs or simulate options
      pe_rows: [16, 32, 64]                          # a list
      buffer_kb: {range: {start: 64, stop: 512, step: 64}}     # inclusive linear range
      ddr_gbps: {range: {start: 4, stop: 64, num: 5, log: true}} # log-spaced
      pe_cols: {range: {start: 8, stop: 128, factor: 2}}        # geometric
      clock_mhz: {sample: {low: 100, high: 300, n: 4, seed: 0, integer: true}}
      training: true                                  # a scalar fixes a value
    constraints: ["pe_rows * pe_cols <= 4096"]
    objectives: {cycles: min, lut: min}
    sample: {n: 500, seed: 0}        # optional: random subset of the constrained grid

Every key is checked; a misspelt key is an error naming it.  Constraints are parsed with
``ast`` and evaluated by a whitelist interpreter (:mod:`accel.sweep.expr`), never ``eval``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accel.configs import _suggest, read_yaml
from accel.errors import ConfigError
from accel.sweep.expr import Constraint

SPEC_KEYS = ("name", "machine", "base", "workloads", "parameters", "constraints",
             "objectives", "sample", "description")
RANGE_KEYS = ("start", "stop", "step", "num", "log", "factor")
SAMPLE_KEYS = ("low", "high", "n", "seed", "log", "integer", "choices")
GOALS = ("min", "max")
MAX_POINTS = 1_000_000  # a grid this large is almost certainly a typo in a range


@dataclass(frozen=True)
class Objective:
    metric: str
    goal: str  # "min" | "max"


@dataclass(frozen=True)
class SweepSpec:
    name: str
    machine: str
    base: str | None
    workloads: tuple[str, ...]
    parameters: dict[str, tuple[Any, ...]]   # name -> the values it takes, in order
    constraints: tuple[Constraint, ...] = ()
    objectives: tuple[Objective, ...] = ()
    sample_n: int | None = None
    sample_seed: int = 0
    source: str = ""
    raw: dict = field(default_factory=dict, compare=False)


def _check_keys(where: str, data: dict, known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown key {key!r} in {where}{_suggest(str(key), list(known))}")


def _number(where: str, v: Any) -> float | int:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ConfigError(f"{where} must be a number, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(f"{where} must be finite, got {v!r}")
    return v


def _tidy(x: float, integer: bool) -> int | float:
    """Round grid values so 0.1 + 0.2 style drift does not create distinct designs."""
    return int(round(x)) if integer else float(round(x, 12))


def expand_range(where: str, r: Any) -> list:
    if not isinstance(r, dict):
        raise ConfigError(f"{where}.range must be a mapping with start/stop and step, num or factor")
    _check_keys(f"{where}.range", r, RANGE_KEYS)
    for k in ("start", "stop"):
        if k not in r:
            raise ConfigError(f"{where}.range needs {k!r}")
    start = _number(f"{where}.range.start", r["start"])
    stop = _number(f"{where}.range.stop", r["stop"])
    modes = [k for k in ("step", "num", "factor") if k in r]
    if len(modes) != 1:
        raise ConfigError(f"{where}.range needs exactly one of step, num, factor; got {modes or 'none'}")
    integer = isinstance(start, int) and isinstance(stop, int)
    if "step" in r:
        step = _number(f"{where}.range.step", r["step"])
        if step == 0:
            raise ConfigError(f"{where}.range.step must be nonzero, got {step!r}")
        if (stop - start) * step < 0:
            raise ConfigError(f"{where}.range.step {step!r} moves away from stop {stop!r}")
        integer = integer and isinstance(step, int)
        count = int(math.floor((stop - start) / step + 1e-9)) + 1  # stop is inclusive
        if count > MAX_POINTS:
            raise ConfigError(f"{where}.range gives {count} values (step {step!r} too small?)")
        return [_tidy(start + i * step, integer) for i in range(count)]
    if "factor" in r:
        factor = _number(f"{where}.range.factor", r["factor"])
        if factor <= 0 or factor == 1 or start <= 0 or stop <= 0 or (stop - start) * (factor - 1) < 0:
            raise ConfigError(f"{where}.range.factor {factor!r} cannot go from {start!r} to {stop!r}")
        vals, x = [], start
        while (x <= stop * (1 + 1e-12)) if factor > 1 else (x >= stop * (1 - 1e-12)):
            vals.append(_tidy(x, integer and isinstance(factor, int)))
            x = x * factor
        return vals
    num = r["num"]
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ConfigError(f"{where}.range.num must be a positive integer, got {num!r}")
    log = r.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.range.log must be true/false, got {log!r}")
    if log and (start <= 0 or stop <= 0):
        raise ConfigError(f"{where}.range: log spacing needs positive start/stop, got {start!r}..{stop!r}")
    xs = np.geomspace(start, stop, num) if log else np.linspace(start, stop, num)
    vals = [_tidy(float(x), integer) for x in xs]
    return list(dict.fromkeys(vals))  # rounding to int can merge neighbours


def expand_sample(where: str, s: Any) -> list:
    if not isinstance(s, dict):
        raise ConfigError(f"{where}.sample must be a mapping with n, seed and low/high or choices")
    _check_keys(f"{where}.sample", s, SAMPLE_KEYS)
    n = s.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{where}.sample.n must be a positive integer, got {n!r}")
    seed = s.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{where}.sample.seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    if "choices" in s:
        choices = s["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}.sample.choices must be a non-empty list")
        idx = rng.integers(0, len(choices), size=n)
        return list(dict.fromkeys(choices[i] for i in idx))
    for k in ("low", "high"):
        if k not in s:
            raise ConfigError(f"{where}.sample needs {k!r} (or choices)")
    low = _number(f"{where}.sample.low", s["low"])
    high = _number(f"{where}.sample.high", s["high"])
    if high < low:
        raise ConfigError(f"{where}.sample: high {high!r} < low {low!r}")
    log = bool(s.get("log", False))
    integer = s.get("integer", isinstance(low, int) and isinstance(high, int))
    if log:
        if low <= 0:
            raise ConfigError(f"{where}.sample: log sampling needs low > 0, got {low!r}")
        xs = np.exp(rng.uniform(math.log(low), math.log(high), size=n))
    else:
        xs = rng.uniform(low, high, size=n)
    return list(dict.fromkeys(_tidy(float(x), bool(integer)) for x in xs))


def _values(name: str, v: Any) -> tuple:
    where = f"parameters.{name}"
    if isinstance(v, dict):
        if len(v) != 1 or next(iter(v)) not in ("range", "sample", "values"):
            raise ConfigError(f"{where} must be a list, a scalar, {{range: ...}} or {{sample: ...}}; "
                              f"got keys {list(v)}")
        kind, body = next(iter(v.items()))
        if kind == "range":
            vals = expand_range(where, body)
        elif kind == "sample":
            vals = expand_sample(where, body)
        else:
            vals = body if isinstance(body, list) else [body]
    elif isinstance(v, list):
        vals = v
    else:
        vals = [v]
    if not vals:
        raise ConfigError(f"{where} has no values")
    for x in vals:
        if isinstance(x, dict | list):
            raise ConfigError(f"{where}: values must be scalars, got {x!r}")
    return tuple(vals)


def parse_spec(data: Any, source: str = "<spec>", name: str | None = None) -> SweepSpec:
    """Validate a spec mapping (already loaded from YAML)."""
    if not isinstance(data, dict):
        raise ConfigError(f"sweep spec {source} must be a mapping")
    _check_keys(f"sweep spec {source}", data, SPEC_KEYS)
    from accel.sweep.machines import get_adapter  # late: adapters import the models lazily

    machine = data.get("machine")
    if machine is None:
        raise ConfigError(f"sweep spec {source} needs 'machine'")
    adapter = get_adapter(str(machine))
    base = data.get("base")
    if base is not None and not isinstance(base, str):
        raise ConfigError(f"base must be a preset name or arch file, got {base!r}")
    wl = data.get("workloads")
    if wl is None:
        raise ConfigError(f"sweep spec {source} needs 'workloads'")
    wl = [wl] if isinstance(wl, str) else wl
    if not isinstance(wl, list) or not wl or not all(isinstance(w, str) for w in wl):
        raise ConfigError(f"workloads must be a non-empty list of names or .npz paths, got {wl!r}")
    params_raw = data.get("parameters") or {}
    if not isinstance(params_raw, dict):
        raise ConfigError("parameters must be a mapping of name -> values")
    params = {str(k): _values(str(k), v) for k, v in params_raw.items()}
    adapter.check_parameters(list(params), base)

    cons_raw = data.get("constraints") or []
    cons_raw = [cons_raw] if isinstance(cons_raw, str) else cons_raw
    if not isinstance(cons_raw, list):
        raise ConfigError("constraints must be a list of expressions")
    constraints = tuple(Constraint.parse(str(c), set(params)) for c in cons_raw)

    obj_raw = data.get("objectives") or {}
    if isinstance(obj_raw, list):  # [{cycles: min}, {lut: min}] or ["cycles"]
        items: list[tuple[str, Any]] = []
        for o in obj_raw:
            items.extend(o.items() if isinstance(o, dict) else [(o, "min")])
    elif isinstance(obj_raw, dict):
        items = list(obj_raw.items())
    else:
        raise ConfigError(f"objectives must be a mapping metric -> min|max, got {obj_raw!r}")
    objectives = []
    for metric, goal in items:
        if goal not in GOALS:
            raise ConfigError(f"objectives.{metric} must be min or max, got {goal!r}")
        objectives.append(Objective(str(metric), goal))

    sample = data.get("sample")
    sample_n, sample_seed = None, 0
    if sample is not None:
        if not isinstance(sample, dict):
            raise ConfigError("sample must be a mapping {n: ..., seed: ...}")
        _check_keys("sample", sample, ("n", "seed"))
        sample_n = sample.get("n")
        if isinstance(sample_n, bool) or not isinstance(sample_n, int) or sample_n < 1:
            raise ConfigError(f"sample.n must be a positive integer, got {sample_n!r}")
        sample_seed = sample.get("seed", 0)
        if isinstance(sample_seed, bool) or not isinstance(sample_seed, int):
            raise ConfigError(f"sample.seed must be an integer, got {sample_seed!r}")

    spec_name = str(data.get("name") or name or "sweep")
    if not spec_name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(f"name must be letters, digits, '-', '_' or '.', got {spec_name!r}")
    return SweepSpec(name=spec_name, machine=adapter.name, base=base, workloads=tuple(wl),
                     parameters=params, constraints=constraints, objectives=tuple(objectives),
                     sample_n=sample_n, sample_seed=sample_seed, source=source, raw=data)


def load_spec(path: str | Path) -> SweepSpec:
    p = Path(path)
    data = read_yaml(p, "sweep spec")
    return parse_spec(data, source=str(p), name=p.stem)
