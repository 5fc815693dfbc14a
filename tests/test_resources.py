"""accel.resources: the run-time data folders in a checkout and in an installed wheel, and
the build configuration that puts them into the wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from accel import resources
from accel.arch import registry
from accel.errors import AccelError

CHECKOUT = Path(resources.__file__).resolve().parents[1]


def test_checkout_folders_are_found():
    assert resources.specs_dir() == CHECKOUT / "workloads" / "sweeps"
    assert resources.sim_dir() == CHECKOUT / "sim"
    assert resources.rtl_dir() == CHECKOUT / "rtl"


def test_every_demo_spec_resolves():
    for m in registry.machines():
        if m.demo_spec:
            assert resources.spec_path(m.demo_spec).is_file(), m.name


def test_the_packaged_copy_wins(tmp_path, monkeypatch):
    """In a wheel the folders sit inside the package; a checkout beside it is ignored."""
    pkg, checkout = tmp_path / "site" / "accel", tmp_path / "src"
    (pkg / "_specs").mkdir(parents=True)
    (pkg / "_specs" / "x.yaml").write_text("name: x\n")
    (checkout / "workloads" / "sweeps").mkdir(parents=True)
    monkeypatch.setattr(resources, "PKG_ROOT", pkg)
    monkeypatch.setattr(resources, "CHECKOUT_ROOT", checkout)
    assert resources.specs_dir() == pkg / "_specs"
    assert resources.spec_path("x") == pkg / "_specs" / "x.yaml"
    with pytest.raises(AccelError, match="no built-in sweep spec 'y'; known: x"):
        resources.spec_path("y")
    with pytest.raises(AccelError, match="sim/ files are missing"):
        resources.sim_dir()


def test_the_wheel_maps_the_same_folders():
    """pyproject's force-include mapping and resources.FOLDERS name the same places."""
    conf = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    mapping = conf["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    expected = {src: f"accel/{packaged}" for packaged, src in resources.FOLDERS.values()}
    assert mapping == expected
    assert conf["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["accel"]


def test_the_wheel_build_hook_is_declared_shipped_and_given_what_it_imports():
    """hatch_build.py (the wheel ships compiled kernels) runs in pip's isolated build
    environment: pyproject must declare it, the sdist must carry it (a build from the sdist
    needs the file), and every package its warm-up needs must be a project dependency (its
    ``dependencies()`` takes their bounds from there)."""
    import ast
    import re

    conf = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    hatch = conf["tool"]["hatch"]["build"]["targets"]
    assert "custom" in hatch["wheel"]["hooks"]
    assert "hatch_build.py" in hatch["sdist"]["include"]
    tree = ast.parse((CHECKOUT / "hatch_build.py").read_text())
    needs = next(ast.literal_eval(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and any(getattr(t, "id", "") == "WARM_UP_NEEDS" for t in n.targets))
    declared = {re.match(r"[A-Za-z0-9_.-]+", d)[0].lower() for d in conf["project"]["dependencies"]}
    assert set(needs) <= declared and {"numba", "numpy"} <= set(needs)


def test_make_install_compiles_into_the_folder_the_cache_seeds_from():
    """``make install`` warms the kernels into the checkout's prebuilt folder, the one
    ``_numba_cache.seed`` copies from, and git ignores it (so it reaches neither a commit
    nor, but through the build hook, a wheel): renaming one without the other would silently
    bring back the compile after ``accel cache clear``."""
    from accel.arch import _numba_cache as nc

    rel = nc.PREBUILT.relative_to(CHECKOUT)
    make = (CHECKOUT / "Makefile").read_text()
    assert f'ACCEL_NUMBA_CACHE_DIR="$(CURDIR)/{rel.as_posix()}" $(VENV)/bin/accel cache warm' in make
    assert f"rm -rf {rel.as_posix()}" in make       # a reinstall leaves no stale keys
    assert f"{rel.as_posix()}/" in (CHECKOUT / ".gitignore").read_text().splitlines()
