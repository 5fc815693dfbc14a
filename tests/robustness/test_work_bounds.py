"""Issue 25, class 4: work that grows faster than its input, and counts the user controls.

The total work an input implies is bounded *before* any of it starts: a topology's row
count (MAX_TOPOLOGY_LAYERS) before a row is parsed, the systolic array's folds summed over
every op (MAX_TOTAL_FOLDS) before the first walk, the memory a ``--batch`` or an LLM shape
means (accel.memory, a fraction of this machine's RAM) before the first array.  Each
error names its bound.  Checks that are linear in the rows stay linear (the duplicate
layer name is found in one pass).
"""

from __future__ import annotations

import json

import pytest
from cli_harness import peak_rss_kb

from accel.errors import WorkloadError

TOPO = "Layer, M, N, K, Sparsity,\n"
LIMIT_KB = 2 * 1024 * 1024   # 2 GB


def _rows(n: int, row: str = "{i}, 64, 64, 64, 2:4,\n") -> str:
    return TOPO + "".join(row.format(i=f"L{i}") for i in range(n))


# --- CLI cases: exit 2, one error line naming the bound, nothing written -----------------------
CASES = []


def case(cid, argv, files, needle):
    CASES.append(pytest.param(argv, files, needle, id=cid))


SIM_T = ["sim", "systolic", "--topology", "t.csv", "--json"]
case("topology-20k-layers", SIM_T, {"t.csv": _rows(20_000)}, "MAX_TOPOLOGY_LAYERS")
case("topology-100k-rows-one-duplicate", SIM_T, {"t.csv": _rows(100_000) + "L7, 4, 4, 4,\n"},
     "MAX_TOPOLOGY_LAYERS")
case("topology-limit-plus-one", SIM_T, {"t.csv": _rows(10_001)}, "MAX_TOPOLOGY_LAYERS")
case("topology-blank-lines-do-not-count-but-rows-do",
     SIM_T, {"t.csv": TOPO + "\n\n" + _rows(10_001)[len(TOPO):]}, "MAX_TOPOLOGY_LAYERS")
case("topology-duplicate-at-the-end", SIM_T, {"t.csv": _rows(10_000)[:-len("L9999, 64, 64, 64, 2:4,\n")]
                                             + "L0, 4, 4, 4,\n"}, "first on line 2")
case("topology-too-big-file", SIM_T, {"t.csv": lambda p: p.write_bytes(TOPO.encode() + b" " * (17 * 2**20))},
     "allowed")
# 70 ops of ~3.2 M dense + ~1.6 M sparse folds each on 32x32: every op under MAX_FOLDS,
# the workload over MAX_TOTAL_FOLDS
case("topology-total-folds", SIM_T, {"t.csv": _rows(70, "{i}, 1, 57344, 57344, 2:4,\n")}, "MAX_TOTAL_FOLDS")
case("workload-csv-total-folds", ["sim", "systolic", "--workload", "t.csv", "--json"],
     {"t.csv": _rows(70, "{i}, 1, 57344, 57344, 2:4,\n")}, "MAX_TOTAL_FOLDS")
case("extract-batch-1e9", ["workload", "extract", "--out", "o.npz", "--batch", "1000000000"], {},
     "at most --batch")
case("extract-batch-1e9-training", ["workload", "extract", "--out", "o.npz", "--batch", "1000000000",
                                    "--training"], {}, "at most --batch")
case("show-minilm-batch-1e9", ["workload", "show", "minilm-l6", "--batch", "1000000000"], {}, "at most --batch")
for model in ("resnet18", "resnet50", "vit-b16"):
    case(f"show-{model}-batch-1e9", ["workload", "show", model, "--batch", "1000000000"], {}, "at most batch")
HUGE_SHAPE = {"hidden_size": 131072, "num_hidden_layers": 1024, "num_attention_heads": 1024,
              "vocab_size": 4194304, "intermediate_size": 1048576}
case("config-json-limits-corner", ["sim", "flightllm", "--model", "m.json"],
     {"m.json": json.dumps(HUGE_SHAPE)}, "weight tiles")
case("config-json-vocab-only", ["sim", "flightllm", "--model", "m.json"],
     {"m.json": json.dumps({**HUGE_SHAPE, "hidden_size": 131072, "num_hidden_layers": 1,
                            "intermediate_size": 16})}, "GiB")
case("workload-json-limits-corner", ["workload", "show", "m.json"], {"m.json": json.dumps(HUGE_SHAPE)},
     "weight tiles")


@pytest.mark.timeout(120)   # a hang guard: the quadratic duplicate check took hours here
@pytest.mark.parametrize(("argv", "files", "needle"), CASES)
def test_bound_refuses_up_front(hostile, argv, files, needle):
    line = hostile(argv, files)
    assert needle in line, line


# --- the bounds are the machine's, and they let through what fits ------------------------------
def test_memory_bound_follows_the_machine(monkeypatch):
    """Halve the machine and the largest --batch halves; what fits is not refused."""
    from accel import memory
    from accel.workloads.checkpoint import load_linear_weights
    from accel.workloads.extract import check_extraction_memory

    weights = load_linear_weights("minilm-l6")

    def largest(ram: int) -> int:
        monkeypatch.setattr(memory, "physical_memory_bytes", lambda: ram)
        with pytest.raises(WorkloadError, match=r"at most --batch (\d+)") as exc:
            check_extraction_memory(weights, 128, 10**9, False)
        n = int(exc.value.args[0].rsplit("at most --batch ", 1)[1].split()[0])
        check_extraction_memory(weights, 128, n, False)          # the bound it names fits
        with pytest.raises(WorkloadError, match=f"{ram * memory.MEMORY_FRACTION / 2**30:.3g} GiB"):
            check_extraction_memory(weights, 128, n + 1, False)   # one more does not
        return n

    big, small = largest(16 * 2**30), largest(8 * 2**30)
    assert small == big // 2 or small == (big - 1) // 2
    assert small >= 1


def test_tiny_machine_refuses_a_default_llm_shape(monkeypatch):
    from accel import memory
    from accel.workloads.llm import llm_workload

    llm_workload("llama2-7b", 8, 8)   # fits this machine
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 2**20)
    with pytest.raises(WorkloadError, match="weight tiles"):
        llm_workload("llama2-7b", 8, 8)


def test_total_folds_is_checked_before_the_first_walk(monkeypatch):
    """The error comes from the up-front sum, so no fold walk runs at all."""
    from accel.arch.systolic import _kernels as K
    from accel.arch.systolic import model
    from accel.arch.systolic.config import SystolicConfig
    from accel.workloads.formats import Dense
    from accel.workloads.ops import Gemm, Workload

    ops = [Gemm(f"g{i}", "infer", 1, 57344, 57344, Dense((57344, 57344))) for i in range(90)]
    walked = []
    monkeypatch.setattr(K, "walk_folds", lambda *a: walked.append(a))
    with pytest.raises(WorkloadError, match="MAX_TOTAL_FOLDS"):
        model.simulate(Workload("big", ops), SystolicConfig(array_rows=32, array_cols=32))
    assert walked == []
    # the same ops, few enough that their folds stay under the bound, are simulated
    per_op = 1792 * 1792
    monkeypatch.undo()
    small = ops[: model.MAX_TOTAL_FOLDS // per_op][:2]
    assert len(small) == 2
    assert model.simulate(Workload("ok", small), SystolicConfig(array_rows=32, array_cols=32)).folds == 2 * per_op


def test_topology_at_the_layer_limit_is_read(tmp_path):
    """MAX_TOPOLOGY_LAYERS rows are read; the duplicate check does not refuse unique names."""
    from accel.arch.systolic.scalesim_io import MAX_TOPOLOGY_LAYERS, read_topology

    p = tmp_path / "t.csv"
    p.write_text(_rows(MAX_TOPOLOGY_LAYERS))
    assert len(read_topology(p).ops) == MAX_TOPOLOGY_LAYERS


@pytest.mark.timeout(300)
def test_extract_huge_batch_stays_small(tmp_path):
    rc, kb, err, _ = peak_rss_kb(["workload", "extract", "--out", "o.npz", "--batch", "1000000000"], tmp_path)
    assert rc == 2 and err.startswith("error:") and "at most --batch" in err, err
    assert kb < LIMIT_KB, f"peak RSS {kb / 1024:.0f} MB"
    assert not (tmp_path / "o.npz").exists()
