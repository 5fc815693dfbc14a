"""Hatch build hook: a wheel ships accel's simulation kernels compiled.

Numba compiles a kernel on its first call; PIUMA's take ~11 s, FlightLLM's ~6 s.  A
checkout's ``make install`` compiles them (``accel cache warm``), but pip has no step after
an install, so a ``pip install``ed accel paid them on its first run.  This hook pays them
while pip builds the wheel instead: it runs every machine's warm-up (the same as ``accel
cache warm``) with the kernel cache pointed at a temporary folder, and puts that folder in
the wheel as ``accel/_prebuilt_kernels``.  ``accel.arch._numba_cache`` copies a source
key's folder into the user's cache on its first use.

Entries only load where they were compiled for: the same Numba and Python, the same
sources (the folder names are source keys) and, Numba checks, the same CPU.  So the hook
helps a wheel pip builds on the machine that installs it (``pip install ./accel``, a git
URL, an sdist) and costs nothing elsewhere: a mismatched entry is compiled and added as
without it.  Editable installs skip it: ``make install`` compiles the same folder in the
checkout itself (git-ignored, so never in a wheel or an sdist but this hook's).
A warm-up that fails leaves the wheel without kernels (a warning), never the build failed.
``ACCEL_NO_PREBUILT=1`` skips it (and, at run time, the copy into the cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WARM_UP = """\
from accel.arch.registry import machines
for m in machines():
    m.warm_up()
"""
TIMEOUT_S = 1800   # a warm-up takes ~25 s here; a stuck one must not hang pip


WARM_UP_NEEDS = ("numpy", "numba", "scipy", "pyyaml")   # what the warm-up imports


class PrebuiltKernels(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        """The build environment gets the warm-up's imports, at the project's own bounds."""
        import re

        if os.environ.get("ACCEL_NO_PREBUILT"):
            return []

        return [d for d in self.metadata.core.dependencies
                if re.match(r"[A-Za-z0-9_.-]+", d)[0].lower() in WARM_UP_NEEDS]

    def initialize(self, version: str, build_data: dict) -> None:
        self._out = None
        if self.target_name != "wheel" or version == "editable" or os.environ.get("ACCEL_NO_PREBUILT"):
            return
        out = Path(tempfile.mkdtemp(prefix="accel-prebuilt-"))
        env = {**os.environ, "PYTHONPATH": self.root, "ACCEL_NUMBA_CACHE_DIR": str(out)}
        env.pop("NUMBA_CACHE_DIR", None)
        try:
            subprocess.run([sys.executable, "-c", WARM_UP], cwd=self.root, env=env, check=True,
                           capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.SubprocessError) as exc:
            tail = (getattr(exc, "stderr", None) or str(exc)).strip().splitlines()[-1:]
            self.app.display_warning(f"accel: simulation kernels not compiled into the wheel "
                                     f"({tail[0] if tail else type(exc).__name__}); "
                                     "the first run of each machine compiles them")
            shutil.rmtree(out, ignore_errors=True)
            return
        self._out = out
        build_data["force_include"][str(out)] = "accel/_prebuilt_kernels"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if self._out is not None:
            shutil.rmtree(self._out, ignore_errors=True)
