"""Design-point generation: the constrained Cartesian grid, optionally sub-sampled."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from accel.errors import ConfigError
from accel.sweep.spec import MAX_POINTS, SweepSpec


def grid_size(spec: SweepSpec) -> int:
    return math.prod(len(v) for v in spec.parameters.values())


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every parameter combination (declaration order) that satisfies all constraints.

    With ``sample: {n, seed}`` a seeded random subset of ``n`` of them is kept, in grid
    order, so the same spec always gives the same points.
    """
    total = grid_size(spec)
    if total > MAX_POINTS:
        raise ConfigError(f"the parameter grid has {total} points (limit {MAX_POINTS}); "
                          "narrow a range or use sample: {n: ...}")
    names = list(spec.parameters)
    points = []
    for combo in itertools.product(*(spec.parameters[n] for n in names)):
        p = dict(zip(names, combo, strict=True))
        if all(c.holds(p) for c in spec.constraints):
            points.append(p)
    if spec.sample_n is not None and spec.sample_n < len(points):
        rng = np.random.default_rng(spec.sample_seed)
        keep = np.sort(rng.choice(len(points), size=spec.sample_n, replace=False))
        points = [points[i] for i in keep]
    return points
