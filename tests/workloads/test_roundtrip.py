"""Every format saves and loads bit-identically; damaged files fail with one clear line."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.errors import WorkloadError
from accel.workloads import io
from accel.workloads.formats import Dense, Unstructured, block_compress, nm_compress
from accel.workloads.graphs import uniform_random
from accel.workloads.ops import Gemm, SpGemm, Workload
from accel.workloads.prune import block_nm
from accel.workloads.quantize import quantize_symmetric, quantize_weight


@st.composite
def gemms(draw, idx: int):
    k, n, mrows = draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    wt = rng.standard_normal((k, n)).astype(draw(st.sampled_from([np.float32, np.float64])))
    kind = draw(st.sampled_from(["dense", "nm", "unstructured", "block"]))
    meta_only = draw(st.booleans())
    if kind == "dense":
        b = Dense((k, n), None if meta_only else wt)
    elif kind == "nm":
        m = draw(st.integers(2, 32))
        nn, axis = draw(st.integers(1, m - 1)), draw(st.integers(0, 1))
        b = nm_compress(wt, nn, m, axis)
        if meta_only:
            b = type(b)(b.shape, b.n, b.m, b.axis)
    elif kind == "unstructured":
        import scipy.sparse as sp

        b = Unstructured.from_scipy(sp.csr_matrix(wt * (rng.random((k, n)) < 0.3)))
        if meta_only:
            b = Unstructured((k, n), density_hint=float(rng.random()))
    else:
        b = block_compress(wt, block_nm(wt, int(rng.choice([2, 4, 8]))))
        if meta_only:
            b = type(b)(b.shape, b.block_n)
    a = None if meta_only else rng.standard_normal((mrows, k)).astype(np.float32)
    extra = {}
    if not meta_only and draw(st.booleans()):  # the RTL path's INT8 copies
        a_q, a_scale = quantize_symmetric(a, axis=0)
        b_q, b_scale = quantize_weight(b)
        extra = {"a_q": a_q, "a_scale": a_scale, "b_q": b_q, "b_scale": b_scale}
    return Gemm(f"op{idx}", draw(st.sampled_from(["fwd", "bwd_data", "infer", "decode"])),
                mrows, k, n, b, a=a, source=f"layer{idx}.weight",
                repeat=draw(st.integers(1, 3)), **extra)


@st.composite
def workloads(draw):
    ops = [draw(gemms(i)) for i in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        a = uniform_random(draw(st.integers(2, 30)), 0.2, seed=draw(st.integers(0, 99)))
        ops.append(SpGemm("A*A", a, a))
    return Workload("w", ops, {"method": "test", "seed": 7})


def _flat(w: Workload):
    arrays, manifest = io.workload_arrays_and_manifest(w)
    manifest.pop("provenance")
    return arrays, manifest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=workloads(), compress=st.booleans())
def test_round_trip_is_bit_identical(tmp_path, w, compress):
    path = io.save(w, tmp_path / "w.npz", compress=compress)
    back = io.load(path)
    a1, m1 = _flat(w)
    a2, m2 = _flat(back)
    assert m1 == m2
    assert sorted(a1) == sorted(a2)
    for key in a1:
        x, y = np.asarray(a1[key]), a2[key]
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), key
    assert back.provenance["method"] == "test" and "accel_version" in back.provenance
    assert back.content_id() == w.content_id()
    for o1, o2 in zip(w.ops, back.ops, strict=True):
        assert o1.density == o2.density
        if o1.b.values is not None:
            np.testing.assert_array_equal(o1.b.to_dense(), o2.b.to_dense())


@pytest.mark.parametrize("kind, match", [("pickled", "pickled"), ("truncated", "truncated"),
                                         ("future", "schema_version")])
def test_damaged_files_are_refused(bad_workload_files, kind, match):
    with pytest.raises(WorkloadError, match=match) as exc:
        io.load(bad_workload_files[kind])
    assert "\n" not in str(exc.value)
    assert io.load(bad_workload_files["good"]).ops[0].name == "g"
