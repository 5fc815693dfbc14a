"""Plain-Python reference engine of the PIUMA model: the same machine, written to be read.

No Numba and no NumPy in the engine itself (only the wrapper builds NumPy/SciPy results):
operands become Python lists, every thread is a generator that runs its algorithm as
straight-line code (``reference_programs.py``) and ``yield``s at the end of each step, and
the memory system is a few small classes (``reference_machine.py``).  It runs a few 10^4
engine steps a second and is meant for small inputs (``rmat:6``), where a test holds it
equal to the Numba engine (``_kernels.py``) cycle for cycle and in every counter
``Result`` reports.

The machine (model.py's docstring has the algorithms, _kernels.py's the engine):

* A *step* of a thread issues a short dependent chain of instructions.  It is what one
  resumption of the thread's generator does, up to its next ``yield (issue slots, ready
  time, outcome)``; the scheduler sends the step's start time in.
* Each pipeline issues round-robin from its ready threads.  Pipelines advance in windows
  of ``sync_quantum`` cycles, one after the other inside a window.  A step of more than
  ``step_slots`` issue slots is issued in pieces of that size, interleaved with the other
  threads of its pipeline.
* DRAM channels, scratchpad banks and the token counter are booked in time buckets
  (``BookingRing``), so requests queue only behind work booked in the same window.

Floating-point times are combined in the same order as in the Numba engine, because a
different rounding would move a booking into a neighbouring bucket now and then.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from accel.arch.piuma.config import ENTRY_BYTES, PiumaConfig
from accel.arch.piuma.model import ALGORITHMS, Result, _same, check_csr
from accel.arch.piuma.reference_machine import (
    BARRIER,
    DONE,
    OK,
    Csr,
    MemorySystem,
    RowState,
    Thread,
    ceil_log2,
    work_units,
)
from accel.arch.piuma.reference_programs import ThreadPrograms
from accel.configs import config_dict
from accel.errors import WorkloadError
from accel.workloads.formats import Unstructured

MAX_REFERENCE_NNZ = 20_000   # larger inputs belong to the Numba engine (this one is far slower)

FIB = 0x9E3779B97F4A7C15                      # Knuth's multiplicative hashing constant
MASK64 = (1 << 64) - 1
# DRAM regions in address order; each is 4 KB aligned with a 4 KB gap after it
REGIONS = ("ap", "ai", "ax", "bp", "bi", "bx", "xp", "xi", "xx", "ci", "cx", "ppi", "ppx",
           "off", "acc", "spill")


class Engine(ThreadPrograms):
    """One SpGEMM C = A.B on the machine: its state, shared pieces and the scheduler (the
    thread programs are in ``reference_programs``)."""

    def __init__(self, A: Csr, B: Csr, cfg: PiumaConfig, algorithm: str):
        self.A, self.B, self.cfg = A, B, cfg
        self.algorithm = algorithm
        self.M, self.N = len(A.ptr) - 1, B.n_cols
        self.static = algorithm == "smash-v1"          # v1 deals windows; the rest use tokens
        self.accumulator = {"smash-v3": "fragments", "gustavson-dense": "dense"}.get(algorithm,
                                                                                    "hash")
        self.B_len = [B.ptr[k + 1] - B.ptr[k] for k in range(len(B.ptr) - 1)]
        self.products = sum(self.B_len[k] for k in A.idx)
        # the structure of C (a symbolic pass: bookkeeping, not timed)
        self.C_cols = [sorted({c for j in A.row(i) for c in B.idx[B.ptr[A.idx[j]]:
                                                                 B.ptr[A.idx[j] + 1]]})
                       for i in range(self.M)]
        self.cp = [0]
        for cols in self.C_cols:
            self.cp.append(self.cp[-1] + len(cols))
        self.C_rows = [None] * self.M    # (columns, values) each row was written with
        self.bad_rows = 0
        one = Csr([0], [0], [0.0], 0)   # the model hands unused X operands over as one word
        self.X, self.X_of_A = one, None
        if algorithm == "inner":
            self.X, _ = B.transpose()
        elif algorithm == "outer":
            self.X, self.X_of_A = A.transpose()
            # each nonzero (k, i) of X = A^T owns a chunk of B_len[k] partial products
            self.chunk_at, at = [], 0
            for k in range(len(self.X.ptr) - 1):
                for _ in self.X.row(k):
                    self.chunk_at.append(at)
                    at += self.B_len[k]
            self.pp_cols = [0] * self.products
            self.pp_vals = [0.0] * self.products
        T = cfg.threads
        x_words = len(self.X.ptr) if algorithm in ("inner", "outer") else 1
        sizes = [len(A.ptr) * 8, len(A.idx) * 4, len(A.val) * 8, len(B.ptr) * 8,
                 len(B.idx) * 4, len(B.val) * 8, x_words * 8,
                 (len(self.X.idx) if x_words > 1 else 1) * 4,
                 (len(self.X.val) if x_words > 1 else 1) * 8,
                 self.cp[-1] * 4, self.cp[-1] * 8, self.products * 4, self.products * 8,
                 max(1, len(A.idx)) * 8, T * self.N * 16, T * self.N * ENTRY_BYTES]
        base, regions = 1 << 20, {}
        for name, nbytes in zip(REGIONS, sizes, strict=True):
            regions[name] = base
            base += (nbytes + 4095) // 4096 * 4096 + 4096
        self.mem = MemorySystem(cfg, regions)
        self.threads = [Thread(t, t // cfg.threads_per_core) for t in range(T)]
        self.next_token = 0      # the token counter
        self.phase = 0           # outer product: 0 offsets, 1 multiply, 2 merge
        self.pool = [cfg.pool_fragments] * cfg.cores   # v3: free fragments per core
        if algorithm in ("inner", "outer"):
            self.units, self.rows = [], []
        else:
            self.units, per_row = work_units(A, B, 0 if self.static else cfg.token_pps)
            self.rows = [RowState(u) for u in per_row]

    # ---------------------------------------------------------------- shared pieces
    def next_unit(self, th: Thread, now, n_units):
        """(unit or None, ready time): from the batch held, a dealt window, or a token."""
        cfg = self.cfg
        if th.batch_next < th.batch_end:
            th.batch_next += 1
            return th.batch_next - 1, now
        if self.static:
            start = th.window * cfg.window_rows
            if start >= n_units:
                return None, now
            th.window += len(self.threads)
            th.batch_next, th.batch_end = start + 1, min(start + cfg.window_rows, n_units)
            return start, now
        ready = self.mem.fetch_add(now)
        start = self.next_token
        if start >= n_units:
            return None, ready
        self.next_token = start + cfg.token_rows
        th.batch_next, th.batch_end = start + 1, min(start + cfg.token_rows, n_units)
        return start, ready

    def sort_slots(self, n):
        compares = n * ceil_log2(n)
        self.mem.stats["compares"] += compares
        return compares * self.cfg.compare_cycles

    def write_row(self, row, cols, vals):
        if len(cols) != self.cp[row + 1] - self.cp[row]:
            self.bad_rows += 1
        self.C_rows[row] = (list(cols), list(vals))

    def remote(self, core, other_core):
        return self.cfg.remote_atomic_latency if other_core != core else 0.0

    def hash_slot(self, col, bits):
        if self.cfg.hash_function == "fibonacci":
            return ((col * FIB) & MASK64) >> (64 - bits)
        return col & ((1 << bits) - 1)

    # ---------------------------------------------------------------- scheduler
    def run(self):
        """Issue every thread's steps on its pipeline until all are done."""
        cfg = self.cfg
        program = {"inner": self.inner, "outer": self.outer}.get(self.algorithm, self.rowwise)
        T = len(self.threads)
        programs = []
        for th in self.threads:
            g = program(th)
            next(g)   # to its first ``now = yield``
            programs.append(g)
        pipes = []    # (first thread, threads): multi-threaded pipelines, then single-threaded
        for c in range(cfg.cores):
            first = c * cfg.threads_per_core
            pipes += [(first + m * cfg.threads_per_pipeline, cfg.threads_per_pipeline)
                      for m in range(cfg.mt_pipelines)]
            pipes += [(first + cfg.mt_pipelines * cfg.threads_per_pipeline + s, 1)
                      for s in range(cfg.st_pipelines)]
        inf = 1e300
        ready, finish = [0.0] * T, [0.0] * T
        owed, owed_ready, owed_code = [0] * T, [0.0] * T, [OK] * T
        alive, waiting = [True] * T, [False] * T
        self.thread_work = [0] * T
        self.busy = [0] * len(pipes)
        clock = [0.0] * len(pipes)
        next_rr = [f for f, _ in pipes]
        n_alive, n_waiting, last_arrival = T, 0, 0.0
        horizon = 0.0
        self.steps = 0
        cap = cfg.step_slots
        while n_alive > 0:
            horizon += cfg.sync_quantum
            for p, (f, n) in enumerate(pipes):
                while clock[p] < horizon:
                    chosen, soonest = None, inf
                    for s in range(n):   # round-robin from the thread after the last issued
                        t = f + (next_rr[p] - f + s) % n
                        if not alive[t]:
                            continue
                        if ready[t] <= clock[p]:
                            chosen = t
                            break
                        soonest = min(soonest, ready[t])
                    if chosen is None:
                        if soonest >= inf:
                            clock[p] = inf
                            break
                        clock[p] = soonest   # idle until a thread's data returns
                        continue
                    t = chosen
                    next_rr[p] = f + (t - f + 1) % n
                    now = clock[p]
                    if owed[t] > 0:   # the next piece of a long step
                        issue = min(owed[t], cap)
                        owed[t] -= issue
                        rdy, code = (owed_ready[t], owed_code[t]) if owed[t] == 0 else (now, OK)
                    else:
                        issue, rdy, code = programs[t].send(now)
                        self.steps += 1
                        self.thread_work[t] += issue
                        if issue > cap:
                            owed[t], owed_ready[t], owed_code[t] = issue - cap, rdy, code
                            issue, rdy, code = cap, now, OK
                    cycles = (issue + cfg.issue_width - 1) // cfg.issue_width
                    self.busy[p] += cycles
                    clock[p] = now + cycles
                    ready[t] = max(rdy, clock[p])
                    if code == DONE:
                        alive[t] = False
                        n_alive -= 1
                        finish[t] = ready[t]
                    elif code == BARRIER:
                        waiting[t] = True
                        ready[t] = inf
                        n_waiting += 1
                        last_arrival = max(last_arrival, clock[p])
                    if n_waiting > 0 and n_waiting == n_alive:   # all arrived: next phase
                        release = last_arrival + cfg.remote_atomic_latency
                        for u in range(T):
                            if waiting[u]:
                                waiting[u] = False
                                ready[u] = release
                        n_waiting, last_arrival = 0, 0.0
                        self.next_token = 0
                        self.phase += 1
                        clock[:] = [release if c >= inf else c for c in clock]
        self.thread_finish = finish


def simulate_reference(a: Unstructured, b: Unstructured, config: PiumaConfig,
                       algorithm: str = "smash-v1", name: str = "spgemm") -> Result:
    """``model.simulate_spgemm`` on the plain-Python engine (small inputs only)."""
    if algorithm not in ALGORITHMS:
        raise WorkloadError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    config.validate()
    check_csr(a, "A")
    check_csr(b, "B")
    if a.shape[1] != b.shape[0]:
        raise WorkloadError(f"inner dimensions differ: A is {a.shape}, B is {b.shape}")
    if a.nnz + b.nnz > MAX_REFERENCE_NNZ:
        raise WorkloadError(f"the reference engine is for small inputs: {a.nnz + b.nnz} "
                            f"nonzeros > {MAX_REFERENCE_NNZ}")
    t0 = time.perf_counter()
    eng = Engine(Csr.of(a), Csr.of(b), config, algorithm)
    eng.run()
    M, N = eng.M, eng.N
    rows = [r if r is not None else ([], []) for r in eng.C_rows]
    C = sp.csr_matrix(([v for _, vals in rows for v in vals], [c for cols, _ in rows for c in cols],
                       np.cumsum([0] + [len(cols) for cols, _ in rows])), shape=(M, N))
    ref = a.to_scipy().astype(np.float64) @ b.to_scipy().astype(np.float64)
    ref.sort_indices()
    correct = (eng.bad_rows == 0 and all(r is not None for r in eng.C_rows) and _same(C, ref))
    st = eng.mem.stats
    cycles = math.ceil(max(eng.thread_finish)) if eng.thread_finish else 0
    return Result(
        algorithm=algorithm, workload=name, config=config_dict(config), cycles=cycles,
        seconds=cycles / (config.clock_ghz * 1e9), flops=2 * eng.products,
        partial_products=st["products"], partial_product_bytes=st["partial"],
        accumulator_bytes=st["accumulator"], dram_bytes_read=st["read"],
        dram_bytes_written=st["written"], hash_probes=st["probes"],
        hash_collisions=st["collisions"], hash_spills=st["spills"], atomics=st["atomics"],
        bank_wait_cycles=st["bank_wait"], cache_hits=st["hits"], cache_misses=st["misses"],
        tokens=st["tokens"], thread_work=np.asarray(eng.thread_work, np.int64),
        thread_finish=np.asarray(eng.thread_finish, np.float64),
        pipeline_utilisation=sum(eng.busy) / (len(eng.busy) * cycles) if cycles else 0.0,
        correct=correct, nnz_c=eng.cp[-1], engine_steps=eng.steps,
        sim_wall_s=time.perf_counter() - t0, C=C, checked_rows=C.shape[0])
