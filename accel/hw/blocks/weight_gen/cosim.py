"""Host side of the sparse weight generator: blocks in, expected masks out, co-simulation.

``weight_blocks`` cuts a dense FP16 weight W (out, in) into the generator's M x L input
blocks (``accel/arch/sat/weight_gen.py`` order); ``expected_beats`` builds every output
beat from ``accel.workloads.formats.nm_compress`` -- the selection ``prune.py`` uses --
on the same FP16 weights, so a bit-exact scoreboard means identical masks and indices.
``run_gen`` drives the Verilated ``SparseWeightGen`` (``gen.py``) through cocotb
(``sim/cocotb_weight_gen.py``, via ``accel.hw.blocks.cosim_runner``) and returns one report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from accel.arch.sat.weight_gen import gen_beats, gen_cycles
from accel.errors import AccelError
from accel.hw.blocks.cosim_runner import build_and_run, verilate
from accel.hw.blocks.weight_gen.gen import GEN_BEATS_BITS, GenParams, SparseWeightGen
from accel.workloads.formats import nm_compress

TOP = "sparse_weight_gen"
TEST_MODULE = "cocotb_weight_gen"
SCENARIOS = ("unstalled", "random_stalls", "reset")


def _padded(w_bits: np.ndarray, g: GenParams) -> np.ndarray:
    out_ch, in_ch = w_bits.shape
    ob, ib = -(-out_ch // g.m), -(-in_ch // g.lanes)
    wp = np.zeros((ob * g.m, ib * g.lanes), dtype=np.int64)
    wp[:out_ch, :in_ch] = w_bits
    return wp


def weight_blocks(w_bits: np.ndarray, g: GenParams) -> np.ndarray:
    """(beats, M, L) FP16 codes, row-block major (the contract's streaming order)."""
    wp = _padded(w_bits, g)
    ob, ib = wp.shape[0] // g.m, wp.shape[1] // g.lanes
    return wp.reshape(ob, g.m, ib, g.lanes).transpose(0, 2, 1, 3).reshape(ob * ib, g.m, g.lanes)


def _f16(bits: np.ndarray) -> np.ndarray:
    return np.asarray(bits, dtype=np.int64).astype(np.uint16).view(np.float16)


def expected_beats(w_bits: np.ndarray, g: GenParams) -> dict[str, np.ndarray]:
    """Every output beat, from ``nm_compress`` (prune.py's top-N rule) on the padded FP16
    weights: fwd = groups along input channels (of W.T, axis 0), bwd = groups along output
    channels (of W, axis 0).  Arrays indexed [beat, ...] as in ``mask_beat``."""
    wp = _padded(w_bits, g)
    wf = _f16(wp).astype(np.float32)          # exact: every FP16 value is an FP32 value
    fwd = nm_compress(wf.T, g.n, g.m, axis=0)   # (in/M * N, out)
    bwd = nm_compress(wf, g.n, g.m, axis=0)     # (out/M * N, in)
    out_p, in_p = wp.shape
    ob, ib, q = out_p // g.m, in_p // g.lanes, g.lanes // g.m
    codes = lambda v: np.asarray(v, np.float32).astype(np.float16).view(np.uint16).astype(np.int64)  # noqa: E731
    # fwd values: [g_in*N + j, o] -> [ob, ib, r, q, j]
    fv = codes(fwd.values).reshape(ib, q, g.n, ob, g.m).transpose(3, 0, 4, 1, 2)
    fi = fwd.indices.astype(np.int64).reshape(ib, q, g.n, ob, g.m).transpose(3, 0, 4, 1, 2)
    # bwd values: [g_out*N + j, i] -> [ob, ib, l, j]
    bv = codes(bwd.values).reshape(ob, g.n, ib, g.lanes).transpose(0, 2, 3, 1)
    bi = bwd.indices.astype(np.int64).reshape(ob, g.n, ib, g.lanes).transpose(0, 2, 3, 1)
    beats = ob * ib
    return {"fwd_val": fv.reshape(beats, g.m, q, g.n), "fwd_idx": fi.reshape(beats, g.m, q, g.n),
            "bwd_val": bv.reshape(beats, g.lanes, g.n), "bwd_idx": bi.reshape(beats, g.lanes, g.n)}


def generate(g: GenParams) -> str:
    from amaranth.back import verilog

    return verilog.convert(SparseWeightGen(g), name=TOP, emit_src=False)


def build(g: GenParams, waves: bool = False) -> Path:
    """Verilate one generator (user cache, one folder per config hash); reused when
    unchanged."""
    return verilate("weight-gen", g.config_hash(), g.name, TOP, lambda: generate(g), waves,
                    quick=True)


def synth(g: GenParams, force: bool = False) -> dict:
    """Cached Yosys counts of the generator, kept in ``synth_cache_fp16.json`` under
    ``wgen-<hash>`` (the FP16 array model skips entries with ``unit`` weight-gen)."""
    from accel.hw.synth import cached_synth

    return cached_synth(g, lambda: generate(g), TOP, "synth_cache_fp16.json",
                        "wgen-" + g.config_hash(), force, {"unit": "weight-gen"})


def run_gen(g: GenParams, weights: dict[str, np.ndarray], scenarios=SCENARIOS, seed: int = 1,
            waves: bool = False) -> dict:
    """Co-simulate the generator on named FP16 weight matrices (codes, (out, in)).

    Each matrix is one run (one ``start``); the report has one outcome per (scenario,
    matrix) with RTL/model cycles and the outputs checked against ``nm_compress``."""
    if not weights:
        raise AccelError("no weight matrices to co-simulate")
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        raise AccelError(f"unknown scenario {bad[0]!r}; known: {', '.join(SCENARIOS)}")
    arrays = {"params": np.array(json.dumps(g.to_dict())),
              "opts": np.array(json.dumps({"scenarios": list(scenarios), "seed": seed})),
              "names": np.array(list(weights))}
    for i, (name, w) in enumerate(weights.items()):
        w = np.asarray(w, dtype=np.int64)
        if w.ndim != 2 or w.size == 0:
            raise AccelError(f"weight {name}: need a non-empty 2-D matrix, got {w.shape}")
        beats = gen_beats(w.shape[0], w.shape[1], g.m, g.lanes)
        if beats >= 1 << GEN_BEATS_BITS:
            raise AccelError(f"weight {name}: {beats} blocks exceed the {GEN_BEATS_BITS}-bit "
                             "beat counter")
        arrays[f"blocks{i}"] = weight_blocks(w, g)
        for k, v in expected_beats(w, g).items():
            arrays[f"{k}{i}"] = v
    rep = build_and_run(lambda: build(g, waves=waves), g.to_dict(), TEST_MODULE, TOP,
                        ("ACCEL_GEN_JOB", "ACCEL_GEN_RESULTS"),
                        lambda job: np.savez(job, **arrays), seed, waves)
    return {"block": "weight-gen", **rep.summary(), "runs": len(rep.outcomes), "log": rep.log,
            "per_run": rep.outcomes}


def run_layer(workload: str, layer: str, n: int, m: int, lanes: int, seq_len: int = 8,
              stalls: bool = True, seed: int = 1, waves: bool = False) -> dict:
    """``accel rtl cosim weight-gen``: a real layer's dense weights through the RTL."""
    from accel.arch.sat import fp16
    from accel.workloads import prune as P

    g = GenParams(n, m, lanes)
    w = dense_weight(workload, layer, seq_len)
    w_bits = fp16.to_fp16_bits(w, f"layer {layer} weights")
    scen = SCENARIOS if stalls else ("unstalled",)
    rep = run_gen(g, {layer: w_bits}, scenarios=scen, seed=seed, waves=waves)
    # prune.py's own masks on the same FP16 weights: the RTL's (checked bit-exactly
    # against nm_compress above) must be these; and how the FP32-master masks compare
    w16 = _f16(w_bits).astype(np.float32)
    fwd_mask, bwd_mask = P.bdwp_masks(w16, n, m)
    exp = expected_beats(w_bits, g)
    rep.update({"workload": workload, "layer": layer, "weight_shape": list(w.shape),
                "model_cycles_formula": "gen_cycles(gen_beats(out, in, M, lanes))",
                "masks_vs_prune": _mask_agreement(exp, g, w.shape, fwd_mask, bwd_mask),
                "fp32_master_mask_diff": {
                    "fwd": int(np.count_nonzero(P.bdwp_masks(w, n, m)[0] != fwd_mask)),
                    "bwd": int(np.count_nonzero(P.bdwp_masks(w, n, m)[1] != bwd_mask))},
                "model_cycles_per_run": gen_cycles(gen_beats(w.shape[0], w.shape[1], m, lanes))})
    return rep


def _mask_agreement(exp, g, shape, fwd_mask, bwd_mask) -> dict:
    """Rebuild both boolean masks from the expected (= RTL, when the scoreboard passed)
    beats and count differences from ``prune.bdwp_masks``."""
    out_ch, in_ch = shape
    ob, ib = -(-out_ch // g.m), -(-in_ch // g.lanes)
    q = g.lanes // g.m
    fm = np.zeros((ob * g.m, ib * g.lanes), bool)
    bm = np.zeros_like(fm)
    fi = exp["fwd_idx"].reshape(ob, ib, g.m, q, g.n)
    bi = exp["bwd_idx"].reshape(ob, ib, g.lanes, g.n)
    for a in range(ob):
        for b in range(ib):
            for r in range(g.m):
                for qq in range(q):
                    fm[a * g.m + r, b * g.lanes + qq * g.m + fi[a, b, r, qq]] = True
            for c in range(g.lanes):
                bm[a * g.m + bi[a, b, c], b * g.lanes + c] = True
    return {"fwd_differences": int(np.count_nonzero(fm[:out_ch, :in_ch] != fwd_mask)),
            "bwd_differences": int(np.count_nonzero(bm[:out_ch, :in_ch] != bwd_mask)),
            "kept_fwd": int(fwd_mask.sum()), "kept_bwd": int(bwd_mask.sum())}


def dense_weight(workload: str, layer: str, seq_len: int = 8) -> np.ndarray:
    """Dense W (out, in) of ``layer``: a training workload's ``LAYER:bwd_data`` operand
    (W itself), else an inference op ``LAYER``'s weight operand (W transposed).

    Refused unless that operand is stored dense: an N:M (or any sparse) copy holds only
    the kept values, not the dense weight the generator reads, so co-simulating it
    would check the generator on numbers no layer has (issue 25)."""
    from accel.workloads.builtin import resolve

    # built-in names: the dense training workload; files (.npz) are taken as saved
    wl = resolve(workload, prune="dense", training=True, seq_len=seq_len)
    ops = {op.name: op for op in wl.ops}
    if f"{layer}:bwd_data" in ops:
        op, transpose = ops[f"{layer}:bwd_data"], False
    elif layer in ops:
        op, transpose = ops[layer], True
    else:
        names = sorted({getattr(op, "source", "") or op.name for op in wl.ops})
        raise AccelError(f"no layer {layer!r} in {workload}; e.g. {', '.join(names[:3])}")
    b = getattr(op, "b", None)
    if b is None or getattr(b, "kind", None) is None:
        raise AccelError(f"op {op.name} of {workload} has no weight operand")
    if b.kind != "dense":
        fmt = f"{b.kind} {b.n}:{b.m}" if b.kind == "nm" else b.kind
        raise AccelError(f"layer {layer} of {workload} is stored {fmt}-compressed; the weight "
                         "generator needs its dense weight, which that format no longer "
                         "holds: use a dense workload (a file saved with --prune dense, or "
                         "minilm-l6)")
    if b.values is None:
        raise AccelError(f"op {op.name} of {workload} has no weight values; cannot co-simulate")
    w = np.asarray(b.values, dtype=np.float32)
    return np.ascontiguousarray(w.T) if transpose else w
