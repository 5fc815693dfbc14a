"""The sweep's view of a machine: routes each sweep parameter to the right place.

Adapters are built from the machine registry (``accel.arch.registry``); this module
names no machine.

A parameter is, in this order of precedence,
  * ``preset``        -- the base preset itself (e.g. FlightLLM device u280 / vhk158);
  * a config field    -- of the machine's frozen config dataclass (``accel.arch.<m>.config``);
  * a workload knob   -- an argument of the workload builder (N:M pattern, training, ...);
  * a simulate option -- a keyword argument of ``accel.arch.<m>.model.simulate``.
Anything else is an unknown parameter, reported when the spec is loaded.

Workloads are resolved once per distinct (workload, knobs) in the coordinator; workers
only receive the resolved ``Workload`` and evaluate ``simulate(...).metrics()``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from accel.configs import _suggest, apply_overrides, field_types, load_config
from accel.errors import ConfigError, WorkloadError

# Default knobs of accel.workloads.builtin.resolve (a machine declares its own).
RESOLVE_KNOBS = ("prune", "training", "seq_len", "batch", "seed")


@dataclass(frozen=True)
class MachineAdapter:
    """Plain, picklable description of one machine (workers import its model lazily)."""

    name: str
    workload_knobs: tuple[str, ...] = RESOLVE_KNOBS
    package: str = ""  # defaults to accel.arch.<name>
    config: str = ""   # config module (default <package>.config)
    model: str = ""    # model module (default <package>.model)
    derived_metrics: tuple[str, ...] = ()   # "module:function" (config, workload, metrics)
    workload_kinds: tuple[str, ...] = ()    # empty: any workload
    workload_source: str = ""               # "module:function" tried before the resolver

    @classmethod
    def from_machine(cls, m) -> MachineAdapter:
        """The adapter of a registered ``accel.arch.registry.Machine`` (strings only:
        adapters are pickled to worker processes)."""
        return cls(m.name, workload_knobs=tuple(m.workload_knobs), config=m.config,
                   model=m.model, derived_metrics=tuple(m.derived_metrics),
                   workload_kinds=tuple(m.workload_kinds), workload_source=m.workload_source)

    # --- the agreed model API ---------------------------------------------------------
    @property
    def pkg(self) -> str:
        return self.package or f"accel.arch.{self.name}"

    def _import(self, module: str):
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                raise ConfigError(f"machine {self.name!r} has no model installed ({module})") from None
            raise

    def config_module(self):
        return self._import(self.config or f"{self.pkg}.config")

    def model_module(self):
        return self._import(self.model or f"{self.pkg}.model")

    def presets(self) -> dict:
        return self.config_module().PRESETS

    def default_preset(self) -> str:
        mod = self.config_module()
        return getattr(mod, "DEFAULT_PRESET", next(iter(mod.PRESETS)))

    def model_version(self) -> str:
        return str(getattr(self.model_module(), "MODEL_VERSION", "0"))

    def config_fields(self) -> list[str]:
        cfg = next(iter(self.presets().values()))
        return list(field_types(type(cfg)))

    def option_names(self) -> list[str]:
        sig = inspect.signature(self.model_module().simulate)
        params = list(sig.parameters.values())[2:]  # (workload, config, **options)
        return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]

    # --- routing ------------------------------------------------------------------------
    def classify(self, name: str) -> str:
        if name == "preset":
            return "preset"
        if name in self.config_fields():
            return "config"
        if name in self.workload_knobs:
            return "workload"
        if name in self.option_names():
            return "option"
        known = ["preset", *self.config_fields(), *self.workload_knobs, *self.option_names()]
        raise ConfigError(f"unknown parameter {name!r} for machine {self.name}{_suggest(name, known)}")

    @functools.lru_cache(maxsize=64)  # noqa: B019 - adapters are few, immutable and live forever
    def _kinds(self, names: tuple[str, ...]) -> dict[str, str]:
        return {n: self.classify(n) for n in names}

    def check_parameters(self, names: list[str], base: str | None) -> None:
        for n in names:
            self.classify(n)
        self.base_config(base)  # unknown preset / bad arch file -> error now

    def check_knobs_apply(self, workloads: list[str], names: list[str]) -> None:
        """Refuse a parameter that has no effect on one of ``workloads``: the machine's
        workload source module may declare ``ignored_knobs(spec) -> names`` (a SCALE-Sim
        topology ignores ``prune``); sweeping one would label one result two ways."""
        if not self.workload_source:
            return
        mod, _, _fn = self.workload_source.partition(":")
        ignored = getattr(self._import(mod), "ignored_knobs", None)
        for w in workloads if ignored is not None else ():
            for n in names:
                if n in ignored(w):
                    raise ConfigError(f"parameter {n!r} has no effect on workload {w!r} "
                                      f"(machine {self.name}); remove it or the workload")

    def split(self, point: dict[str, Any]) -> tuple[str | None, dict, dict, dict]:
        """(preset, config overrides, workload knobs, simulate options) of one point."""
        preset, cfg, wl, opt = None, {}, {}, {}
        kinds = self._kinds(tuple(point))
        for k, v in point.items():
            kind = kinds[k]
            if kind == "preset":
                preset = str(v)
            else:
                {"config": cfg, "workload": wl, "option": opt}[kind][k] = v
        return preset, cfg, wl, opt

    def base_config(self, base: str | None):
        return load_config(self.presets(), base, {}, default=self.default_preset())

    def build_config(self, base: str | None, preset: str | None, overrides: dict):
        cfg = self.base_config(preset or base)
        return apply_overrides(cfg, overrides)

    # --- workloads ----------------------------------------------------------------------
    def resolve_workload(self, spec: str, knobs: dict):
        """The one resolver (accel.workloads.builtin.resolve) with this machine's knobs,
        after the machine's own workload source if it declares one."""
        from accel.workloads.builtin import resolve

        knobs = {k: v for k, v in knobs.items() if k in self.workload_knobs}
        w = None
        if self.workload_source:
            mod, _, fn = self.workload_source.partition(":")
            w = getattr(self._import(mod), fn)(spec, **knobs)
        if w is None:
            from accel.workloads.builtin import KNOBS

            w = resolve(spec, **{k: v for k, v in knobs.items() if k in KNOBS})
        if self.workload_kinds:
            from accel.workloads.kinds import workload_kind

            kind = workload_kind(w)
            if kind not in self.workload_kinds:
                raise WorkloadError(f"machine {self.name} runs {' or '.join(self.workload_kinds)} "
                                    f"workloads; {spec!r} is a {kind} workload")
        return w

    def workload_id(self, workload) -> str:
        """``content_id()`` plus the name and provenance: content_id ignores provenance, but
        a model may read it (FlightLLM takes the decode length from it), so two workloads
        with equal arrays and different provenance must not share results."""
        import hashlib
        import json

        prov = {k: v for k, v in workload.provenance.items() if k != "accel_version"}
        blob = json.dumps({"content": workload.content_id(), "name": workload.name,
                           "provenance": prov}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # --- evaluation (runs in a worker) --------------------------------------------------
    def evaluate(self, workload, config, options: dict) -> dict[str, float]:
        res = self.model_module().simulate(workload, config, **options)
        # Wall-clock timings of the simulator itself are kept out of the metrics (the store
        # records them per row as eval_seconds), so metrics are a pure function of the design.
        metrics = {k: float(v) for k, v in res.metrics().items() if not k.endswith("wall_s")}
        metrics.update({k: float(v) for k, v in self.extra_metrics(config, workload, metrics).items()})
        return metrics

    def extra_metrics(self, config, workload, metrics: dict) -> dict[str, float]:
        """The machine's derived metrics (registry ``derived_metrics``), merged in order."""
        out: dict[str, float] = {}
        for ref in self.derived_metrics:
            mod, _, fn = ref.partition(":")
            out.update(getattr(self._import(mod), fn)(config, workload, {**metrics, **out}))
        return out


ADAPTERS: dict[str, MachineAdapter] = {}   # adapters registered at run time (tests' toy machine)


def register_adapter(adapter: MachineAdapter) -> None:
    """Add a machine that is not in the registry (tests register a tiny in-process machine)."""
    ADAPTERS[adapter.name] = adapter


@functools.cache
def _registered(name: str) -> MachineAdapter:
    from accel.arch import registry

    return MachineAdapter.from_machine(registry.get(name))


def get_adapter(name: str) -> MachineAdapter:
    if name in ADAPTERS:
        return ADAPTERS[name]
    from accel.arch import registry

    known = [*registry.names(), *ADAPTERS]
    if name not in registry.names():
        raise ConfigError(f"unknown machine {name!r}; known: {', '.join(known)}"
                          f"{_suggest(name, known)}")
    return _registered(name)
