"""Design-space sweeps: spec -> design points -> executors -> SQLite store -> Pareto.

Python API::

    from accel.sweep import load_spec, run_sweep, open_frame
    summary = run_sweep(load_spec("workloads/sweeps/SPEC.yaml"), workers=2)
    df = open_frame(summary.db)          # pandas DataFrame, param.* and metric.* columns
"""

from accel.sweep.pareto import pareto_front, pareto_mask
from accel.sweep.runner import SweepSummary, run_sweep
from accel.sweep.spec import SweepSpec, load_spec, parse_spec
from accel.sweep.store import Store, export, open_frame

__all__ = ["SweepSpec", "SweepSummary", "Store", "export", "load_spec", "open_frame",
           "pareto_front", "pareto_mask", "parse_spec", "run_sweep"]
