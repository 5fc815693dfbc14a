"""Hypothesis at the three edges (derandomized "ci" profile): whatever structure a spec,
a config override or a workload file's bytes hold, the answer is a value or an
AccelError, never another exception."""

from __future__ import annotations

import hostile_files as H
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.errors import AccelError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                                 inner, max_size=4)), max_leaves=12)
SPEC_KEYS = ["name", "machine", "base", "workloads", "parameters", "constraints", "objectives",
             "sample", "range", "num", "step", "factor", "start", "stop", "n", "seed"]


@settings(max_examples=150)
@given(st.dictionaries(st.sampled_from(SPEC_KEYS), values, max_size=6),
       st.dictionaries(st.sampled_from(["cores", "clock_ghz", "threads_per_pipeline", "x"]),
                       values, max_size=3))
def test_any_spec_is_a_spec_or_a_config_error(data, params):
    from accel.sweep.points import design_points
    from accel.sweep.spec import parse_spec

    data = {"machine": "piuma", "workloads": ["rmat:4"], **data}
    if params:
        data["parameters"] = {k: {"range": v} if isinstance(v, dict) else v for k, v in params.items()}
    try:
        design_points(parse_spec(data))
    except AccelError:
        pass


@settings(max_examples=150)
@given(st.dictionaries(st.text(max_size=12) | st.sampled_from(["cores", "clock_ghz", "spad_bytes",
                                                                "pool_fraction", "algorithm"]),
                       values, max_size=3))
def test_any_override_is_a_config_or_a_config_error(overrides):
    from accel.arch.piuma.config import PRESETS
    from accel.configs import apply_overrides

    try:
        apply_overrides(PRESETS["piuma"], overrides)
    except AccelError:
        pass


@settings(max_examples=80)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8))
def test_any_corruption_of_a_workload_file_is_a_workload_error(tmp_path_factory, flips):
    from accel.workloads import io as wio

    folder = tmp_path_factory.mktemp("fuzz")
    good = folder / "g.npz"
    H.npz(H.spgemm_manifest(), H.spgemm_arrays())(good)
    data = bytearray(good.read_bytes())
    for at, byte in flips:
        data[at % len(data)] = byte
    bad = folder / "b.npz"
    bad.write_bytes(bytes(data))
    try:
        wio.load(bad)
    except AccelError:
        pass
