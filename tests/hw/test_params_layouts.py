"""Parameter validation and the payload layouts shared by the RTL and the testbench."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.errors import AccelError
from accel.hw.blocks.pe_array import layouts
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.layouts import pack, unpack


@pytest.mark.parametrize("kw, msg", [
    ({"rows": 0}, "non-empty"), ({"cols": 0}, "non-empty"),
    ({"n": 5, "m": 4}, "N <= M"), ({"n": 0}, "N <= M"),
    ({"m": 6}, "not supported"), ({"acc_bits": 15}, "cannot hold"),
    ({"act_bits": 1}, "act-bits"), ({"rows": 65}, "larger than"),
])
def test_bad_params_one_line(kw, msg):
    args = {"rows": 4, "cols": 4, "n": 2, "m": 4, **kw}
    with pytest.raises(AccelError, match=msg) as exc:
        ArrayParams(**args)
    assert "\n" not in str(exc.value)


def test_config_hash_stable_and_distinct():
    a, b = ArrayParams(4, 4, 2, 4), ArrayParams(4, 4, 2, 8)
    assert a.config_hash() == ArrayParams(4, 4, 2, 4).config_hash()
    assert a.config_hash() != b.config_hash()


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), m=st.sampled_from([2, 4, 8, 16]),
       data=st.data())
def test_pack_unpack_roundtrip(rows, cols, m, data):
    n = data.draw(st.integers(1, m))
    p = ArrayParams(rows, cols, n, m)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    val = rng.integers(-128, 128, (cols, n))
    idx = rng.integers(0, m, (cols, n))
    word = pack(layouts.weight_beat(p), val=val, idx=idx)
    assert word < 1 << layouts.weight_beat(p).size
    back = unpack(layouts.weight_beat(p), word)
    np.testing.assert_array_equal(back["val"], val.ravel())
    np.testing.assert_array_equal(back["idx"], idx.ravel())
    win = rng.integers(-128, 128, (rows, m))
    back = unpack(layouts.act_beat(p), pack(layouts.act_beat(p), win=win))
    np.testing.assert_array_equal(back["win"], win.ravel())


def test_layout_bit_positions():
    """Element [c][j] of val sits at (c*N + j)*width: the layout, not a convention."""
    p = ArrayParams(1, 2, 2, 4)
    word = pack(layouts.weight_beat(p), val=[[0, 0], [0, -1]], idx=[[0, 0], [0, 0]])
    assert word == 0xFF << (3 * 8)
