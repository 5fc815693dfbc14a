"""SAT kernels against plain-Python/NumPy references."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.arch.sat import _kernels as K
from accel.arch.sat.accuracy import nm_mask_fast
from accel.arch.sat.pe_array import tile_cycles
from accel.workloads.formats import nm_compress
from accel.workloads.prune import magnitude_nm


def pipelined_reference(pr, pc, beats):
    """Per-tile PE-array cycles of one pipelined run, written out from the RTL's rule:
    the first tile pays the start cycle, later ones max(beats, max(R, C)) (short tiles
    wait for the previous drain), the last one also the tail (C-1) + MAC + R rows."""
    cs = [(1 + b) if i == 0 else max(b, max(pr, pc)) for i, b in enumerate(beats)]
    cs[-1] += (pc - 1) + 1 + pr
    return cs


def walk_reference(p, bpc, pipelined=False):
    """Plain-Python tile walk: list every tile (compute, load, write), then combine."""
    M, Kd, N, tr, tc, pr, pc, bpg, mw, nkeep, sparse, ws, kcg = (int(v) for v in p[:13])
    ab, bb, ibits, ob, accb, act_half, w_half, out_buf = (int(v) for v in p[13:])
    G = math.ceil(Kd / mw)
    nk, nmt, nnt = math.ceil(G / kcg), math.ceil(M / tr), math.ceil(N / tc)
    bgrp = nkeep * bb + nkeep * ibits / 8 if sparse else mw * bb
    order = ([(mt, nt, kc) for nt in range(nnt) for kc in range(nk) for mt in range(nmt)] if ws
             else [(mt, nt, kc) for mt in range(nmt) for nt in range(nnt) for kc in range(nk)])
    spill = ws and nk > 1 and M * tc * accb > out_buf
    tiles = []
    for mt, nt, kc in order:
        rows, cols = min(tr, M - mt * tr), min(tc, N - nt * tc)
        gc = min(kcg, G - kc * kcg)
        kel = min(Kd, (kc * kcg + gc) * mw) - kc * kcg * mw
        a_res = (M * Kd * ab <= act_half) if ws else (tr * Kd * ab <= act_half)
        b_res = True if ws else (G * bgrp * N <= w_half)
        load = (0 if a_res and nt > 0 else rows * kel * ab)
        load += 0 if (b_res and mt > 0) else gc * bgrp * cols
        write = rows * cols * ob if kc == nk - 1 else 0
        if spill:
            load += rows * cols * accb if kc > 0 else 0
            write += rows * cols * accb if kc < nk - 1 else 0
        tiles.append((tile_cycles(pr, pc, gc * bpg), load, write, gc * bpg))
    if pipelined:
        cs = pipelined_reference(pr, pc, [t[3] for t in tiles])
        tiles = [(c, ld, w, b) for c, (_, ld, w, b) in zip(cs, tiles, strict=True)]
    total = tiles[0][1] / bpc
    for i, (c, _, _, _) in enumerate(tiles):
        nxt = tiles[i + 1][1] if i + 1 < len(tiles) else 0
        prev_w = tiles[i - 1][2] if i > 0 else 0
        total += max(c, (nxt + prev_w) / bpc)
    total += tiles[-1][2] / bpc
    return total, sum(t[0] for t in tiles), sum(t[1] + t[2] for t in tiles), len(tiles)


@settings(max_examples=60, deadline=None)
@given(M=st.integers(1, 200), Kd=st.integers(1, 300), N=st.integers(1, 200),
       sparse=st.booleans(), ws=st.booleans(), kcg=st.integers(1, 40),
       act_kb=st.integers(1, 64), w_kb=st.integers(1, 64), out_kb=st.integers(4, 64),
       bpc=st.floats(1.0, 500.0), pipelined=st.booleans(), part=st.sampled_from([1, 2, 4]))
def test_walk_matches_reference(M, Kd, N, sparse, ws, kcg, act_kb, w_kb, out_kb, bpc,
                                pipelined, part):
    mw, nkeep, bpg = (8, 2, 1) if sparse else (8, 8, 4)
    # part > 1: a row-split partition (pr < pc), where the pipelined spacing is pc
    p = np.array([M, Kd, N, 16 // part, 16 * part, 16 // part, 16, bpg, mw, nkeep,
                  int(sparse), int(ws), kcg, 2, 2, 3, 2, 4, act_kb * 512, w_kb * 512,
                  out_kb * 1024], dtype=np.int64)
    got = K.walk_gemms(p[None, :], bpc, pipelined)[0]
    ref = walk_reference(p, bpc, pipelined)
    assert got[K.R_CYCLES] == pytest_approx(ref[0])
    assert got[K.R_COMPUTE] == ref[1]
    assert got[K.R_DRAM] == pytest_approx(ref[2])
    assert got[K.R_TILES] == ref[3]


def pytest_approx(x):
    import pytest

    return pytest.approx(x, rel=1e-9, abs=1e-6)


def timeline_reference(eng, gen, pregen):
    t, sorter, stalls = 0.0, 0.0, []
    for e, g in zip(eng, gen, strict=True):
        s = 0.0
        if g > 0:
            sorter += g
            s = max(0.0, sorter - t) if pregen else g
        t += s + e
        stalls.append(s)
    return t, stalls


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4)), min_size=1, max_size=20),
       st.booleans())
def test_timeline_matches_reference(ops, pregen):
    eng = np.array([o[0] for o in ops])
    gen = np.array([o[1] for o in ops])
    _, end, stall = K.step_timeline(eng, gen, pregen)
    t, stalls = timeline_reference(eng, gen, pregen)
    np.testing.assert_allclose(stall, stalls)
    assert end[-1] == pytest_approx(t)
    if pregen:   # pre-generation never waits longer than generating in place
        _, end_off, _ = K.step_timeline(eng, gen, False)
        assert end[-1] <= end_off[-1] + 1e-6


@settings(max_examples=40, deadline=None)
@given(M=st.integers(1, 12), Kd=st.integers(1, 40), N=st.integers(1, 12),
       nm=st.sampled_from([(1, 4), (2, 4), (2, 8), (1, 8), (4, 8)]), seed=st.integers(0, 99))
def test_functional_equals_numpy(M, Kd, N, nm, seed):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((M, Kd))
    w = rng.standard_normal((Kd, N))
    b = nm_compress(w, nm[0], nm[1], axis=0)
    ref = a @ b.to_dense()
    got = K.nm_gemm(a, b.values.astype(np.float64), b.indices.astype(np.int64), b.n, b.m)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(K.dense_gemm(a, w), a @ w, rtol=1e-10, atol=1e-10)
    csr = sp.csr_matrix(b.to_dense())
    got = K.csr_gemm(a, csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data, N)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(o=st.integers(1, 20), i=st.integers(1, 20), axis=st.sampled_from([0, 1]),
       nm=st.sampled_from([(2, 4), (2, 8), (1, 8)]), seed=st.integers(0, 99))
def test_fast_mask_equals_prune_mask(o, i, axis, nm, seed):
    w = np.random.default_rng(seed).standard_normal((o, i))
    np.testing.assert_array_equal(nm_mask_fast(w, nm[0], nm[1], axis),
                                  magnitude_nm(w, nm[0], nm[1], axis))
