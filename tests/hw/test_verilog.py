"""Verilog emission: committed reference builds never go stale; Verilator lint is clean."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from accel.hw.blocks.cosim_runner import LINT_WAIVERS
from accel.hw.blocks.pe_array import verilog
from accel.hw.blocks.pe_array.params import ArrayParams
from accel.hw.toolchain import verilator_env

RTL = Path(__file__).resolve().parents[2] / "rtl"
REFERENCE = [ArrayParams(4, 4, 2, 4), ArrayParams(8, 8, 2, 8)]


@pytest.mark.parametrize("p", REFERENCE, ids=lambda p: p.name)
def test_reference_rtl_is_current(p, tmp_path):
    paths = verilog.write(p, tmp_path)
    committed_v = RTL / f"{p.name}.v"
    committed_j = RTL / f"{p.name}.json"
    assert committed_v.read_text() == paths["verilog"].read_text(), \
        f"rtl/{p.name}.v is stale: run accel rtl generate ... --out rtl"
    assert json.loads(committed_j.read_text()) == json.loads(paths["sidecar"].read_text())


@pytest.mark.parametrize("p", REFERENCE, ids=lambda p: p.name)
def test_verilator_lint_clean(p):
    exe = verilator_env()
    proc = subprocess.run([str(exe), "--lint-only", *LINT_WAIVERS, str(RTL / f"{p.name}.v")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "%Warning" not in proc.stderr and "%Error" not in proc.stderr


def test_sidecar_describes_ports_and_latency():
    p = ArrayParams(2, 3, 1, 8)
    sc = verilog.sidecar(p)
    ports = {q["name"]: q for q in sc["ports"]}
    layout_bits = {"act__payload": 2 * 8 * 8, "weight__payload": 3 * (8 + 3),
                   "result__payload": 1 + 3 * 32}
    for name, bits in layout_bits.items():
        assert ports[name]["width"] == bits
    assert ports["result__ready"]["dir"] == "in" and ports["result__valid"]["dir"] == "out"
    text = verilog.generate(p)
    for name, q in ports.items():
        decl = f"input {name}" if q["width"] == 1 and q["dir"] == "in" else name
        assert decl in text
    assert sc["latency"]["constants"]["MAC_LATENCY"] == 1


def test_unwritable_out_dir(tmp_path):
    from accel.errors import AccelError

    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(AccelError, match="cannot create output folder"):
        verilog.write(ArrayParams(2, 2, 2, 4), blocker / "sub")


def test_pipelined_build_ports_sidecar_and_lint(tmp_path):
    """pipelined=True: run control (ctrl__tiles, no ctrl__beats), act payload + last bit,
    the run latency in the sidecar, its own name/hash, and Verilator lint clean."""
    base, pipe = ArrayParams(4, 4, 2, 8), ArrayParams(4, 4, 2, 8, pipelined=True)
    assert pipe.name.endswith("_pipe") and pipe.config_hash() != base.config_hash()
    assert "pipelined" not in base.to_dict() and ArrayParams(**pipe.to_dict()) == pipe
    sc = verilog.sidecar(pipe)
    ports = {q["name"]: q for q in sc["ports"]}
    assert "ctrl__tiles" in ports and "ctrl__beats" not in ports
    assert ports["act__payload"]["width"] == 4 * 8 * 8 + 1
    assert sc["payloads"]["act"]["last"]["offsets"] == [4 * 8 * 8]
    assert "tiles_cycles" in sc["latency"]["pipelined_run"]["function"]
    assert "pipelined_run" not in verilog.sidecar(base)["latency"]
    paths = verilog.write(pipe, tmp_path)
    proc = subprocess.run([str(verilator_env()), "--lint-only", *LINT_WAIVERS,
                           str(paths["verilog"])], capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr[-2000:]


def test_fp16_and_weight_gen_lint_clean(tmp_path):
    """`accel rtl generate --dtype fp16 ... --pipelined` and the weight generator's
    Verilog pass Verilator lint with the documented waivers; the FP16 sidecar states
    the numerics and the 16-bit payload fields."""
    from accel.hw.blocks.weight_gen.cosim import generate as gen_verilog
    from accel.hw.blocks.weight_gen.gen import GenParams

    p = ArrayParams.fp16(4, 4, 2, 8, pipelined=True)
    sc = verilog.sidecar(p)
    assert sc["params"]["dtype"] == "fp16" and "reference" in sc["numerics"]
    assert sc["payloads"]["act"]["win"]["width"] == 16
    assert sc["payloads"]["result"]["acc"] == {**sc["payloads"]["result"]["acc"],
                                               "width": 32, "signed": False}
    paths = verilog.write(p, tmp_path)
    gen_v = tmp_path / "wgen.v"
    gen_v.write_text(gen_verilog(GenParams(2, 8, 16)))
    for f in (paths["verilog"], gen_v):
        proc = subprocess.run([str(verilator_env()), "--lint-only", *LINT_WAIVERS, str(f)],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr[-2000:]
