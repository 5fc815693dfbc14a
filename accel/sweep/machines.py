"""One adapter per machine: routes each sweep parameter to the right place.

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
from pathlib import Path
from typing import Any

from accel.configs import _suggest, apply_overrides, field_types, load_config
from accel.errors import AccelError, ConfigError, WorkloadError

# Knobs of accel.workloads.builtin.resolve (agreed interface, common brief).
RESOLVE_KNOBS = ("prune", "training", "seq_len", "batch", "seed")
# Knobs of accel.workloads.llm.llm_workload for the LLM shape presets.
LLM_KNOBS = ("prefill", "decode", "sparsity", "seed")


@dataclass(frozen=True)
class MachineAdapter:
    """Plain, picklable description of one machine (workers import its model lazily)."""

    name: str
    workload_knobs: tuple[str, ...] = RESOLVE_KNOBS
    package: str = ""  # defaults to accel.arch.<name>

    # --- the agreed model API ---------------------------------------------------------
    @property
    def pkg(self) -> str:
        return self.package or f"accel.arch.{self.name}"

    def _import(self, sub: str):
        try:
            return importlib.import_module(f"{self.pkg}.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(self.pkg):
                raise ConfigError(f"machine {self.name!r} has no model installed ({self.pkg}.{sub})") from None
            raise

    def config_module(self):
        return self._import("config")

    def model_module(self):
        return self._import("model")

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
        if spec.endswith(".npz") and not Path(spec).is_file():
            raise WorkloadError(f"workload file not found: {spec}")
        try:
            from accel.workloads.llm import LLM_PRESETS, llm_workload
        except ImportError:  # the LLM presets are optional for SAT/PIUMA sweeps
            LLM_PRESETS = {}
        if spec in LLM_PRESETS:
            args = {k: v for k, v in knobs.items() if k in LLM_KNOBS}
            args.setdefault("prefill", 128)
            args.setdefault("decode", 512)
            return llm_workload(spec, **args)
        from accel.workloads.builtin import resolve

        return resolve(spec, **{k: v for k, v in knobs.items() if k in RESOLVE_KNOBS})

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
        return {}


@dataclass(frozen=True)
class SatAdapter(MachineAdapter):
    """SAT adds the RTL resource model (``accel.hw.resources.estimate``) as ``hw_*`` metrics.

    The estimate is of the project's INT8 Amaranth PE array (its default operand widths)
    at the swept rows x cols x N (mults_per_pe) x M (group_m), fitted by the RTL helper on
    small synthesised arrays: an area *trend* for the Pareto front, not an FP16 datapath.
    ``pipelined_tiles`` selects the shadow-accumulator array's estimate (more FF/LUT).
    When the resource model is absent, no ``hw_*`` metric is recorded."""

    def extra_metrics(self, config, workload, metrics):
        try:
            from accel.hw.resources import estimate
        except ImportError:  # RTL helper's resource model absent: record nothing for it
            return {}
        try:
            est = estimate(config.pe_rows, config.pe_cols, config.mults_per_pe, config.group_m,
                           pipelined=bool(getattr(config, "pipelined_tiles", False)))
        except (AccelError, ValueError, TypeError, RuntimeError):
            return {}
        return {f"hw_{k.lower()}": float(v) for k, v in est.items()
                if k != "fitted_on" and isinstance(v, int | float) and not isinstance(v, bool)}


@dataclass(frozen=True)
class FlightLLMAdapter(MachineAdapter):
    """Adds the roofline coordinates of decode and prefill (arithmetic on model outputs).

    ops = 2 x executed MACs of the phase's linear layers (zero weights skipped, i.e. x
    weight density; attention score/context GEMMs are not counted); HBM bytes = hbm_utilization x peak bandwidth x phase time; peaks from the
    config: HBM channels x channel GB/s, cores x MACs/cycle x 2 x clock (MV for decode,
    MM for prefill)."""

    def extra_metrics(self, config, workload, metrics):
        need = ("decode_ms_per_token", "prefill_ms", "hbm_utilization", "hbm_utilization_prefill")
        if not all(k in metrics for k in need):
            return {}
        peak_bw = config.hbm_channels * config.hbm_channel_gbps * 1e9
        clock = config.clock_mhz * 1e6
        out = {"peak_hbm_gbps": peak_bw / 1e9,
               "peak_mv_gops": config.cores * config.mv_macs_per_core * 2 * clock / 1e9,
               "peak_mm_gops": config.cores * config.mm_macs_per_core * 2 * clock / 1e9}
        for phase, t_ms, util in (("decode", metrics["decode_ms_per_token"], metrics["hbm_utilization"]),
                                  ("prefill", metrics["prefill_ms"], metrics["hbm_utilization_prefill"])):
            ops = 2.0 * sum(op.M * op.K * op.N * op.repeat * op.density
                            for op in workload.ops if op.phase == phase)
            t = t_ms / 1e3
            nbytes = util * peak_bw * t
            out[f"{phase}_gops"] = ops / t / 1e9 if t > 0 else 0.0
            out[f"{phase}_intensity"] = ops / nbytes if nbytes > 0 else float("nan")
        return out


@dataclass(frozen=True)
class PiumaAdapter(MachineAdapter):
    def extra_metrics(self, config, workload, metrics):
        if "dram_bytes_read" in metrics and "dram_bytes_written" in metrics:
            return {"dram_bytes": metrics["dram_bytes_read"] + metrics["dram_bytes_written"]}
        return {}


ADAPTERS: dict[str, MachineAdapter] = {
    "sat": SatAdapter("sat"),
    "flightllm": FlightLLMAdapter("flightllm", workload_knobs=LLM_KNOBS),
    "piuma": PiumaAdapter("piuma"),
}


def register_adapter(adapter: MachineAdapter) -> None:
    """Add a machine (tests register a tiny in-process machine this way)."""
    ADAPTERS[adapter.name] = adapter


def get_adapter(name: str) -> MachineAdapter:
    if name not in ADAPTERS:
        raise ConfigError(f"unknown machine {name!r}; known: {', '.join(ADAPTERS)}"
                          f"{_suggest(name, list(ADAPTERS))}")
    return ADAPTERS[name]
