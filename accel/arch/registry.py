"""The machine registry: every layer above ``accel.arch`` finds machines here.

A machine is a folder ``accel/arch/<name>/`` with a ``machine.py`` that defines
``MACHINE = Machine(...)`` and ONE line in ``MACHINES`` below.  Nothing else names it:
``accel sim <name>``, ``accel sweep``, ``accel report`` and ``accel demo`` iterate the
registry.  Everything a ``Machine`` points at is a dotted string resolved on first use,
so ``accel --help`` imports no model, no Numba and no matplotlib.

What a machine declares (see README "Bring your own machine"):

* ``config``: module with ``PRESETS`` (name -> frozen config dataclass) and
  ``DEFAULT_PRESET``;
* ``model``: module with ``simulate(workload, config, **options)`` and ``MODEL_VERSION``;
  ``simulate`` returns an instance of ``result`` (a ``MachineResult``);
* ``workload_kinds``: the kinds (``workload_kind``) it accepts; ``workload_knobs``: the
  ``accel.workloads.resolve`` arguments a sweep may set;
* ``cli``: module with ``OPTIONS`` (a tuple of ``CliOption``, declarative: name, type,
  default, help, flags) and ``run(note, **options) -> CliOutput``; ``accel.cli`` builds
  the Typer command from them, so ``arch`` never imports ``accel.cli``;
* ``view``: ``"module:VIEWS"``, a list of ``(stem, function, what)`` report figures;
  each function takes ``(df, params, title, label)`` and returns ``(figure, data)`` or
  None (``label(row, params)`` is the report's design-point label);
* ``derived_metrics``: ``"module:function"`` references, each
  ``(config, workload, metrics) -> dict``, added to a sweep's metrics.  They are
  resolved by the sweep layer, so they may live in ``accel.hw`` (above ``arch``);
* ``demo_spec``: the name of its small sweep under ``workloads/sweeps/`` for ``accel demo``;
* ``commands`` (optional): ``"module:COMMANDS"``, a tuple of ``CliCommand``: the machine's
  own ``accel <group> <verb>`` commands (studies, validations), built by ``accel.cli``;
* ``readme_claims`` (optional): ``"module:function"`` references, each returning rows
  ``(claim, paper, accel)`` of the README's generated results table (``accel.report``
  resolves them, so they may live in ``accel.hw``);
* ``workload_source`` (optional): ``"module:function"``, ``function(spec, **knobs)`` returning
  a ``Workload`` for names or files only this machine reads (e.g. a foreign simulator's
  layer table), or None to fall through to ``accel.workloads.builtin.resolve``.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from accel.errors import ConfigError, WorkloadError

# name -> module defining MACHINE.  One line per machine; order is the order of
# `accel sim --help`, the demo and the report.
MACHINES: dict[str, str] = {
    "sat": "accel.arch.sat.machine",
    "flightllm": "accel.arch.flightllm.machine",
    "piuma": "accel.arch.piuma.machine",
    "systolic": "accel.arch.systolic.machine",
}

REQUIRED = ...  # CliOption default of a required option


@runtime_checkable
class MachineResult(Protocol):
    """What ``simulate()`` returns, for every machine."""

    UNITS: ClassVar[Mapping[str, str]]  # metric name or glob ("*_cycles") -> unit

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-serialisable (``accel sim <m> --json`` prints it)."""
        ...

    def metrics(self) -> dict[str, float]:
        """Flat numeric metrics (a sweep stores them; keys ending ``wall_s`` are dropped)."""
        ...


def unit_of(units: Mapping[str, str], metric: str) -> str | None:
    """The unit of ``metric`` in a units table (exact key first, then glob patterns)."""
    if metric in units:
        return units[metric]
    for pattern, unit in units.items():
        if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(metric, pattern):
            return unit
    return None


@dataclass(frozen=True)
class CliOption:
    """One option of ``accel sim <machine>``, declared without importing the CLI."""

    name: str                      # keyword passed to the machine's ``run``
    type: type = str               # str, int, float, bool (an on/off pair) or list (repeatable str)
    default: Any = None            # REQUIRED for a required option
    help: str = ""
    flags: tuple[str, ...] = ()    # default: --name-with-dashes (bool: --x/--no-x)
    shown_default: str | None = None  # what --help says when the default is computed (None)

    def param_decls(self) -> tuple[str, ...]:
        if self.flags:
            return self.flags
        flag = "--" + self.name.rstrip("_").replace("_", "-")
        return (f"{flag}/--no-{flag[2:]}",) if self.type is bool else (flag,)


@dataclass(frozen=True)
class CliTable:
    """A table for people (``accel.cli`` renders it with rich)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()    # lines printed under the table


@dataclass(frozen=True)
class CliOutput:
    json: dict                      # printed as one object with --json
    tables: tuple[CliTable, ...] = ()
    text: str = ""                  # printed for people after the tables (e.g. a Markdown report)
    exit_code: int = 0              # 1: a check that ran and failed (the output still prints)


def _ref(ref: str) -> Any:
    """``"pkg.mod:attr"`` -> the attribute; ``"pkg.mod"`` -> the module."""
    mod, _, attr = ref.partition(":")
    m = importlib.import_module(mod)
    return getattr(m, attr) if attr else m


# --- machine-specific commands and report rows: hooks the upper layers iterate ------------
# progress(description, total): a context manager yielding advance(n=1) (a bar on the CLI's
# stderr; a model that reports progress takes one, and imports no UI)
Progress = Callable[[str, int], AbstractContextManager[Callable[..., None]]]


@dataclass(frozen=True)
class CliContext:
    """What ``accel.cli`` hands a machine's own command (no rich, no Typer below the CLI)."""

    note: Callable[[str], None]               # a status line for people (silent with --json)
    progress: Progress
    as_json: bool = False
    live: bool = False        # the bars are drawn (a terminal, no --json): work done only for a bar may be skipped otherwise

    def __call__(self, msg: str) -> None:
        """``ctx(msg)`` is ``ctx.note(msg)``: ``accel sim`` hands a machine's ``run`` this
        context as its first argument, ``note``, which older runs only call."""
        self.note(msg)


@dataclass(frozen=True)
class CliCommand:
    """``accel <group> <verb>``: a machine's own command beyond ``accel sim <machine>``
    (studies, validations), declared in its folder; ``accel.cli`` builds the Typer command
    from ``options`` (plus ``--json``) and prints the returned ``CliOutput``, exiting with
    its ``exit_code``."""

    group: str                                 # the CLI word after `accel` ("bdwp")
    verb: str                                  # "study"
    help: str                                  # one line for --help
    options: tuple[CliOption, ...]
    run: Callable[..., CliOutput]              # run(ctx: CliContext, **options) -> CliOutput
    group_help: str = ""                       # help of `accel <group>` (first command's wins)


def times(v: float, digits: int = 2) -> str:
    """A ratio as the README's results table writes it (``3.14×``), for readme_claims."""
    return f"{v:,.{digits}f}×"


@dataclass(frozen=True)
class Machine:
    name: str
    summary: str                               # one line for `accel sim <name> --help`
    config: str                                # module: PRESETS, DEFAULT_PRESET
    model: str                                 # module: simulate(), MODEL_VERSION
    result: str                                # "module:Class" implementing MachineResult
    workload_kinds: tuple[str, ...]            # subset of WORKLOAD_KINDS
    workload_knobs: tuple[str, ...] = ()       # resolve() arguments a sweep may set
    cli: str = ""                              # module: OPTIONS, run()
    view: str = ""                             # "module:VIEWS"
    derived_metrics: tuple[str, ...] = ()      # "module:function" (config, workload, metrics)
    demo_spec: str | None = None               # workloads/sweeps/<demo_spec>.yaml
    workload_source: str = ""                  # "module:function" for machine-only workload names
    # --- hooks for the machine's own commands and README claims (see MachineHooks) -----
    commands: str = ""                         # "module:COMMANDS", a tuple of CliCommand
    readme_claims: tuple[str, ...] = ()        # "module:function" () -> list of (claim, paper, accel)
    design: str = ""                           # module of its buildable datapath (accel.hw.designs)
    warm: str = ""                             # "module:function" () -> None: run the smallest case of every kernel family, so each compiles now (accel cache warm)

    # --- lazily resolved parts ------------------------------------------------------
    def config_module(self):
        return _ref(self.config)

    def model_module(self):
        return _ref(self.model)

    def presets(self) -> dict:
        return self.config_module().PRESETS

    def default_preset(self) -> str:
        mod = self.config_module()
        return getattr(mod, "DEFAULT_PRESET", next(iter(mod.PRESETS)))

    def config_class(self) -> type:
        return type(self.presets()[self.default_preset()])

    def simulate(self, workload, config, **options) -> MachineResult:
        self.check_workload(workload)
        return self.model_module().simulate(workload, config, **options)

    def model_version(self) -> str:
        return str(getattr(self.model_module(), "MODEL_VERSION", "0"))

    def result_type(self) -> type:
        return _ref(self.result)

    def units(self) -> Mapping[str, str]:
        return self.result_type().UNITS

    def cli_module(self):
        return _ref(self.cli) if self.cli else None

    def cli_options(self) -> tuple[CliOption, ...]:
        mod = self.cli_module()
        return tuple(mod.OPTIONS) if mod else ()

    def views(self) -> list[tuple[str, Callable, str]]:
        return list(_ref(self.view)) if self.view else []

    def derived(self) -> list[Callable]:
        return [_ref(r) for r in self.derived_metrics]

    def resolve_workload(self, spec: str, **knobs):
        """The machine's own workload source first (if any), then the one resolver."""
        if self.workload_source:
            w = _ref(self.workload_source)(spec, **knobs)
            if w is not None:
                return w
        from accel.workloads.builtin import KNOBS, resolve

        return resolve(spec, **{k: v for k, v in knobs.items() if k in KNOBS})

    # --- hooks (commands, readme_claims) ------------------------------------------
    def cli_commands(self) -> tuple[CliCommand, ...]:
        """The machine's own ``accel <group> <verb>`` commands."""
        return tuple(_ref(self.commands)) if self.commands else ()

    def warm_up(self) -> bool:
        """Compile the machine's kernels ahead of a first run; False: it declares no
        warm-up (its first run compiles what it uses, in seconds)."""
        if not self.warm:
            return False
        _ref(self.warm)()
        return True

    def claims(self) -> list[Callable[[], list[tuple[str, str, str]]]]:
        """Functions giving the README's "What the models say" rows for this machine.
        Resolved by ``accel.report``, so a reference may point into ``accel.hw``."""
        return [_ref(r) for r in self.readme_claims]

    def check_workload(self, workload) -> None:
        from accel.workloads.kinds import workload_kind

        kind = workload_kind(workload)
        if kind not in self.workload_kinds:
            raise WorkloadError(f"machine {self.name} runs {' or '.join(self.workload_kinds)} "
                                f"workloads; {workload.name!r} is a {kind} workload")

    # --- what a sweep varies: config fields, simulate options, configs ---------------
    def config_fields(self) -> list[str]:
        from accel.configs import field_types

        return list(field_types(self.config_class()))

    def option_names(self) -> list[str]:
        """Keyword options of ``simulate(workload, config, **options)``."""
        import inspect

        params = list(inspect.signature(self.model_module().simulate).parameters.values())[2:]
        return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def build_config(self, base: str | None, overrides: Mapping[str, Any] | None = None):
        """The preset (or arch file) ``base`` (default preset if None) with ``overrides``."""
        from accel.configs import apply_overrides, load_config

        cfg = load_config(self.presets(), base, {}, default=self.default_preset())
        return apply_overrides(cfg, dict(overrides or {}))  # validates even with none


_LOADED: dict[str, Machine] = {}
_EXTRA: dict[str, Machine] = {}   # registered at run time (plug-ins, tests)


def register(machine: Machine) -> Machine:
    """Add a machine at run time (a plug-in outside accel, or a test's toy machine)."""
    _EXTRA[machine.name] = machine
    return machine


def names() -> list[str]:
    return [*MACHINES, *(n for n in _EXTRA if n not in MACHINES)]


def get(name: str) -> Machine:
    if name in _EXTRA:
        return _EXTRA[name]
    if name not in MACHINES:
        from accel.configs import _suggest

        raise ConfigError(f"unknown machine {name!r}; known: {', '.join(names())}"
                          f"{_suggest(name, names())}")
    if name not in _LOADED:
        m = importlib.import_module(MACHINES[name]).MACHINE
        if m.name != name:
            raise ConfigError(f"{MACHINES[name]} declares machine {m.name!r}, registered as {name!r}")
        _LOADED[name] = m
    return _LOADED[name]


def machines() -> list[Machine]:
    return [get(n) for n in names()]
