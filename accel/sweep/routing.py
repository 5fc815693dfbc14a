"""Where each sweep parameter goes, for a registered ``accel.arch.registry.Machine``.

The sweep holds the ``Machine`` itself (a frozen dataclass of strings: it pickles to
worker processes and Dask workers as it is); this module names no machine.

A parameter is, in this order of precedence,
  * ``preset``        -- the base preset itself (e.g. a device preset);
  * a config field    -- of the machine's frozen config dataclass;
  * a workload knob   -- an argument of the workload resolver (``Machine.workload_knobs``);
  * a simulate option -- a keyword argument of the machine's ``simulate``.
Anything else is an unknown parameter, reported when the spec is loaded.

Workloads are resolved once per distinct (workload, knobs) in the coordinator; workers
only receive the resolved ``Workload`` and call :func:`evaluate`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from typing import Any

from accel.arch.registry import Machine, get
from accel.configs import _suggest
from accel.errors import ConfigError


def machine(name: str) -> Machine:
    """The registered machine ``name`` (unknown -> one ConfigError naming the known ones)."""
    return get(name)


@functools.cache
def _fields(m: Machine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(m.config_fields()), tuple(m.option_names())


def classify(m: Machine, name: str) -> str:
    fields, options = _fields(m)
    if name == "preset":
        return "preset"
    if name in fields:
        return "config"
    if name in m.workload_knobs:
        return "workload"
    if name in options:
        return "option"
    known = ["preset", *fields, *m.workload_knobs, *options]
    raise ConfigError(f"unknown parameter {name!r} for machine {m.name}{_suggest(name, known)}")


@functools.cache
def _kinds(m: Machine, names: tuple[str, ...]) -> dict[str, str]:
    return {n: classify(m, n) for n in names}


def check_parameters(m: Machine, names: list[str], base: str | None) -> None:
    for n in names:
        classify(m, n)
    m.build_config(base)  # unknown preset / bad arch file -> error now


def check_knobs_apply(m: Machine, workloads: list[str], names: list[str]) -> None:
    """Refuse a parameter that has no effect on one of ``workloads``: the machine's
    workload-source module may declare ``ignored_knobs(spec) -> names`` (a SCALE-Sim
    topology carries its own sparsity, so it ignores ``prune``); sweeping one would label
    one result two ways."""
    if not m.workload_source:
        return
    mod = importlib.import_module(m.workload_source.partition(":")[0])
    ignored = getattr(mod, "ignored_knobs", None)
    for w in workloads if ignored is not None else ():
        for n in names:
            if n in ignored(w):
                raise ConfigError(f"parameter {n!r} has no effect on workload {w!r} "
                                  f"(machine {m.name}); remove it or the workload")


def split(m: Machine, point: dict[str, Any]) -> tuple[str | None, dict, dict, dict]:
    """(preset, config overrides, workload knobs, simulate options) of one point."""
    preset, parts = None, {"config": {}, "workload": {}, "option": {}}
    kinds = _kinds(m, tuple(point))
    for k, v in point.items():
        if kinds[k] == "preset":
            preset = str(v)
        else:
            parts[kinds[k]][k] = v
    return preset, parts["config"], parts["workload"], parts["option"]


def resolve_workload(m: Machine, spec: str, knobs: dict):
    """``Machine.resolve_workload`` with this machine's knobs, refused early when the
    machine does not run that kind of workload."""
    w = m.resolve_workload(spec, **{k: v for k, v in knobs.items() if k in m.workload_knobs})
    m.check_workload(w)
    return w


def workload_id(workload) -> str:
    """``content_id()`` plus the name and provenance: content_id ignores provenance, but
    a model may read it (a decode length, say), so two workloads with equal arrays and
    different provenance must not share results."""
    prov = {k: v for k, v in workload.provenance.items() if k != "accel_version"}
    blob = json.dumps({"content": workload.content_id(), "name": workload.name,
                       "provenance": prov}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def evaluate(m: Machine, workload, config, options: dict) -> dict[str, float]:
    """Metrics of one design point (runs in a worker): the model's, then its derived ones.

    Wall-clock timings of the simulator itself are kept out (the store records
    them per row as eval_seconds): metrics are a pure function of the design."""
    res = m.simulate(workload, config, **options)
    metrics = {k: float(v) for k, v in res.metrics().items() if not k.endswith("wall_s")}
    extra: dict[str, float] = {}
    for fn in m.derived():  # resolved here, in the sweep layer (they may live in accel.hw)
        extra.update(fn(config, workload, {**metrics, **extra}))
    metrics.update({k: float(v) for k, v in extra.items()})
    return metrics
