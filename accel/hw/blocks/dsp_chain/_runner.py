"""Verilate the chain once per configuration and run its cocotb bench.

Minimal stand-in for the block registry's shared ``accel.hw.blocks.cosim_runner``
(``verilate`` + ``build_and_run``), which is not on this branch yet: same layout (build
folders under the user cache, ``sim/`` on ``sys.path``, a job file and a JSON-lines
results file named by environment variables); switch to it when it lands.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from accel.errors import ToolchainError

SIM_DIR = Path(__file__).resolve().parents[4] / "sim"
# Amaranth idioms Verilator flags (see rtl/README.md)
LINT_WAIVERS = ("-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE")


def build_dir(block: str, config_hash: str) -> Path:
    base = os.environ.get("ACCEL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "accel")
    return Path(base) / "verilator" / block / config_hash


def verilate(block: str, config_hash: str, top: str, text: str) -> Path:
    from cocotb_tools.runner import get_runner

    from accel.hw.toolchain import verilator_build_env

    bdir = build_dir(block, config_hash)
    try:
        bdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolchainError(f"cannot create the Verilator build folder {bdir}: "
                             f"{exc.strerror}") from None
    src = bdir / f"{top}.v"
    if not src.exists() or src.read_text() != text:     # keep mtime so make can skip
        src.write_text(text)
    with verilator_build_env():
        try:
            get_runner("verilator").build(
                sources=[src], hdl_toplevel=top, build_dir=bdir,
                build_args=list(LINT_WAIVERS), log_file=bdir / "build.log",
                timescale=("1ns", "1ps"))
        except (RuntimeError, SystemExit) as exc:
            raise ToolchainError(f"Verilator build of {top} failed ({exc}); "
                                 f"see {bdir / 'build.log'}") from None
    return bdir


def run_bench(bdir: Path, test_module: str, top: str, env: tuple[str, str],
              write_job, seed: int) -> dict:
    """Run ``sim/<test_module>.py`` once; returns outcomes, test counts and timings."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    sim = str(SIM_DIR)
    added = sim not in sys.path
    if added:
        sys.path.insert(0, sim)      # the runner hands sys.path to the simulator
    try:
        (bdir / "runs").mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=bdir / "runs") as tmp:
            tmp = Path(tmp)
            job, results = tmp / "job.npz", tmp / "results.jsonl"
            write_job(job)
            results.touch()
            t0 = time.perf_counter()
            xml = get_runner("verilator").test(
                test_module=test_module, hdl_toplevel=top, build_dir=bdir,
                hdl_toplevel_lang="verilog", test_dir=tmp,
                results_xml=str(tmp / "results.xml"),
                extra_env={env[0]: str(job), env[1]: str(results)},
                log_file=tmp / "sim.log", seed=seed)
            sim_s = time.perf_counter() - t0
            tests, failed = get_results(Path(xml))
            outcomes = [json.loads(x) for x in results.read_text().splitlines() if x]
            tail = "\n".join((tmp / "sim.log").read_text().splitlines()[-30:]) if failed else ""
    finally:
        if added and sim in sys.path:
            sys.path.remove(sim)
    return {"outcomes": outcomes, "tests": tests, "failed": failed, "sim_seconds": sim_s,
            "log": tail}
