"""The PE-array tile: the contract between the SAT model and the Amaranth RTL.

One *tile* is what the RTL ``SparsePEArray`` (accel/hw) computes between ``start`` and
``done``: an R x C block of outputs, output-stationary, reduced over ``beats``
(activation window, compressed weight group) pairs.

Stream beats (built by :func:`pack_tile`, consumed identically by the model and by the
cocotb driver):

* activation beat  ``act[b]``  : R windows of M activations, one per array row;
* weight beat      ``wval[b], widx[b]`` : C groups of N kept weights and their
  positions 0..M-1 inside the window, one per array column;
* result beat      : one array row of C accumulators; R result beats per tile.

PE (r, c) multiplies, for each of its N multipliers j, ``act[b, r, widx[b, c, j]]`` by
``wval[b, c, j]`` and adds the N products to its accumulator (``acc_bits`` wide,
two's-complement wrap-around, as in the RTL).  The FP16 array (``ArrayParams.fp16``, SAT's
training datapath) takes the same beats as FP16 codes and accumulates in FP32 with the
rules of ``accel/arch/sat/fp16.py`` (exact fixed-point accumulation, one rounding at the
output) through a deeper pipeline: every timing function below takes the datapath
(``dtype``, default ``"int8"``) and adds its latencies (``MAC_LATENCY_FP16``,
``OUT_LATENCY_FP16``).

Dense mode (documented choice): the *same* sparse engine is fed dense groups.  Each
window of M activations is sent M/N times (rounded up), each time with N consecutive
positions, so a dense GEMM takes ceil(K/M) * ceil(M/N) beats against ceil(K/M) for
N:M -- a M/N speed-up on the same hardware, as SAT's dense/sparse engine implies.

K that is not a multiple of M: the reduction axis is zero-padded to ceil(K/M)*M
(``accel.workloads.formats.nm_compress`` does this), padded activations are 0.

Cycle contract (no stalls) -- see :func:`tile_cycles`.  The RTL's cycle counter counts
the start cycle and then only cycles in which the tile advances (no input starvation,
no result backpressure), so the counter equals ``tile_cycles`` whatever the stream
stalls, and the wall time is ``tile_cycles`` plus the stalled cycles.  Checked every
tile by tests/hw (amaranth.sim and the cocotb/Verilator regression, marker ``rtl``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)

# --- cycle constants of the RTL micro-architecture (accel/hw/blocks/pe_array) ---------
# Each is a property of the generated RTL; tests/hw check the RTL against them.
START_CYCLES = 1     # `start` accepted -> first beat may enter (controller IDLE -> RUN)
MAC_LATENCY = 1      # registered multiply-accumulate inside a PE
DRAIN_BEATS_PER_ROW = 1  # one result beat (one array row) leaves per cycle
# FP16 datapath (accel/hw/blocks/pe_array/pe_fp16.py, fp32_out.py).  Steps from the beat
# in the PE's input register to the accumulator holding it (INT8: 1, the accumulator):
MAC_LATENCY_FP16 = 5     # (1) selected operand pair, (2) 11x11 significand product (DSP48E2)
                         # + exponent sum, (3) product x +-2^(shift mod 16) (2nd DSP48E2),
                         # (4) coarse-shifted 83-bit addend, (5) the wide accumulator
# Registers between the array's row select and the result port (INT8: none, the
# accumulators are offered as they are); one FP32 converter per column:
OUT_LATENCY_FP16 = 6     # (1) selected row, (2) |S| and sign, (3) leading-one position,
                         # (4) coarse normalising shift, (5) fine shift + sticky, (6) RNE code
DTYPES = ("int8", "fp16")


def datapath_latency(dtype: str = "int8") -> int:
    """MAC plus output latency of a datapath: what ``tile_cycles`` adds after the last
    beat has crossed the array (INT8: MAC_LATENCY = 1)."""
    if dtype == "int8":
        return MAC_LATENCY
    if dtype == "fp16":
        return MAC_LATENCY_FP16 + OUT_LATENCY_FP16
    raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def tile_cycles(rows: int, cols: int, beats: int, dtype: str = "int8") -> int:
    """Cycles from ``start`` to ``done`` for one tile with unstalled streams.

    Systolic schedule: beat b reaches PE (r, c) at cycle b + r + c (activations are
    skewed by row and move right, weights skewed by column and move down), so the
    last MAC issues at (beats-1) + (rows-1) + (cols-1); after MAC_LATENCY the R result
    rows drain one per cycle.  FP16: ``datapath_latency("fp16")`` = MAC_LATENCY_FP16 +
    OUT_LATENCY_FP16 instead of MAC_LATENCY (the drain steps push the R rows through
    the output converters, so the last row leaves OUT_LATENCY_FP16 steps later).
    """
    if rows <= 0 or cols <= 0 or beats <= 0:
        raise ValueError("rows, cols and beats must be positive")
    return int(tile_cycles_nb(rows, cols, beats, datapath_latency(dtype)))


@njit(cache=True)
def tile_cycles_nb(rows, cols, beats, lat=MAC_LATENCY):
    """Numba twin of :func:`tile_cycles` for the model's hot loops (same formula);
    ``lat`` = ``datapath_latency(dtype)``."""
    return START_CYCLES + beats + (rows - 1) + (cols - 1) + lat + rows * DRAIN_BEATS_PER_ROW


# --- pipelined array (accel/hw ``ArrayParams(pipelined=True)``): runs of tiles ----------
# Each PE copies its accumulator into a shadow register when the last beat of a tile
# passes it (a ``last`` flag travels with the systolic activation window) and restarts
# from 0, so tile i+1 feeds while tile i's shadows drain.  Row r's shadows are complete
# r steps after row 0's, so the drain follows the diagonal wavefront: the row skew
# never shows, only the column skew, the MAC and the R result beats.
# Spacing rule (why short tiles stall): the last beats of consecutive tiles must enter
# at least ``pipelined_spacing(R, C)`` = max(R, C) steps apart -- R because the single
# result port emits one of the R rows per step, C because column 0's shadow is written
# C-1 steps before column C-1's and must hold until its row is read.  The controller
# holds a tile's last beat at the input (bubble steps, counted) until the spacing holds.
# FP16: the rule is the same.  The last beat's flag travels through the MAC pipeline with
# it, so every shadow write and every row read moves MAC_LATENCY_FP16 - 1 steps later
# alike; the output converters are a fixed delay after the read.  Only the tail grows.


def pipelined_spacing(rows: int, cols: int) -> int:
    """Fewest steps between the last beats of consecutive tiles on the pipelined array."""
    return max(rows * DRAIN_BEATS_PER_ROW, cols)


@njit(cache=True)
def pipelined_tile_steps_nb(rows, cols, beats, first):
    """Steps one tile adds to a pipelined run (before the run's tail).

    The first tile adds the start cycle and its beats; every later tile max(beats,
    spacing) -- its beats, plus bubbles before its last beat when it is shorter than
    the previous tile's drain (see ``pipelined_spacing``)."""
    if first:
        return START_CYCLES + beats
    return max(beats, max(rows * DRAIN_BEATS_PER_ROW, cols))


@njit(cache=True)
def pipelined_tail_nb(rows, cols, lat=MAC_LATENCY):
    """Steps after the run's last beat: it crosses the columns (cols-1), is accumulated
    into the last column's shadow (MAC_LATENCY; FP16: through the output converters
    too, ``lat`` = ``datapath_latency(dtype)``) and the R rows drain, one per step."""
    return (cols - 1) + lat + rows * DRAIN_BEATS_PER_ROW


@njit(cache=True)
def tiles_cycles_nb(rows, cols, beats, pipelined, lat=MAC_LATENCY):
    """Numba twin of :func:`tiles_cycles`; ``beats`` an int64 array (one per tile)."""
    total = 0
    if not pipelined:
        for i in range(beats.shape[0]):
            total += tile_cycles_nb(rows, cols, beats[i], lat)
        return total
    for i in range(beats.shape[0]):
        total += pipelined_tile_steps_nb(rows, cols, beats[i], i == 0)
    return total + pipelined_tail_nb(rows, cols, lat)


def tiles_cycles(rows: int, cols: int, beats_per_tile, pipelined: bool,
                 dtype: str = "int8") -> int:
    """Cycles of a run of tiles with unstalled streams.

    Not pipelined: every tile is its own start..done, so the sum of :func:`tile_cycles`.
    Pipelined: one ``start``..``done`` for the whole run; consecutive tiles overlap
    (tile i+1 feeds while tile i drains), so the run costs START_CYCLES + beats[0] +
    sum(max(beats[i], max(R, C)) for i >= 1) + (C-1) + MAC_LATENCY + R (FP16:
    ``datapath_latency("fp16")`` in place of MAC_LATENCY).
    """
    beats = np.asarray(list(beats_per_tile), dtype=np.int64)
    if rows <= 0 or cols <= 0 or beats.size == 0 or (beats <= 0).any():
        raise ValueError("rows, cols and every tile's beats must be positive, and the run "
                         "needs at least one tile")
    return int(tiles_cycles_nb(rows, cols, beats, bool(pipelined), datapath_latency(dtype)))


def beats_per_group(n_kept: int, n_hw: int) -> int:
    """Beats one window of M needs when n_kept weights are streamed N = n_hw at a time."""
    return -(-n_kept // n_hw)


def tile_beats(k: int, n: int, m: int, dense: bool) -> int:
    groups = -(-k // m)
    return groups * (beats_per_group(m, n) if dense else 1)


def pack_tile(a_q: np.ndarray, w_vals: np.ndarray, w_idx: np.ndarray, n: int, m: int,
              dense: bool = False):
    """Pack one tile's operands into stream beats.

    a_q    : (R, K) activations (integers), K padded to a multiple of M here.
    w_vals : sparse mode: (G*N, C) compressed values (``NM.values`` of a K x C weight,
             axis 0); dense mode: (K, C) dense weights.
    w_idx  : sparse mode: (G*N, C) positions (``NM.indices``); ignored in dense mode.
    Returns ``act (beats, R, M)``, ``wval (beats, C, N)``, ``widx (beats, C, N)``.
    """
    rows, k = a_q.shape
    g = -(-k // m)
    a_pad = np.zeros((rows, g * m), dtype=np.int64)
    a_pad[:, :k] = a_q
    win = a_pad.reshape(rows, g, m).transpose(1, 0, 2)          # (G, R, M)
    if not dense:
        cols = w_vals.shape[1]
        wv = w_vals.reshape(g, n, cols).transpose(0, 2, 1)       # (G, C, N)
        wi = w_idx.reshape(g, n, cols).transpose(0, 2, 1)
        return win, wv.astype(np.int64), wi.astype(np.int64)
    cols = w_vals.shape[1]
    per = beats_per_group(m, n)
    w_pad = np.zeros((g * m, cols), dtype=np.int64)
    w_pad[:k] = w_vals
    act = np.repeat(win, per, axis=0)                             # (G*per, R, M)
    # beat p of a window carries positions p*N .. p*N+N-1 (positions >= M are zero-padded)
    pos = np.arange(per * n).reshape(per, n)
    valid = pos < m
    posc = np.where(valid, pos, 0)
    wg = w_pad.reshape(g, m, cols)[:, posc, :]                    # (G, per, N, C)
    wg = np.where(valid[None, :, :, None], wg, 0)
    wval = wg.transpose(0, 1, 3, 2).reshape(g * per, cols, n)
    widx = np.broadcast_to(posc[None, :, None, :], (g, per, cols, n)).reshape(g * per, cols, n)
    widx = np.ascontiguousarray(widx, dtype=np.int64)
    return act, wval, widx


@njit(cache=True)
def tile_compute(act, wval, widx, acc_bits):
    """Functional PE array: (beats, R, M) x (beats, C, N) -> (R, C) wrapped to acc_bits."""
    beats, rows, _ = act.shape
    cols, n = wval.shape[1], wval.shape[2]
    acc = np.zeros((rows, cols), dtype=np.int64)
    for b in range(beats):
        for r in range(rows):
            for c in range(cols):
                s = 0
                for j in range(n):
                    s += act[b, r, widx[b, c, j]] * wval[b, c, j]
                acc[r, c] += s
    return wrap_signed(acc, acc_bits)


@njit(cache=True)
def wrap_signed(x, bits):
    """Two's-complement wrap of int64 values to ``bits`` (what an RTL register holds)."""
    out = np.empty_like(x)
    span = np.int64(1) << bits
    half = np.int64(1) << (bits - 1)
    flat_in = x.ravel()
    flat_out = out.ravel()
    for i in range(flat_in.size):
        v = flat_in[i] & (span - 1) if bits < 64 else flat_in[i]
        flat_out[i] = v - span if (bits < 64 and v >= half) else v
    return out
