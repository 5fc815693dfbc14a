"""Co-simulation of the chain against the FlightLLM model on MV/MM ops of real shapes.

Op sets (each op = the share of one output-column slice computed on ONE chain):

* ``tiny``: the functional executor's quantised LLaMA (``functional.make_model``) on the
  tiny-llama shape: layer 0's q/k/v/o/gate/up/down weights, pruned to each N:16
  ``pattern`` (uniform N, or ``mixed``: a seeded random N in {2, 4, 8, 16} per block),
  times an input vector quantised by the executor's ``quant`` (MV, one row);
* ``llama``: a slice of LLaMA2-7B's q_proj (K = 4096) with 0.7-dense weights,
  unstructured as the artifact's ``sparse_ratio 0.7`` (so dense 16:16 blocks on the
  chain); the weights are synthetic (seeded), only the shape is LLaMA's;
* ``mm``: dense MM ops (several activation rows, two per beat) on tiny-llama shapes.

Every op's expected result is NumPy's dense product and equals the model's functional
chain (``chain_matmul``, which is what the executor's MV calls) before the RTL runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from accel.arch.flightllm import functional
from accel.errors import AccelError
from accel.hw.blocks.cosim_runner import build_and_run, verilate
from accel.hw.blocks.dsp_chain.ops import ChainOp, chain_op
from accel.hw.blocks.dsp_chain.params import ChainParams
from accel.hw.blocks.dsp_chain.verilog import TOP, generate
from accel.workloads.formats import block_compress
from accel.workloads.llm import LLM_PRESETS, SPARSE_M, SUPPORTED_N, LLMShape

BLOCK_NAME = "dsp-chain"
TEST_MODULE = "cocotb_dsp_chain"
JOB_ENV = ("ACCEL_DSP_CHAIN_JOB", "ACCEL_DSP_CHAIN_RESULTS")
SCENARIOS = ("unstalled", "random_stalls", "reset")
OP_SETS = ("tiny", "llama", "mm")
PATTERNS = ("2", "4", "8", "16", "mixed")
LLAMA_Q_DENSITY = 0.7            # artifact IR: q_proj sparse_ratio 0.7, mask_mode none
# the tiny-llama shape of tests/data/tiny-llama-config.json (a test pins the equality)
TINY_LLAMA = LLMShape("tiny-llama", 2, 256, 4, 4, 512, 1024, "swiglu", "rmsnorm", True, 2048)
STREAM_OF = {"q_proj": ("qkv", 0), "k_proj": ("qkv", 1), "v_proj": ("qkv", 2),
             "o_proj": ("o_proj", 0), "gate_proj": ("ffn_in", 0), "up_proj": ("ffn_in", 1),
             "down_proj": ("ffn_out", 0)}


def _block_ns(shape: LLMShape, pattern: str, rng) -> dict[str, np.ndarray]:
    out = {}
    for name, k, n in [*shape.linears(), ("lm_head", shape.hidden, shape.vocab)]:
        g = (-(-k // SPARSE_M), -(-n // SPARSE_M))
        out[name] = (rng.choice(SUPPORTED_N, size=g) if pattern == "mixed"
                     else np.full(g, int(pattern))).astype(np.uint8)
    return out


def _executor_operand(model, shape: LLMShape, op: str, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(dense pruned INT8 (K, cols), block_n) of the first ``cols`` columns of ``op`` in
    layer 0 of the executor's model (its streams are fused: q|k|v, gate|up)."""
    stream, part = STREAM_OF[op]
    w = model.dense[(0, stream)]
    widths = {n: nout for n, _, nout in shape.linears()}
    parts = [p for p, (s, _) in STREAM_OF.items() if s == stream]
    c0 = sum(widths[p] for p in parts[:part])
    c1 = c0 + min(cols, widths[op])
    return w[:, c0:c1], model.block_n[stream][:, c0 // SPARSE_M: -(-c1 // SPARSE_M)]


def _vector(rng, k: int, rows: int = 1) -> np.ndarray:
    """INT8 rows as the executor makes its MV inputs (``functional.quant``)."""
    return np.stack([functional.quant(rng.normal(0, 1, k))[0] for _ in range(rows)])


def build_ops(p: ChainParams, op_sets=OP_SETS, patterns=PATTERNS, cols: int = 2,
              shape: LLMShape = TINY_LLAMA, seed: int = 0) -> list[ChainOp]:
    for s in op_sets:
        if s not in OP_SETS:
            raise AccelError(f"unknown op set {s!r}; known: {', '.join(OP_SETS)}")
    for pat in patterns:
        if pat not in PATTERNS:
            raise AccelError(f"unknown pattern {pat!r}; known: {', '.join(PATTERNS)}")
    if not 1 <= cols <= 64:
        raise AccelError(f"cols must be in 1..64, got {cols}")
    if ("tiny" in op_sets or "mm" in op_sets) and \
            shape.linear_params() > functional.MAX_COMPUTE_PARAMS:
        raise AccelError(f"the executor's model of {shape.name} has "
                         f"{shape.linear_params():.2e} linear parameters, more than "
                         f"{functional.MAX_COMPUTE_PARAMS:.0e}; use a small model config")
    rng = np.random.default_rng(seed)
    ops: list[ChainOp] = []
    if "tiny" in op_sets or "mm" in op_sets:
        for pat in (patterns if "tiny" in op_sets else ()):
            model = functional.make_model(shape, _block_ns(shape, pat, rng), seed)
            for name, k, _ in shape.linears():
                w, bn = _executor_operand(model, shape, name, cols)
                ops.append(chain_op(f"{name}@{pat}:16", p, _vector(rng, k),
                                    block_compress(w, bn)))
        if "mm" in op_sets:
            model = functional.make_model(shape, _block_ns(shape, "16", rng), seed)
            for name, rows in (("q_proj", 4), ("gate_proj", 3)):
                w, bn = _executor_operand(model, shape, name, cols)
                ops.append(chain_op(f"{name}@mm{rows}", p, _vector(rng, w.shape[0], rows),
                                    block_compress(w, bn)))
    if "llama" in op_sets:
        k = LLM_PRESETS["llama2-7b"].hidden
        w = rng.integers(-127, 128, size=(k, cols)).astype(np.int8)
        w[w == 0] = 1
        w[rng.random((k, cols)) >= LLAMA_Q_DENSITY] = 0          # unstructured 0.7-dense
        bn = np.full((k // SPARSE_M, -(-cols // SPARSE_M)), SPARSE_M, np.uint8)
        ops.append(chain_op("llama2-7b.q_proj@0.7", p, _vector(rng, k), block_compress(w, bn)))
    return ops


# --- job file (host -> bench) -----------------------------------------------------

def write_job(path, p: ChainParams, ops: list[ChainOp], opts: dict) -> None:
    arrays = {}
    for i, op in enumerate(ops):
        arrays[f"payloads_{i}"] = op.payloads
        arrays[f"expected_{i}"] = op.expected
    meta = {"params": p.to_dict(), "ops": [op.meta() for op in ops], "opts": opts}
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_job(path):
    """(ChainParams, ops as dicts with ``words`` (payload ints), ``expected``, meta, opts)."""
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        ops = []
        for i, m in enumerate(meta["ops"]):
            words = [int.from_bytes(b.tobytes(), "little") for b in z[f"payloads_{i}"]]
            ops.append({**m, "words": words, "expected": z[f"expected_{i}"]})
    return ChainParams(**meta["params"]), ops, meta["opts"]


def build(p: ChainParams, waves: bool = False) -> Path:
    """Verilate one chain configuration (user cache, one folder per config hash); reused
    when unchanged."""
    return verilate(BLOCK_NAME, p.config_hash(), p.name, TOP, lambda: generate(p), waves)


def run(p: ChainParams, ops: list[ChainOp], scenarios=SCENARIOS, stalled_every: int = 4,
        seed: int = 1, waves: bool = False) -> dict:
    """Verilate, run the bench, and summarise (``ok`` only with zero value and cycle
    mismatches and no failed cocotb test): the shared ``CosimReport.summary`` plus op
    counts, beats and the per-op outcomes."""
    for s in scenarios:
        if s not in SCENARIOS:
            raise AccelError(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")
    if not ops:
        raise AccelError("no ops to co-simulate")
    stalled = [op.name for i, op in enumerate(ops) if i % stalled_every == 0]
    opts = {"scenarios": list(scenarios), "seed": seed, "stalled_ops": stalled}
    rep = build_and_run(lambda: build(p, waves), p.to_dict(), TEST_MODULE, TOP, JOB_ENV,
                        lambda path: write_job(path, p, ops, opts), seed, waves)
    return {"block": BLOCK_NAME, **rep.summary(), "ops": len(ops),
            "op_runs": len(rep.outcomes), "beats": sum(o["beats"] for o in rep.outcomes),
            "log": rep.log, "per_op": rep.outcomes}
