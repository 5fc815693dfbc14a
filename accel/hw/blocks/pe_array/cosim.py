"""Co-simulation of the PE array: tiles of a workload op through the Verilated
SparsePEArray via cocotb.

``op_tiles`` cuts a ``Gemm`` (INT8 copies ``a_q``/``b_q``) into R x C output tiles over
the full K, with a plain-NumPy expected result per tile.  ``run_tiles`` writes a job
file, builds the Verilog once per configuration (``accel.hw.blocks.cosim_runner``: under
the user cache), runs the cocotb tests of ``sim/cocotb_pe_array.py`` (pipelined arrays:
``sim/cocotb_pe_runs.py``) and returns a :class:`CosimReport` with RTL cycles next to
``accel.arch.sat.pe_array.tile_cycles`` for every tile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accel.arch.sat.pe_array import tile_beats
from accel.errors import AccelError
from accel.hw.blocks.cosim_runner import CosimReport, build_and_run, verilate
from accel.hw.blocks.pe_array.params import BEATS_BITS, ArrayParams

BLOCK = "pe-array"
TEST_MODULE = "cocotb_pe_array"
RUN_TEST_MODULE = "cocotb_pe_runs"      # pipelined arrays: runs of tiles per start
SCENARIOS = ("unstalled", "random_stalls", "reset")


@dataclass
class Tile:
    """One tile as the regression describes it (arrays from the workload, NumPy result)."""

    name: str
    a_q: np.ndarray        # (R, K) activations (INT codes, or FP16 codes)
    w_vals: np.ndarray     # sparse: NM.values (G*N, C); dense: (K, C)
    w_idx: np.ndarray      # sparse: NM.indices; dense: unused (zeros)
    dense: bool
    expected: np.ndarray   # (R, C) reference result (wrapped to acc_bits, or FP32 codes)


def report_dict(rep: CosimReport) -> dict:
    """``accel rtl cosim pe-array --json``: the shared summary plus tile counts."""
    return {**rep.summary(), "tiles": len({o["name"] for o in rep.outcomes}),
            "tile_runs": len(rep.outcomes), "per_tile": rep.outcomes}


# --- tiles --------------------------------------------------------------------------

def wrap_np(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap (plain NumPy, independent of the Numba ``wrap_signed``)."""
    x = np.asarray(x, dtype=np.int64)
    if bits >= 64:
        return x
    half = np.int64(1) << (bits - 1)
    return ((x + half) & ((np.int64(1) << bits) - 1)) - half


def _check_shape(name, p: ArrayParams, a, dense: bool) -> int:
    """K of a tile's activations ``a``, refused unless ``a`` is R x K>0 and K fits the
    beat counter."""
    rows, k = a.shape
    if rows != p.rows or k <= 0:
        raise AccelError(f"tile {name}: activations must be {p.rows} x K>0, got {a.shape}")
    if tile_beats(k, p.n, p.m, dense) >= 1 << BEATS_BITS:
        raise AccelError(f"tile {name}: K={k} needs more than {(1 << BEATS_BITS) - 1} beats")
    return k


def make_tile(name, p: ArrayParams, a_q, w_dense=None, w_vals=None, w_idx=None):
    """A Tile: ``w_dense`` (K, C) for dense mode, or compressed ``w_vals``/``w_idx``."""
    a_q = np.asarray(a_q, dtype=np.int64)
    k = _check_shape(name, p, a_q, w_dense is not None)
    _check_range(name, a_q, p.act_bits, "activation")
    if w_dense is not None:
        w = np.asarray(w_dense, dtype=np.int64)
        _check_range(name, w, p.weight_bits, "weight")
        return Tile(name, a_q, w, np.zeros_like(w), True, wrap_np(a_q @ w, p.acc_bits))
    vals, idx = np.asarray(w_vals, np.int64), np.asarray(w_idx, np.int64)
    _check_range(name, vals, p.weight_bits, "weight")
    g, cols = -(-k // p.m), vals.shape[1]
    dense = np.zeros((g, p.m, cols), dtype=np.int64)
    np.put_along_axis(dense, idx.reshape(g, p.n, cols), vals.reshape(g, p.n, cols), axis=1)
    w = dense.reshape(g * p.m, cols)[:k]
    return Tile(name, a_q, vals, idx, False, wrap_np(a_q @ w, p.acc_bits))


def make_tile_fp16(name, p: ArrayParams, a_bits, w_dense=None, w_vals=None, w_idx=None):
    """FP16 Tile from 16-bit codes; expected = the FP32 codes of
    ``fp16.gemm_reference_exact`` (exact accumulation, one rounding: the RTL's rules)."""
    from accel.arch.sat import fp16

    a = np.asarray(a_bits, dtype=np.int64)
    _check_shape(name, p, a, w_dense is not None)
    if w_dense is not None:
        w = np.asarray(w_dense, dtype=np.int64)
        return Tile(name, a, w, np.zeros_like(w), True,
                    fp16.gemm_reference_exact(a, w, None, p.n, p.m, dense=True))
    vals, idx = np.asarray(w_vals, np.int64), np.asarray(w_idx, np.int64)
    return Tile(name, a, vals, idx, False,
                fp16.gemm_reference_exact(a, vals, idx, p.n, p.m, dense=False))


def op_tiles_fp16(op, p: ArrayParams, max_tiles: int) -> list:
    """Cut a Gemm's real operands (``op.a``, ``op.b`` rounded to FP16) into R x C tiles
    over the full K; N:M operands (groups along K) in sparse mode, dense ones in dense
    mode; edge tiles zero-padded (code 0 = +0)."""
    from accel.arch.sat import fp16

    b = op.b
    if op.a is None or b.values is None:
        raise AccelError(f"op {op.name} has no operand values; cannot co-simulate")
    dense = _check_cut(op, b, p, max_tiles)
    a = fp16.to_fp16_bits(op.a, f"op {op.name} activations")
    wv = fp16.to_fp16_bits(b.values, f"op {op.name} weights")
    return _cut_tiles(op, p, max_tiles, a, wv, b, dense, make_tile_fp16)


def _check_range(name, x, bits, what):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if x.size and (x.min() < lo or x.max() > hi):
        raise AccelError(f"tile {name}: {what} values {int(x.min())}..{int(x.max())} do not "
                         f"fit {bits}-bit signed")


def op_tiles(op, p: ArrayParams, max_tiles: int, dense: bool | None = None) -> list:
    """Cut a Gemm (INT8 copies) into R x C tiles; edge tiles are zero-padded.  An N:M
    operand runs in sparse mode unless ``dense`` asks for its dense form."""
    if op.a_q is None or op.b_q is None:
        raise AccelError(f"op {op.name} has no INT8 operands (a_q/b_q); cannot co-simulate")
    b = op.b_q
    dense = _check_cut(op, b, p, max_tiles) or bool(dense)
    a = np.asarray(op.a_q, dtype=np.int64)
    w = np.asarray(b.to_dense(), dtype=np.int64) if dense else b.values
    return _cut_tiles(op, p, max_tiles, a, w, b, dense, make_tile)


def _check_cut(op, b, p: ArrayParams, max_tiles: int) -> bool:
    """Whether weight operand ``b`` is dense (True) or N:M along K matching the array
    (False); refuses any other format and ``max_tiles`` < 1."""
    if b.kind == "nm":
        if b.axis != 0:
            raise AccelError(f"op {op.name}: N:M groups must run along K (axis 0)")
        if (b.n, b.m) != (p.n, p.m):
            raise AccelError(f"op {op.name} is {b.n}:{b.m} but the array is {p.n}:{p.m}; "
                             f"pass --n {b.n} --m {b.m}")
        dense = False
    elif b.kind == "dense":
        dense = True
    else:
        raise AccelError(f"op {op.name}: format {b.kind!r} not supported by the PE array")
    if max_tiles < 1:
        raise AccelError(f"--max-tiles must be >= 1, got {max_tiles}")
    return dense


def _cut_tiles(op, p: ArrayParams, max_tiles: int, a, w, b, dense: bool, make) -> list:
    """The first ``max_tiles`` R x C output tiles of ``op`` over the full K, row-tile
    major: activations ``a`` (M, K); weights ``w`` dense (K, N) when ``dense``, else the
    N:M values (K/M*N, N) of operand ``b`` (at positions ``b.indices``).  Edge tiles are zero-padded (padded sparse
    columns: distinct positions, value 0); ``make`` (``make_tile`` or ``make_tile_fp16``)
    builds each tile."""
    tiles = []
    for r0 in range(0, op.M, p.rows):
        for c0 in range(0, op.N, p.cols):
            if len(tiles) >= max_tiles:
                return tiles
            at = np.zeros((p.rows, op.K), np.int64)
            at[: min(p.rows, op.M - r0)] = a[r0:r0 + p.rows]
            name = f"{op.name}[{r0}:{r0 + p.rows},{c0}:{c0 + p.cols}]"
            nc = min(p.cols, op.N - c0)
            if dense:
                wt = np.zeros((op.K, p.cols), np.int64)
                wt[:, :nc] = w[:, c0:c0 + p.cols]
                tiles.append(make(name, p, at, w_dense=wt))
            else:
                vals = np.zeros((w.shape[0], p.cols), np.int64)
                idx = np.tile(np.arange(p.n), w.shape[0] // p.n)[:, None].repeat(p.cols, axis=1)
                vals[:, :nc] = w[:, c0:c0 + p.cols]
                idx[:, :nc] = b.indices[:, c0:c0 + p.cols]
                tiles.append(make(name, p, at, w_vals=vals, w_idx=idx))
    return tiles


# --- job files ------------------------------------------------------------------------

def save_job(path: Path, p: ArrayParams, tiles: list, opts: dict) -> None:
    arrays = {"params": np.array(json.dumps(p.to_dict())), "opts": np.array(json.dumps(opts)),
              "names": np.array([t.name for t in tiles]),
              "dense": np.array([t.dense for t in tiles])}
    for i, t in enumerate(tiles):
        arrays.update({f"a{i}": t.a_q, f"wv{i}": t.w_vals, f"wi{i}": t.w_idx,
                       f"exp{i}": t.expected})
    np.savez(path, **arrays)


def load_job(path):
    with np.load(path, allow_pickle=False) as z:
        p = ArrayParams(**json.loads(str(z["params"])))
        opts = json.loads(str(z["opts"]))
        tiles = [Tile(str(n), z[f"a{i}"], z[f"wv{i}"], z[f"wi{i}"], bool(d), z[f"exp{i}"])
                 for i, (n, d) in enumerate(zip(z["names"], z["dense"], strict=True))]
    return p, tiles, opts


# --- build and run --------------------------------------------------------------------

def build(p: ArrayParams, waves: bool = False) -> Path:
    """Verilate one configuration (user cache, one folder per config hash); reused when
    unchanged."""
    from accel.hw.blocks.pe_array.verilog import TOP, generate

    return verilate(BLOCK, p.config_hash(), p.name, TOP, lambda: generate(p), waves,
                    quick=p.fp)


def run_tiles(p: ArrayParams, tiles: list, scenarios=SCENARIOS, seed: int = 1,
              unstalled_only: tuple[str, ...] = (), waves: bool = False,
              waves_on_failure: bool = True, runs: list[list[int]] | None = None
              ) -> CosimReport:
    """Co-simulate ``tiles``.  Pipelined arrays take ``runs`` (lists of tile indices, each
    fed back to back after one start; default: all tiles in one run) and report one
    outcome per run, timed by ``tiles_cycles(..., pipelined=True)``."""
    from accel.hw.blocks.pe_array.verilog import TOP

    if not tiles:
        raise AccelError("no tiles to co-simulate")
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        raise AccelError(f"unknown scenario {bad[0]!r}; known: {', '.join(SCENARIOS)}")
    if runs is None:
        runs = [list(range(len(tiles)))] if p.pipelined else []
    elif not p.pipelined:
        raise AccelError("runs of tiles need a pipelined array (pipelined=True)")
    if any(not r or min(r) < 0 or max(r) >= len(tiles) for r in runs):
        raise AccelError(f"runs must be non-empty lists of tile indices < {len(tiles)}")
    opts = {"scenarios": list(scenarios), "seed": seed, "unstalled_only": list(unstalled_only),
            "runs": [list(map(int, r)) for r in runs]}
    report = build_and_run(lambda: build(p, waves=waves), p.to_dict(),
                           RUN_TEST_MODULE if p.pipelined else TEST_MODULE, TOP,
                           ("ACCEL_TILE_JOB", "ACCEL_TILE_RESULTS"),
                           lambda job: save_job(job, p, tiles, opts), seed, waves)
    if report.tests_failed and waves_on_failure and not waves:
        report.waves = run_tiles(p, tiles, scenarios, seed, unstalled_only, waves=True,
                                 waves_on_failure=False, runs=runs).waves
    return report
