"""Speed of the PIUMA model: simulated partial products per wall second (smash-v1).

    python benchmarks/bench_piuma.py [--scale 14] [--edge-factor 16]
                                     [--mtx FILE | --edges FILE | --road N]
                                     [--algo smash-v1] [--reference]

Warms the JIT up on a small graph first, then times one run on R-MAT scale 14, EF 16
(the issue's speed point; ``--scale 16`` is the graph-scale point), on A.A of a Matrix
Market file (``--mtx``: a SuiteSparse/SNAP matrix), of an edge list (``--edges``: a SNAP
``.txt[.gz]`` as downloaded) or of a road-network-like graph
(``--road N``: ``road_like``; N = 1400 is roadNet-CA's size) and prints one JSON object
with the rates measured and the peak resident memory.
``--reference`` also times the plain-Python reference engine against the Numba engine on
rmat:6 (the size the equality test uses) and reports the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from accel.arch.piuma._planahead import AHEAD_OFF, AHEAD_SYNC, AHEAD_THREAD
from accel.arch.piuma.config import PRESETS
from accel.arch.piuma.model import FIDELITIES, FIDELITY_AUTO, simulate_spgemm
from accel.arch.piuma.reference import simulate_reference
from accel.workloads.edgelist import read_edges
from accel.workloads.formats import Unstructured
from accel.workloads.graphs import read_mtx, rmat


def road_like(n: int, keep: float = 0.72, seed: int = 0) -> Unstructured:
    """An undirected n x n grid graph with a random ``keep`` of its edges: what SpGEMM
    papers' road networks look like to the engine (millions of rows of ~3 nonzeros, no
    hubs).  n = 1400 gives 1.96 M vertices and 2.82 M edges, roadNet-CA's 1.97 M and 2.77 M
    (SNAP), without a download."""
    import numpy as np
    import scipy.sparse as sp

    idx = np.arange(n * n).reshape(n, n)
    r = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    c = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    kept = np.random.default_rng(seed).random(r.size) < keep
    r, c = r[kept], c[kept]
    a = sp.csr_matrix((np.ones(2 * r.size), (np.concatenate([r, c]), np.concatenate([c, r]))),
                      shape=(n * n, n * n))
    return Unstructured(a.shape, a.indptr, a.indices, a.data)


AHEAD = {"auto": None, "off": AHEAD_OFF, "sync": AHEAD_SYNC, "thread": AHEAD_THREAD}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=14)
    ap.add_argument("--edge-factor", type=int, default=16)
    ap.add_argument("--mtx", default=None, help="time A.A of this Matrix Market file instead")
    ap.add_argument("--edges", default=None, help="time A.A of this edge list (SNAP .txt[.gz]) instead")
    ap.add_argument("--road", type=int, default=None,
                    help="time A.A of an N x N road-network-like grid instead (1400: roadNet-CA's size)")
    ap.add_argument("--algo", default="smash-v1")
    ap.add_argument("--plan-ahead", choices=sorted(AHEAD), default="auto",
                    help="plan rows ahead on a second host thread (auto: on long runs)")
    ap.add_argument("--fidelity", choices=FIDELITIES, default=FIDELITY_AUTO,
                    help="timing of planned rows (auto: fast from FAST_FROM products on)")
    ap.add_argument("--reference", action="store_true",
                    help="also time the plain-Python reference engine on rmat:6")
    args = ap.parse_args(argv)
    cfg = PRESETS["piuma"]
    small = rmat(6, 4, seed=1)
    t0 = time.perf_counter()
    simulate_spgemm(small, small, cfg, args.algo)  # JIT warm-up (or cache load)
    warm = time.perf_counter() - t0
    if args.mtx:
        g = read_mtx(args.mtx)
    elif args.edges:
        g = read_edges(args.edges)
    elif args.road:
        g = road_like(args.road)
    else:
        g = rmat(args.scale, args.edge_factor, seed=1)
    t0, c0 = time.perf_counter(), time.process_time()
    r = simulate_spgemm(g, g, cfg, args.algo, plan_ahead=AHEAD[args.plan_ahead],
                        fidelity=args.fidelity)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    what = ({"mtx": args.mtx} if args.mtx else {"edges": args.edges} if args.edges
            else {"road": args.road} if args.road
            else {"scale": args.scale, "edge_factor": args.edge_factor})
    out = {"algo": args.algo, **what, "plan_ahead": args.plan_ahead, "fidelity": r.fidelity,
           "nnz": g.nnz, "partial_products": r.partial_products, "cycles": r.cycles,
           "correct": r.correct, "warmup_s": warm, "wall_s": wall, "cpu_s": cpu,
           "pp_per_wall_s": r.partial_products / wall, "pp_per_cpu_s": r.partial_products / cpu,
           "sim_cycles_per_wall_s": r.cycles / wall, "engine_steps_per_wall_s": r.engine_steps / wall,
           "checked_rows": r.checked_rows, "rows": g.shape[0],
           # peak resident memory of this process so far (KiB on Linux), the graph-scale budget
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.reference:
        g6 = rmat(6, 16, seed=0)
        c0 = time.process_time()
        fast = simulate_spgemm(g6, g6, cfg, args.algo)
        fast_cpu = time.process_time() - c0
        c0 = time.process_time()
        ref = simulate_reference(g6, g6, cfg, args.algo)
        ref_cpu = time.process_time() - c0
        out.update({"reference_equal": ref.cycles == fast.cycles,
                    "reference_steps_per_cpu_s": ref.engine_steps / ref_cpu,
                    "numba_over_reference_speed": ref_cpu / fast_cpu})
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
