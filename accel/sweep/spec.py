"""Sweep spec: YAML -> validator -> typed ``SweepSpec``.

A spec names a machine, a base configuration, the workloads and the parameters to vary::

    name: my-sweep                   # optional, defaults to the file stem
    machine: MACHINE                 # a registered machine (accel.arch.registry)
    base: PRESET                     # preset name or arch YAML file
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
    search: {strategy: nsga2, budget: 2000, seed: 0}   # optional: search instead of the grid

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
from accel.sweep.fit import Fit, parse_fit

SPEC_KEYS = ("name", "machine", "base", "workloads", "parameters", "constraints",
             "objectives", "sample", "search", "description", "fit")
RANGE_KEYS = ("start", "stop", "step", "num", "log", "factor")
SAMPLE_KEYS = ("low", "high", "n", "seed", "log", "integer", "choices")
GOALS = ("min", "max")
SEARCH_KEYS = ("strategy", "budget", "seed", "population")
STRATEGIES = ("nsga2",)
MAX_POINTS = 1_000_000  # a grid this large is almost certainly a typo in a range
MAX_VALUE = 2**53       # spec numbers beyond this lose integer precision as floats
MAX_WORKLOADS = 1000    # workloads per spec; each is resolved and held in memory


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Objective:
    metric: str
    goal: str  # "min" | "max"


@dataclass(frozen=True)
class Search:
    """``search:``: evaluate ``budget`` points chosen by a multi-objective strategy."""

    strategy: str
    budget: int          # design points evaluated at most (constraint-violating ones count)
    seed: int = 0
    population: int = 0  # 0: the strategy's default


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
    search: Search | None = None
    fit: Fit | None = None    # fit: the device and utilisation ceilings (accel.sweep.fit)

    def search_meta(self) -> dict | None:
        s = self.search
        return None if s is None else {"strategy": s.strategy, "budget": s.budget,
                                       "seed": s.seed, "population": s.population}


def _check_keys(where: str, data: dict, known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown key {key!r} in {where}{_suggest(str(key), list(known))}")


def _number(where: str, v: Any) -> float | int:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ConfigError(f"{where} must be a number, got {_short(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(f"{where} must be finite, got {v!r}")
    if isinstance(v, int) and abs(v) > MAX_VALUE:
        raise ConfigError(f"{where} is out of range (|value| <= {MAX_VALUE:g}), got {v}")
    return v


def _count(where: str, n: Any, what: str) -> int:
    """A count of values (range.num, sample.n): a positive integer within MAX_POINTS."""
    if isinstance(n, float) and n.is_integer() and math.isfinite(n):
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{where}.{what} must be a positive integer, got {_short(n)}")
    if n > MAX_POINTS:
        raise ConfigError(f"{where}.{what} = {n} is more than the {MAX_POINTS} points a sweep may have")
    return n


def _tidy(x: float, integer: bool) -> int | float:
    """Round grid values so 0.1 + 0.2 style drift does not create distinct designs."""
    return int(round(x)) if integer else float(round(x, 12))


def expand_range(where: str, r: Any, integer_hint: bool | None = None) -> list:
    """Expand ``{start, stop, step|num|factor}``, counting the values *before* making them.

    ``integer_hint`` is the parameter's type when it is a config field (True = int,
    False = float); ``None`` falls back to "integer bounds give integer values".  A float
    parameter stays float even with integer bounds (``clock_ghz: 1..2, num 5`` is
    1.0, 1.25, ... not 1, 2)."""
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
    if "log" in r and "num" not in r:
        raise ConfigError(f"{where}.range.log only applies with num")
    ints = isinstance(start, int) and isinstance(stop, int)
    if "step" in r:
        step = _number(f"{where}.range.step", r["step"])
        if step == 0:
            raise ConfigError(f"{where}.range.step must be nonzero, got {step!r}")
        if (stop - start) * step < 0:
            raise ConfigError(f"{where}.range.step {step!r} moves away from stop {stop!r}")
        integer = (ints and isinstance(step, int)) if integer_hint is None else integer_hint
        span = (float(stop) - float(start)) / float(step)   # float: never a huge-int loop
        if not math.isfinite(span) or span + 1 > MAX_POINTS:
            raise ConfigError(f"{where}.range gives more than {MAX_POINTS} values "
                              f"(step {step!r} too small?)")
        count = int(math.floor(span + 1e-9)) + 1  # stop is inclusive
        vals = [_tidy(start + i * step, integer) for i in range(count)]
        return list(dict.fromkeys(vals))
    if "factor" in r:
        factor = _number(f"{where}.range.factor", r["factor"])
        if factor <= 0 or factor == 1 or start <= 0 or stop <= 0 or (stop - start) * (factor - 1) < 0:
            raise ConfigError(f"{where}.range.factor {factor!r} cannot go from {start!r} to {stop!r}")
        count = math.log(stop / start) / math.log(factor) if stop != start else 0.0
        if not math.isfinite(count) or count + 1 > MAX_POINTS:
            raise ConfigError(f"{where}.range with factor {factor!r} gives more than "
                              f"{MAX_POINTS} values")
        integer = (ints and isinstance(factor, int)) if integer_hint is None else integer_hint
        vals = [_tidy(start * factor ** i, integer) for i in range(int(math.floor(count + 1e-9)) + 1)]
        return list(dict.fromkeys(vals))
    num = _count(where, r["num"], "range.num")
    log = r.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.range.log must be true/false, got {_short(log)}")
    if log and (start <= 0 or stop <= 0):
        raise ConfigError(f"{where}.range: log spacing needs positive start/stop, got {start!r}..{stop!r}")
    xs = np.geomspace(start, stop, num) if log else np.linspace(start, stop, num)
    if integer_hint is None:
        # integer bounds give integers only when every value is one (else 1..2 num 5
        # would round to 1, 2); log ranges of an int field round as before
        integer = ints and (log or all(float(x).is_integer() for x in xs))
    else:
        integer = integer_hint
    vals = [_tidy(float(x), integer) for x in xs]
    return list(dict.fromkeys(vals))  # rounding to int can merge neighbours


def expand_sample(where: str, s: Any, integer_hint: bool | None = None) -> list:
    if not isinstance(s, dict):
        raise ConfigError(f"{where}.sample must be a mapping with n, seed and low/high or choices")
    _check_keys(f"{where}.sample", s, SAMPLE_KEYS)
    n = _count(where, s.get("n"), "sample.n")
    seed = s.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError(f"{where}.sample.seed must be an integer in 0..2^63-1, got {_short(seed)}")
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
    log = s.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.sample.log must be true/false, got {_short(log)}")
    default_int = (isinstance(low, int) and isinstance(high, int)) if integer_hint is None else integer_hint
    integer = s.get("integer", default_int)
    if not isinstance(integer, bool):
        raise ConfigError(f"{where}.sample.integer must be true/false, got {_short(integer)}")
    if log:
        if low <= 0:
            raise ConfigError(f"{where}.sample: log sampling needs low > 0, got {low!r}")
        xs = np.exp(rng.uniform(math.log(low), math.log(high), size=n))
    else:
        xs = rng.uniform(float(low), float(high), size=n)
    if not np.all(np.isfinite(xs)):
        raise ConfigError(f"{where}.sample: low..high is too wide to sample")
    return list(dict.fromkeys(_tidy(float(x), integer) for x in xs))


def _values(name: str, v: Any, integer_hint: bool | None = None) -> tuple:
    where = f"parameters.{name}"
    if isinstance(v, dict):
        if len(v) != 1 or next(iter(v)) not in ("range", "sample", "values"):
            raise ConfigError(f"{where} must be a list, a scalar, {{range: ...}} or {{sample: ...}}; "
                              f"got keys {list(v)}")
        kind, body = next(iter(v.items()))
        if kind == "range":
            vals = expand_range(where, body, integer_hint)
        elif kind == "sample":
            vals = expand_sample(where, body, integer_hint)
        else:
            vals = body if isinstance(body, list) else [body]
    elif isinstance(v, list):
        vals = v
    else:
        vals = [v]
    if not vals:
        raise ConfigError(f"{where} has no values")
    if len(vals) > MAX_POINTS:
        raise ConfigError(f"{where} has {len(vals)} values, more than {MAX_POINTS}")
    for x in vals:
        if isinstance(x, dict | list) or x is None:
            raise ConfigError(f"{where}: values must be scalars, got {_short(x)}")
        # a NaN/inf *listed* value is kept: that point is recorded as failed with the
        # config's reason, the rest of the sweep runs (range/sample bounds must be finite)
        if isinstance(x, str) and (len(x) > 200 or not x.isprintable()):
            raise ConfigError(f"{where}: values must be short printable strings, got {_short(x)}")
    return tuple(vals)


def _metric_names(machine) -> set[str]:
    """Metric names the machine reports, if it declares them (``METRICS`` in its model)."""
    try:
        names = getattr(machine.model_module(), "METRICS", None)
    except Exception:  # noqa: BLE001
        return set()
    return set(names) if names else set()


def _integer_hints(machine) -> dict[str, bool]:
    """Config field name -> True (int field) / False (float field), for range expansion."""
    try:
        from accel.configs import field_types

        types = field_types(machine.config_class())
    except Exception:  # noqa: BLE001 - no hints just means the old integer rule
        return {}
    return {k: t is int for k, t in types.items() if t in (int, float)}


def parse_spec(data: Any, source: str = "<spec>", name: str | None = None) -> SweepSpec:
    """Validate a spec mapping (already loaded from YAML)."""
    if not isinstance(data, dict):
        raise ConfigError(f"sweep spec {source} must be a mapping")
    _check_keys(f"sweep spec {source}", data, SPEC_KEYS)
    from accel.sweep import routing

    machine = data.get("machine")
    if machine is None:
        raise ConfigError(f"sweep spec {source} needs 'machine'")
    if not isinstance(machine, str):
        raise ConfigError(f"machine must be a name, got {_short(machine)}")
    m = routing.machine(machine)
    base = data.get("base")
    if base is not None and not isinstance(base, str):
        raise ConfigError(f"base must be a preset name or arch file, got {_short(base)}")
    wl = data.get("workloads")
    if wl is None:
        raise ConfigError(f"sweep spec {source} needs 'workloads'")
    wl = [wl] if isinstance(wl, str) else wl
    if not isinstance(wl, list) or not wl or not all(isinstance(w, str) and w for w in wl):
        raise ConfigError(f"workloads must be a non-empty list of names or .npz paths, got {_short(wl)}")
    if len(wl) > MAX_WORKLOADS:
        raise ConfigError(f"workloads: at most {MAX_WORKLOADS}, got {len(wl)}")
    params_raw = data.get("parameters") or {}
    if not isinstance(params_raw, dict):
        raise ConfigError("parameters must be a mapping of name -> values")
    if len(params_raw) > 64:
        raise ConfigError(f"parameters: at most 64 parameters, got {len(params_raw)}")
    hints = _integer_hints(m)
    for k in params_raw:
        if not isinstance(k, str):
            raise ConfigError(f"parameters: names must be strings, got {_short(k)}")
    params = {k: _values(k, v, hints.get(k)) for k, v in params_raw.items()}
    routing.check_parameters(m, list(params), base)
    routing.check_knobs_apply(m, wl, list(params))

    cons_raw = data.get("constraints") or []
    cons_raw = [cons_raw] if isinstance(cons_raw, str) else cons_raw
    if not isinstance(cons_raw, list):
        raise ConfigError("constraints must be a list of expressions")
    if len(cons_raw) > 100 or not all(isinstance(c, str | int | float | bool) for c in cons_raw):
        raise ConfigError("constraints must be a list of at most 100 expressions (strings)")
    constraints = tuple(Constraint.parse(str(c), set(params)) for c in cons_raw)

    obj_raw = data.get("objectives") or {}
    if isinstance(obj_raw, list):  # [{cycles: min}, {lut: min}] or ["cycles"]
        items: list[tuple[str, Any]] = []
        for o in obj_raw:
            if not isinstance(o, dict | str):
                raise ConfigError(f"objectives: each entry is a metric name or {{metric: min|max}}, "
                                  f"got {_short(o)}")
            items.extend(o.items() if isinstance(o, dict) else [(o, "min")])
    elif isinstance(obj_raw, dict):
        items = list(obj_raw.items())
    else:
        raise ConfigError(f"objectives must be a mapping metric -> min|max, got {_short(obj_raw)}")
    objectives = []
    for metric, goal in items:
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"objectives: metric names must be strings, got {_short(metric)}")
        if not isinstance(goal, str) or goal not in GOALS:
            raise ConfigError(f"objectives.{metric} must be min or max, got {_short(goal)}")
        known_metrics = _metric_names(m)
        if known_metrics and metric not in known_metrics and metric not in params:
            raise ConfigError(f"objectives: unknown metric {metric!r}{_suggest(metric, sorted(known_metrics))}")
        objectives.append(Objective(str(metric), goal))

    sample = data.get("sample")
    sample_n, sample_seed = None, 0
    if sample is not None:
        if not isinstance(sample, dict):
            raise ConfigError("sample must be a mapping {n: ..., seed: ...}")
        _check_keys("sample", sample, ("n", "seed"))
        sample_n = _count("sample", sample.get("n"), "n")
        sample_seed = sample.get("seed", 0)
        if isinstance(sample_seed, bool) or not isinstance(sample_seed, int) or not 0 <= sample_seed < 2**63:
            raise ConfigError(f"sample.seed must be an integer in 0..2^63-1, got {_short(sample_seed)}")

    search = _search(data.get("search"), sample is not None, objectives, len(wl))
    fit = parse_fit(data.get("fit"), _config_fields(m),
                    _base_device(m, base) if data.get("fit") not in (None, False) else None)

    spec_name = data.get("name") or name or "sweep"
    if not isinstance(spec_name, str) or len(spec_name) > 100 or spec_name.startswith(".") or \
            not spec_name.replace("-", "").replace("_", "").replace(".", "").isascii() or \
            not spec_name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(f"name must be up to 100 ASCII letters, digits, '-', '_' or '.', "
                          f"got {_short(spec_name)}")
    return SweepSpec(name=spec_name, machine=m.name, base=base, workloads=tuple(wl),
                     parameters=params, constraints=constraints, objectives=tuple(objectives),
                     sample_n=sample_n, sample_seed=sample_seed, source=source, raw=data,
                     search=search, fit=fit)


def _config_fields(machine) -> set[str]:
    try:
        from accel.configs import field_types

        return set(field_types(machine.config_class()))
    except Exception:  # noqa: BLE001 - a machine without a config class has no device
        return set()


def _base_device(machine, base: str | None) -> str | None:
    """The ``device`` of the spec's base configuration (None when it names none)."""
    if "device" not in _config_fields(machine):
        return None
    return getattr(machine.build_config(base, {}), "device", None)


def _search(raw: Any, sampled: bool, objectives: list[Objective], n_workloads: int
            ) -> Search | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("search must be a mapping {strategy: nsga2, budget: N, seed: S}")
    _check_keys("search", raw, SEARCH_KEYS)
    if sampled:
        raise ConfigError("use either sample: or search:, not both")
    strategy = raw.get("strategy")
    if strategy not in STRATEGIES:
        raise ConfigError(f"search.strategy must be one of {', '.join(STRATEGIES)}, got "
                          f"{_short(strategy)}{_suggest(str(strategy), list(STRATEGIES))}")
    if not objectives:
        raise ConfigError("search needs objectives: the metrics it optimises")
    if n_workloads != 1:
        raise ConfigError(f"search takes exactly one workload (got {n_workloads}); "
                          "run one search per workload")
    if "budget" not in raw:
        raise ConfigError("search needs 'budget': how many design points to evaluate")
    budget = _count("search", raw["budget"], "budget")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ConfigError(f"search.seed must be an integer in 0..2^32-1, got {_short(seed)}")
    population = raw.get("population", 0)
    if isinstance(population, bool) or not isinstance(population, int) or \
            not (population == 0 or 2 <= population <= budget):
        raise ConfigError(f"search.population must be an integer in 2..budget ({budget}), "
                          f"got {_short(population)}")
    return Search(str(strategy), budget, seed, population)


def load_spec(path: str | Path) -> SweepSpec:
    p = Path(path)
    if p.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"sweep spec must be a .yaml file, got {path}")
    data = read_yaml(p, "sweep spec")
    return parse_spec(data, source=str(p), name=p.stem)
