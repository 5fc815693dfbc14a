"""Co-simulation plumbing shared by every RTL block: Verilate once per configuration
(under the user cache), run one cocotb bench of ``sim/`` in a fresh folder, collect the
JSON outcomes it appends.

A block's host side calls :func:`verilate` inside the ``build_fn`` it hands to
:func:`build_and_run`; the bench reads the job file named by one environment variable
and appends one JSON object a line to the results file named by another.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from accel.arch.registry import CliTable
from accel.errors import ToolchainError
from accel.hw.blocks.paths import build_dir, prune_stale_builds, record_environment, sim_dir

# Amaranth idioms Verilator flags (see rtl/README.md): index muxes written as shifts
# (WIDTHTRUNC), sign-extending adds (WIDTHEXPAND), FSM casez without default.
LINT_WAIVERS = ("-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE")


@dataclass
class CosimReport:
    """Outcomes of one bench run: each a dict with ``scenario``, ``rtl_cycles``,
    ``model_cycles``, ``wall_cycles``, ``outputs_checked``, ``output_mismatches``."""

    params: dict
    outcomes: list[dict]
    tests: int
    tests_failed: int
    sim_seconds: float
    build_seconds: float
    waves: str | None = None
    log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rtl_cycles(self) -> int:
        return sum(o["rtl_cycles"] for o in self.outcomes)

    @property
    def model_cycles(self) -> int:
        return sum(o["model_cycles"] for o in self.outcomes)

    @property
    def cycle_mismatches(self) -> int:
        """Runs whose RTL counter differs from the model, or (unstalled) whose wall does."""
        return sum(o["rtl_cycles"] != o["model_cycles"] or
                   (o["scenario"] in ("unstalled", "after_reset")
                    and o["wall_cycles"] != o["model_cycles"]) for o in self.outcomes)

    @property
    def outputs_checked(self) -> int:
        return sum(o["outputs_checked"] for o in self.outcomes)

    @property
    def output_mismatches(self) -> int:
        return sum(o["output_mismatches"] for o in self.outcomes)

    @property
    def wall_cycles(self) -> int:
        return sum(o["wall_cycles"] for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return not (self.tests_failed or self.cycle_mismatches or self.output_mismatches)

    def summary(self) -> dict:
        """The fields every block's ``cosim`` JSON carries (``accel rtl cosim`` contract)."""
        return {"params": self.params, "ok": self.ok,
                "rtl_cycles": self.rtl_cycles, "model_cycles": self.model_cycles,
                "cycle_mismatches": self.cycle_mismatches,
                "outputs_checked": self.outputs_checked,
                "output_mismatches": self.output_mismatches,
                "value_mismatches": self.output_mismatches,
                "simulated_cycles": self.wall_cycles,
                "sim_seconds": round(self.sim_seconds, 3),
                "build_seconds": round(self.build_seconds, 3),
                "cocotb_tests": self.tests, "cocotb_failed": self.tests_failed,
                "waves": self.waves, **self.extra}


@contextmanager
def bench_path() -> Iterator[Path]:
    """``sim/`` (or ``accel/_sim``) on ``sys.path`` for the duration: cocotb's runner hands
    ``sys.path`` to the simulator as PYTHONPATH, and the benches import each other by
    their top-level names."""
    d = str(sim_dir())
    added = d not in sys.path
    if added:
        sys.path.insert(0, d)
    try:
        yield Path(d)
    finally:
        if added and d in sys.path:
            sys.path.remove(d)


def _testcase_seconds(xml: Path) -> float:
    """Wall time cocotb spent inside the tests (excludes simulator and Python start-up)."""
    from xml.etree import ElementTree

    root = ElementTree.parse(xml).getroot()
    return sum(float(tc.get("time", 0.0)) for tc in root.iter("testcase"))


@contextmanager
def build_lock(bdir: Path) -> Iterator[None]:
    """Hold the build folder ``bdir`` alone for one Verilator build.  Two processes that
    co-simulate one configuration at once (two shells, two test workers) share its folder:
    unserialised, both would write ``<name>.v`` and run Verilator's make in it together.
    An exclusive ``flock`` on ``bdir/.build.lock`` makes the second wait, then find the
    build up to date (Verilator skips identical inputs, make has nothing to do), so the
    first one's running simulation binary is never replaced under it.  The kernel drops
    the lock when its holder exits, a killed one included: nothing stale is left."""
    import fcntl

    fd = None
    try:
        fd = os.open(bdir / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        # another user's lock file, a file system without flock (some network mounts):
        # build unlocked, as before the lock existed, rather than not at all
        pass
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)   # closing releases the lock


@functools.cache
def _prune_once() -> None:
    """Remove the builds of deleted environments (``paths.prune_stale_builds``), once per
    process: a glob of a few hundred folders, beside a build that takes seconds."""
    prune_stale_builds()


def verilate(block: str, config_hash: str, name: str, top: str, source: Callable[[], str],
             waves: bool = False, quick: bool = False) -> Path:
    """Verilate the Verilog text ``source()`` (module ``top``) as ``<name>.v`` into
    ``build_dir(block, config_hash[-waves])``; reused when unchanged (``quick``: the
    cheap C++ optimisation flags of ``toolchain.QUICK_OPT_FLAGS``)."""
    from cocotb_tools.runner import get_runner

    from accel.hw.toolchain import verilator_build_env, verilator_env

    verilator_env()
    bdir = build_dir(block, config_hash + ("-waves" if waves else ""))
    try:
        bdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolchainError(f"cannot create the Verilator build folder {bdir}: "
                             f"{exc.strerror}") from None
    record_environment(bdir)
    _prune_once()
    text = source()
    with build_lock(bdir), verilator_build_env(quick=quick):
        src = bdir / f"{name}.v"
        if not src.exists() or src.read_text() != text:   # keep mtime so make can skip
            src.write_text(text)
        runner = get_runner("verilator")
        try:
            runner.build(sources=[src], hdl_toplevel=top, build_dir=bdir, waves=waves,
                         build_args=list(LINT_WAIVERS), log_file=bdir / "build.log",
                         timescale=("1ns", "1ps"))
        except (RuntimeError, SystemExit) as exc:
            raise ToolchainError(f"Verilator build of {name} failed ({exc}); "
                                 f"see {bdir / 'build.log'}") from None
    return bdir


def build_and_run(build_fn: Callable[[], Path], params: dict, test_module: str, top: str,
                  env: tuple[str, str], write_job: Callable[[Path], None], seed: int,
                  waves: bool) -> CosimReport:
    """Build (``build_fn()`` returns the build folder, normally via :func:`verilate`),
    then run the cocotb tests of ``sim/<test_module>.py`` once in a fresh folder under
    ``<build>/runs``: ``write_job(path)`` writes ``job.npz`` there, the tests append one
    JSON outcome a line to ``results.jsonl``; ``env`` names the variables that hold
    those two paths.  With ``waves`` the VCD is kept as ``<build>/dump.vcd``."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    t0 = time.perf_counter()
    bdir = build_fn()
    t_build = time.perf_counter() - t0
    run_dir = bdir / "runs"
    run_dir.mkdir(exist_ok=True)
    with bench_path() as sim, tempfile.TemporaryDirectory(dir=run_dir) as tmp:
        if not (sim / f"{test_module}.py").is_file():
            raise ToolchainError(f"cocotb bench {test_module}.py not found in {sim}")
        tmp = Path(tmp)
        job, results = tmp / "job.npz", tmp / "results.jsonl"
        write_job(job)
        results.touch()
        runner = get_runner("verilator")
        t1 = time.perf_counter()
        xml = runner.test(test_module=test_module, hdl_toplevel=top, build_dir=bdir,
                          hdl_toplevel_lang="verilog",
                          test_dir=tmp, waves=waves, results_xml=str(tmp / "results.xml"),
                          extra_env={env[0]: str(job), env[1]: str(results)},
                          log_file=tmp / "sim.log", seed=seed)
        t_sim = time.perf_counter() - t1
        n_tests, n_failed = get_results(Path(xml))
        test_seconds = _testcase_seconds(Path(xml))
        outcomes = [json.loads(line) for line in results.read_text().splitlines() if line]
        log_tail = "\n".join((tmp / "sim.log").read_text().splitlines()[-40:]) \
            if n_failed else ""
        wave_path = None
        if waves:
            wf = tmp / "dump.vcd"
            if wf.exists():
                keep = bdir / "dump.vcd"
                wf.replace(keep)
                wave_path = str(keep)
    return CosimReport(params, outcomes, n_tests, n_failed, t_sim, t_build, wave_path,
                       log_tail, {"test_seconds": round(test_seconds, 3)})


def cosim_table(title: str, d: dict, extra: tuple[str, ...] = ()) -> CliTable:
    """The people's view of a cosim JSON (``d`` from :meth:`CosimReport.summary` plus the
    block's own keys ``extra``): one row per field."""
    keys = ("ok", "rtl_cycles", "model_cycles", "cycle_mismatches", "outputs_checked",
            "output_mismatches", "simulated_cycles", "build_seconds", "sim_seconds", *extra)
    return CliTable(title, ("field", "value"),
                    tuple((k, f"{d[k]:,}" if isinstance(d[k], int) and not isinstance(d[k], bool)
                           else str(d[k])) for k in keys if k in d))
