"""Public API of the SMASH-on-PIUMA SpGEMM model: validate, run the Numba engine, report.

``simulate(workload, config, algorithm="smash-v1")`` runs the chosen algorithm on every
SpGEMM op of the workload (normally one, C = A.B) and returns a ``Result``.  The engine
(``_kernels.py``, its state layouts in ``state.py``) computes C for real; ``Result.correct``
compares it with SciPy (all of C up to ``FULL_CHECK_ENTRIES``, else sampled rows plus every
row's entry count, so a graph-scale C is never held).  ``reference.simulate_reference`` runs the same machine on a
plain-Python engine (small inputs), which tests hold equal to this one cycle for cycle.

Algorithms (all on the same simulated machine, see config.py):
  smash-v1         row-wise (Gustavson), static window distribution of whole rows, per-thread
                   hash table in scratchpad with atomic insert/add, write-back compacts it.
  smash-v2         v1 + tokenization: work handed out dynamically by an atomic fetch-add.  A
                   token is a light row, or a slice of a heavy row's A nonzeros holding about
                   ``token_pps`` partial products; the first thread on a row owns its table,
                   the row's other tokens are taken by helpers that merge into that table with
                   the same (remote, if on another core) atomics, and the owner writes the row
                   back once the row's open-token counter reaches zero.  So a power-law hub
                   row is spread over many threads instead of being one thread's tail.
  smash-v3         v2 + fragmenting memory: each row's table is built from fixed-size
                   scratchpad fragments taken from a per-core pool (the whole scratchpad),
                   sized by a pre-pass from the row's upper bound (sum of the B-row lengths
                   it touches, capped at N).  Heavy rows get many fragments (no DRAM spills),
                   light rows few (short write-back scans).  When the pool runs short a table
                   gets fewer fragments and spills like v1.
  inner            inner product: every (row of A, column of B) pair, two-pointer intersection.
  outer            outer product: column k of A x row k of B -> partial products in DRAM,
                   then per row of C a read-back, sort and merge.
  gustavson-dense  row-wise with a dense accumulator per row owner in DRAM (uncached 16-B
                   read-modify-writes by default, ``dense_acc_cached`` for the cached mapping).
Baselines use the same dynamic token distribution as v2 (the stronger choice for them).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from accel.arch.piuma import _constants as K
from accel.arch.piuma import host_malloc
from accel.arch.piuma._kernels import simulate_kernel
from accel.arch.piuma._planahead import PLAN_BUDGET
from accel.arch.piuma._rowplan import PLAN_MAX, plan_records
from accel.arch.piuma._symbolic import row_counts
from accel.arch.piuma.config import ENTRY_BYTES, PiumaConfig
from accel.arch.piuma.kernel_inputs import params_record, regions, work_units
from accel.arch.piuma.state import (
    SHARED,
    Operands,
    Output,
    Work,
    new_rows,
    new_threads,
)
from accel.arch.registry import Progress
from accel.configs import config_dict
from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured
from accel.workloads.ops import SpGemm, Workload
from accel.workloads.weight_products import pruned_weight_workload  # noqa: F401 - moved; re-exported

MODEL_VERSION = "piuma-0.2"   # 0.2: work tokens split heavy rows (owner + helpers), round-robin long runs, unsorted write-back, uncached dense accumulator

# name -> (engine, distribution, accumulator)
ALGORITHMS: dict[str, tuple[int, int, int]] = {
    "smash-v1": (K.ALGO_ROWWISE, K.DIST_STATIC, K.ACC_HASH),
    "smash-v2": (K.ALGO_ROWWISE, K.DIST_TOKEN, K.ACC_HASH),
    "smash-v3": (K.ALGO_ROWWISE, K.DIST_TOKEN, K.ACC_FRAG),
    "inner": (K.ALGO_INNER, K.DIST_TOKEN, K.ACC_HASH),
    "outer": (K.ALGO_OUTER, K.DIST_TOKEN, K.ACC_HASH),
    "gustavson-dense": (K.ALGO_ROWWISE, K.DIST_TOKEN, K.ACC_DENSE),
}
SMASH = ("smash-v1", "smash-v2", "smash-v3")
# Checking C against SciPy: a C with up to FULL_CHECK_ENTRIES entries is held whole (with
# SciPy's own product, ~0.4 GB at the limit); a larger one is checked on sampled rows (the
# heaviest, where hashing and spills are hardest, and random ones) and every row's entry
# count against the symbolic pass, so memory does not grow with C.
FULL_CHECK_ENTRIES = 1 << 24
SAMPLE_HEAVY, SAMPLE_RANDOM = 32, 224
SAMPLE_ENTRIES = 1 << 22
VALUE_RTOL = 1e-9   # hashing changes the summation order; values agree to rounding
# Fidelity of the timing of smash-v1's hash tables (only owners probe them, rows split statically).
# "exact" (the Python API's and sweeps' default; ``accel sim piuma`` runs "auto") books
# every hash probe at its scratchpad bank and every spill at its
# own time; "fast" times a probe walk whole, at ``spad_latency`` a probe, and posts a step's
# spills as one store (``_rowwise.walked_products``): the same products, probes, spills, C
# and DRAM bytes, with bank conflicts left out.  "auto" is fast from FAST_FROM partial
# products on.  Why: the exact engine spends most of a large run on ~6 bank bookings a
# product (rmat:16: 2.35 G probes), and the bank waits they find are 0.02 cycles an atomic
# at rmat:14.  The cycle difference is measured, not assumed (README, "PIUMA fidelity").
FIDELITY_EXACT, FIDELITY_FAST, FIDELITY_AUTO = "exact", "fast", "auto"
FIDELITIES = (FIDELITY_AUTO, FIDELITY_EXACT, FIDELITY_FAST)
# 2**26 partial products: rmat:14 (53 M products, ~4 s exact) stays exact; rmat:15 and up
# (146 M+) run fast
FAST_FROM = 1 << 26


def check_fidelity(fidelity: str) -> None:
    """Refuse a fidelity not in ``FIDELITIES`` (the CLI asks before it loads the workload)."""
    if fidelity not in FIDELITIES:
        raise WorkloadError(f"unknown fidelity {fidelity!r}; known: {', '.join(FIDELITIES)}")


def walk_timing(fidelity: str, partial_products: int) -> bool:
    """Whether a run of this many partial products times probe walks whole (``FIDELITIES``)."""
    check_fidelity(fidelity)
    if fidelity == FIDELITY_AUTO:
        return partial_products >= FAST_FROM
    return fidelity == FIDELITY_FAST


def check_csr(mat: Unstructured, what: str) -> None:
    """A CSR operand must be well formed: monotone indptr, in-range sorted unique indices."""
    if mat.data is None:
        raise WorkloadError(f"{what} has no values (metadata-only operand)")
    m, n = mat.shape
    ip = np.asarray(mat.indptr)
    idx = np.asarray(mat.indices)
    if ip.shape != (m + 1,) or ip[0] != 0 or np.any(np.diff(ip) < 0) or ip[-1] != idx.size:
        raise WorkloadError(f"{what}: malformed CSR indptr (length {ip.size}, expected {m + 1})")
    if idx.size != np.asarray(mat.data).size:
        raise WorkloadError(f"{what}: {idx.size} indices but {np.asarray(mat.data).size} values")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise WorkloadError(f"{what}: column index {bad} out of range 0..{n - 1}")
        row_of = np.repeat(np.arange(m), np.diff(ip))
        step = np.diff(idx.astype(np.int64))
        same_row = row_of[1:] == row_of[:-1]
        bad = np.nonzero(same_row & (step <= 0))[0]
        if bad.size:
            r = int(row_of[bad[0] + 1])
            raise WorkloadError(f"{what}: row {r} has unsorted or duplicate column indices")


def _spgemm_ops(workload: Workload) -> list[SpGemm]:
    ops = [op for op in workload.ops if isinstance(op, SpGemm)]
    if not ops:
        raise WorkloadError(f"workload {workload.name} has no SpGEMM op for the PIUMA model")
    return ops


def _kept_rows(cp: np.ndarray, row_pp: np.ndarray) -> np.ndarray:
    """Rows of C the host keeps to check against SciPy: all of them while C has at most
    ``FULL_CHECK_ENTRIES`` entries, else the ``SAMPLE_HEAVY`` rows with the most products
    and ``SAMPLE_RANDOM`` others drawn at random (seed 0), within ``SAMPLE_ENTRIES``."""
    M = cp.size - 1
    if cp[-1] <= FULL_CHECK_ENTRIES:
        return np.arange(M, dtype=np.int64)
    nnz = np.diff(cp)
    heavy = np.argsort(row_pp, kind="stable")[::-1][:SAMPLE_HEAVY]
    others = np.random.default_rng(0).choice(M, size=min(M, SAMPLE_RANDOM), replace=False)
    picked, total = [], 0
    for r in np.concatenate((heavy, others)):
        if nnz[r] and total + nnz[r] <= SAMPLE_ENTRIES and r not in picked:
            picked.append(int(r))
            total += int(nnz[r])
    return np.asarray(sorted(picked), np.int64)


@dataclass
class Result:
    algorithm: str
    workload: str
    config: dict
    cycles: int
    seconds: float
    flops: int
    partial_products: int
    partial_product_bytes: int       # DRAM bytes of partial-product records (outer lists, spills)
    accumulator_bytes: int           # DRAM bytes of a dense accumulator's read-modify-writes
    dram_bytes_read: int
    dram_bytes_written: int
    hash_probes: int
    hash_collisions: int
    hash_spills: int
    atomics: int
    bank_wait_cycles: int
    cache_hits: int
    cache_misses: int
    tokens: int
    thread_work: np.ndarray = field(repr=False)     # instructions issued per thread
    thread_finish: np.ndarray = field(repr=False)   # cycle each thread ran out of work
    pipeline_utilisation: float = 0.0
    correct: bool = False
    nnz_c: int = 0
    engine_steps: int = 0
    sim_wall_s: float = 0.0
    C: sp.csr_matrix | None = field(default=None, repr=False)   # None: C checked on sampled rows
    checked_rows: int = 0            # rows of C compared with SciPy (all of them up to FULL_CHECK_ENTRIES)
    fidelity: str = FIDELITY_EXACT   # the timing of planned rows (FIDELITIES; "auto" resolved)
    speedup_vs: dict = field(default_factory=dict)

    # units of metrics() (accel.arch.registry.MachineResult)
    UNITS: ClassVar[dict[str, str]] = {
        "cycles": "cycles", "bank_wait_cycles": "cycles", "seconds": "s", "sim_wall_s": "s",
        "gflops": "GFLOP/s", "arithmetic_intensity": "FLOP/B", "*bytes*": "B",
        "partial_products": "records", "hash_*": "events", "atomics": "events",
        "cache_hit_rate": "fraction", "*imbalance": "max/mean", "thread_work_*": "issue slots",
        "pipeline_utilisation": "fraction", "correct": "bool"}

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9 if self.seconds > 0 else 0.0

    @property
    def arithmetic_intensity(self) -> float:
        moved = self.dram_bytes_read + self.dram_bytes_written
        return self.flops / moved if moved else 0.0

    @property
    def load_imbalance(self) -> float:
        """max / mean of the threads' finish times: how long the last thread runs alone."""
        f = self.thread_finish
        return float(f.max() / f.mean()) if f.size and f.mean() > 0 else 1.0

    @property
    def work_imbalance(self) -> float:
        """max / mean of instructions per thread (single-threaded pipelines take more)."""
        w = self.thread_work
        return float(w.max() / w.mean()) if w.size and w.mean() > 0 else 1.0

    def metrics(self) -> dict[str, float]:
        return {
            "cycles": float(self.cycles), "seconds": self.seconds, "gflops": self.gflops,
            "arithmetic_intensity": self.arithmetic_intensity,
            "dram_bytes_read": float(self.dram_bytes_read),
            "dram_bytes_written": float(self.dram_bytes_written),
            "partial_products": float(self.partial_products),
            "partial_product_bytes": float(self.partial_product_bytes),
            "accumulator_bytes": float(self.accumulator_bytes),
            "hash_probes": float(self.hash_probes), "hash_collisions": float(self.hash_collisions),
            "hash_spills": float(self.hash_spills), "atomics": float(self.atomics),
            "bank_wait_cycles": float(self.bank_wait_cycles),
            "cache_hit_rate": self.cache_hits / max(1, self.cache_hits + self.cache_misses),
            "load_imbalance": self.load_imbalance, "work_imbalance": self.work_imbalance,
            "thread_work_max": float(self.thread_work.max()) if self.thread_work.size else 0.0,
            "thread_work_mean": float(self.thread_work.mean()) if self.thread_work.size else 0.0,
            "pipeline_utilisation": self.pipeline_utilisation,
            "correct": float(self.correct), "sim_wall_s": self.sim_wall_s,
        }

    def to_dict(self) -> dict:
        d = {"algorithm": self.algorithm, "workload": self.workload,
             "model_version": MODEL_VERSION, "fidelity": self.fidelity, "nnz_c": self.nnz_c,
             **self.metrics(),
             "cycles": int(self.cycles), "correct": bool(self.correct),
             "tokens": int(self.tokens), "engine_steps": int(self.engine_steps),
             "cache_hits": int(self.cache_hits), "cache_misses": int(self.cache_misses),
             "checked_rows": int(self.checked_rows)}
        if self.speedup_vs:
            d["speedup_vs"] = self.speedup_vs
        return d


def _x_transpose(m: sp.csr_matrix) -> sp.csr_matrix:
    x = m.T.tocsr()
    x.sort_indices()
    return x


def simulate_spgemm(a: Unstructured, b: Unstructured, config: PiumaConfig,
                    algorithm: str = "smash-v1", name: str = "spgemm",
                    progress: Progress | None = None, plan_max: int = PLAN_MAX,
                    plan_ahead: int | None = None, steps_per_call: int | None = None,
                    fidelity: str = FIDELITY_EXACT) -> Result:
    """Run one SpGEMM C = A.B with ``algorithm`` on the configured machine.  ``progress``
    (what, total), if given, is a context manager yielding ``advance(n)``: the run reports
    its partial products through it as it goes (the CLI's bar; the model imports no UI).
    ``plan_max`` is the engine's, not the machine's: rows of up to that many products have
    their table work planned on the host (``_rowplan``; 0: none); ``plan_ahead`` says whether
    a second host thread plans rows ahead (``_planahead``: AHEAD_*, None: on a long run),
    ``steps_per_call`` how many engine steps run between its barriers (None: the engine's
    choice); the result is the same either way.  ``fidelity`` (FIDELITIES) says how planned
    rows' probe walks are timed."""
    if algorithm not in ALGORITHMS:
        raise WorkloadError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}, all")
    check_fidelity(fidelity)   # before any work
    config.validate()
    check_csr(a, "A")
    check_csr(b, "B")
    if a.shape[1] != b.shape[0]:
        raise WorkloadError(f"inner dimensions differ: A is {a.shape[0]}x{a.shape[1]}, "
                            f"B is {b.shape[0]}x{b.shape[1]}")
    # precondition of the kernels: their loops run once per partial product, so the
    # work is bounded (and refused with its estimate) before any of them starts
    from accel.workloads.formats import check_spgemm_work

    check_spgemm_work(a, b, name)
    host_malloc.tune()
    t0 = time.perf_counter()
    code = ALGORITHMS[algorithm]
    A = a.to_scipy().astype(np.float64)
    B = b.to_scipy().astype(np.float64)
    M, N = A.shape[0], B.shape[1]
    ap, ai, ax = A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data
    bp, bi, bx = B.indptr.astype(np.int64), B.indices.astype(np.int64), B.data
    cp, row_pp = row_counts(ap, ai, bp, bi, N)
    blen = np.diff(bp)
    pp_total = int(row_pp.sum())
    empty_i = np.zeros(1, np.int64)
    xp, xi, xx, xpos, off = empty_i, empty_i, np.zeros(1), empty_i, empty_i
    if code[0] == K.ALGO_INNER:
        X = _x_transpose(B)
        xp, xi, xx = X.indptr.astype(np.int64), X.indices.astype(np.int64), X.data
    elif code[0] == K.ALGO_OUTER:
        # X = A^T: column k of A; xpos maps each A nonzero to its slot in X
        tag = sp.csr_matrix((np.arange(ai.size, dtype=np.float64) + 1, ai, ap), shape=A.shape)
        Xt = _x_transpose(tag)
        order = Xt.data.astype(np.int64) - 1
        xp, xi, xx = Xt.indptr.astype(np.int64), Xt.indices.astype(np.int64), ax[order]
        xpos = np.empty(ai.size, np.int64)
        xpos[order] = np.arange(ai.size)
        chunk = blen[ai[order]] if ai.size else np.zeros(0, np.int64)
        off = np.concatenate(([0], np.cumsum(chunk)[:-1])).astype(np.int64) if ai.size else empty_i
    if code[2] == K.ACC_FRAG:
        emax = config.fragment_entries * config.max_fragments
    else:
        emax = config.hash_table_entries
    # inner/outer hand out rows / columns themselves; only row-wise engines use units
    u_row, u_j0, u_j1, rows = work_units(ap, ai, blen, row_pp, config.token_pps
                                          if code[1] == K.DIST_TOKEN else 0) \
        if code[0] == K.ALGO_ROWWISE else (empty_i, empty_i, empty_i, new_rows(empty_i))
    P = params_record(config, code, N, emax)
    # a table only its row's owner fills, in product order, holds the same keys whenever the
    # owner runs: the functional work is planned per row on the host (``_rowplan``)
    whole_rows = M == 0 or int(rows["units"].max()) == 1
    own_tables = code[0] == K.ALGO_ROWWISE and code[2] == K.ACC_HASH and whole_rows
    P["plan_max"] = plan_max if own_tables else 0
    P["plan_budget"] = PLAN_BUDGET
    # only an owner probes its table (no helper's remote latency), and its rows are its own
    # from the start (v1's static split: with v2's window, which rows a thread takes follows
    # the times, and rmat:10 moved 0.3-4.9 %): a walk times whole
    walked = walk_timing(fidelity, pp_total) and own_tables and code[1] == K.DIST_STATIC
    P["walk_timing"] = int(walked)
    if code[0] == K.ALGO_ROWWISE:   # a walked row's plan is its steps' sums (_rowplan CHUNKS)
        rows["plan_rec"] = plan_records(ap, ai, bp, row_pp, config.step_pps, walked)
    T = config.threads
    RB = regions([ap.size * 8, ai.size * 4, ax.size * 8, bp.size * 8, bi.size * 4, bx.size * 8,
                   xp.size * 8, xi.size * 4, xx.size * 8, cp[-1] * 4, cp[-1] * 8,
                   pp_total * 4, pp_total * 8, max(1, ai.size) * 8,
                   T * N * 16,
                   T * N * ENTRY_BYTES])
    ops = Operands(ap, ai, ax, bp, bi, bx, xp, xi, xx, xpos, off)
    work_state = Work(u_row, u_j0, u_j1, rows, np.zeros((), SHARED))
    kept = _kept_rows(cp, row_pp)
    keep = np.full(M, -1, np.int64)
    kept_nnz = np.diff(cp)[kept]
    keep[kept] = np.cumsum(kept_nnz) - kept_nnz
    n_kept = int(kept_nnz.sum())
    out = Output(cp, np.zeros(n_kept, np.int64), np.zeros(n_kept, np.float64),
                 np.full(M, -1, np.int64), keep)
    with progress(f"{algorithm}: partial products", pp_total) if progress else nullcontext() as adv:
        done = [0]

        def on_progress(n: int) -> None:
            adv(n - done[0])
            done[0] = n

        st, work, finish, busy, steps = simulate_kernel(
            code[0], P, ops, out, RB, emax, work_state, new_threads(T),
            on_progress if progress else None, plan_ahead, steps_per_call)
    cycles = int(np.ceil(finish.max())) if finish.size else 0
    kp = np.concatenate(([0], np.cumsum(kept_nnz))).astype(np.int64)
    C = sp.csr_matrix((out.cx, out.ci, kp), shape=(kept.size, N))
    ref = A @ B if kept.size == M else A[kept] @ B
    ref.sort_indices()
    correct = bool(st[K.S_BADROW] == 0 and np.all(out.cfill == np.diff(cp))
                   and _same(C, ref))
    wall = time.perf_counter() - t0
    util = float(busy.sum()) / (busy.size * cycles) if cycles else 0.0
    return Result(
        algorithm=algorithm, workload=name, config=config_dict(config), cycles=cycles,
        seconds=cycles / (config.clock_ghz * 1e9), flops=2 * pp_total,
        partial_products=int(st[K.S_PP]), partial_product_bytes=int(st[K.S_PPB]),
        accumulator_bytes=int(st[K.S_ACCB]),
        dram_bytes_read=int(st[K.S_RB]), dram_bytes_written=int(st[K.S_WB]),
        hash_probes=int(st[K.S_PROBES]), hash_collisions=int(st[K.S_COLL]),
        hash_spills=int(st[K.S_SPILL]), atomics=int(st[K.S_ATOMICS]),
        bank_wait_cycles=int(st[K.S_BANKWAIT]), cache_hits=int(st[K.S_HIT]),
        cache_misses=int(st[K.S_MISS]), tokens=int(st[K.S_TOKENS]), thread_work=work,
        thread_finish=finish,
        pipeline_utilisation=util, correct=correct, nnz_c=int(cp[-1]), engine_steps=int(steps),
        sim_wall_s=wall, C=C if kept.size == M else None, checked_rows=int(kept.size),
        fidelity=FIDELITY_FAST if walked else FIDELITY_EXACT)


def _same(C: sp.csr_matrix, ref: sp.csr_matrix) -> bool:
    """Same sparsity structure (C's entries are where A.B is structurally nonzero) and values."""
    R = ref.copy()
    R.sort_indices()
    if C.shape != R.shape:
        return False
    # SciPy drops nothing structurally, but numeric cancellation could give explicit zeros
    if not (np.array_equal(C.indptr, R.indptr) and np.array_equal(C.indices, R.indices)):
        return False
    scale = np.maximum(np.abs(R.data), 1e-300)
    return bool(np.all(np.abs(C.data - R.data) <= VALUE_RTOL * scale + 1e-12))


def simulate(workload: Workload, config: PiumaConfig, algorithm: str = "smash-v1",
             progress: Progress | None = None, fidelity: str = FIDELITY_EXACT) -> Result:
    """Simulate the workload's SpGEMM op with one algorithm (the sweep helper's entry point)."""
    ops = _spgemm_ops(workload)
    if len(ops) > 1:
        raise WorkloadError(f"workload {workload.name} has {len(ops)} SpGEMM ops; the PIUMA "
                            f"model runs one at a time")
    op = ops[0]
    return simulate_spgemm(op.a, op.b, config, algorithm, name=workload.name, progress=progress,
                           fidelity=fidelity)


def simulate_all(workload: Workload, config: PiumaConfig,
                 algorithms: tuple[str, ...] = tuple(ALGORITHMS),
                 progress: Progress | None = None,
                 fidelity: str = FIDELITY_EXACT) -> dict[str, Result]:
    """Every algorithm on the same workload, with ``speedup_vs`` filled in (cycles ratio)."""
    results = {name: simulate(workload, config, name, progress, fidelity) for name in algorithms}
    for name, r in results.items():
        r.speedup_vs = {o: (results[o].cycles / r.cycles if r.cycles else 0.0)
                        for o in results if o != name}
    return results
