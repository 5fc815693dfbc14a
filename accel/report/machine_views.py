"""Per-machine report figures, found through the machine registry.

Each machine declares its views next to its model (``accel/arch/<m>/view.py``, the
registry's ``view``); this module only looks them up and hands each the report's
design-point label.  A view returns None when the metrics it needs are absent.
"""

from __future__ import annotations

import pandas as pd

from accel.report.figures import short_label


def time_metric(df: pd.DataFrame, primary: str) -> str:
    for m in ("cycles", "total_cycles", primary):
        if f"metric.{m}" in df.columns:
            return m
    return primary


def unit_lookup(machine: str):
    """``metric -> unit or None`` for a registered machine's results (its UNITS table);
    always None for a machine this accel does not have."""
    from accel.arch import registry
    from accel.errors import ConfigError

    try:
        table = registry.get(machine).units()
    except ConfigError:
        return lambda metric: None
    return lambda metric: registry.unit_of(table, metric)


def metric_notes(machine: str) -> dict[str, str]:
    """``metric -> what it means`` where a metric stands in for something else (the
    machine's result type declares ``METRIC_NOTES``); empty for an unknown machine."""
    from accel.arch import registry
    from accel.errors import ConfigError

    try:
        return dict(getattr(registry.get(machine).result_type(), "METRIC_NOTES", {}))
    except ConfigError:
        return {}


def views(machine: str, df: pd.DataFrame, params: list[str], name: str):
    """[(stem, thunk)] of the machine-specific figures (none for an unknown machine)."""
    from accel.arch import registry
    from accel.errors import ConfigError

    try:
        declared = registry.get(machine).views()
    except ConfigError:  # a store written by a machine this accel does not have
        return []
    return [(stem, lambda fn=fn, what=what: fn(df, params, f"{name}: {what}", short_label))
            for stem, fn, what in declared]
