"""Per-machine report views (SAT phases, FlightLLM roofline, PIUMA threads/traffic).

Each view looks for the metrics the machine's ``Result.metrics()`` produces and is
skipped (returns None) when they are absent, so an older store still reports.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.report.figures import metric_label  # noqa: E402


def time_metric(df: pd.DataFrame, primary: str) -> str:
    for m in ("cycles", "total_cycles", primary):
        if f"metric.{m}" in df.columns:
            return m
    return primary


def views(machine: str, df: pd.DataFrame, params: list[str], name: str):
    """[(stem, thunk)] of the machine-specific figures."""
    return []
