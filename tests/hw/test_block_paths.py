"""Where RTL blocks find their benches and seeds and put their builds: the same from a
source checkout and from an installed wheel, never inside the tree or the current folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from accel.hw import synth
from accel.hw.blocks import cosim_runner, paths

REPO = Path(__file__).resolve().parents[2]


def test_checkout_layout():
    assert paths.sim_dir() == REPO / "sim"
    assert (paths.sim_dir() / "pe_array_tb.py").is_file()
    assert paths.rtl_dir() == REPO / "rtl"
    assert (paths.rtl_dir() / "synth_cache.json").is_file()


def test_wheel_layout_prefers_package_data(tmp_path, monkeypatch):
    """In a wheel, sim/ and rtl/*.json are package data accel/_sim and accel/_rtl."""
    pkg = tmp_path / "site-packages" / "accel"
    (pkg / "_sim").mkdir(parents=True)
    (pkg / "_rtl").mkdir()
    monkeypatch.setattr(paths, "_PKG", pkg)
    assert paths.sim_dir() == pkg / "_sim"
    assert paths.rtl_dir() == pkg / "_rtl"


def test_builds_and_synth_results_go_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "xdg" / "accel"
    assert paths.build_dir("pe-array", "abc123") == (root / "verilator" / "pe-array" / "abc123"
                                                     / paths.toolchain_key())
    assert paths.toolchain_key().startswith("env-")   # one build folder per virtualenv
    assert paths.synth_cache_dir() == root / "synth"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.cache_root() == tmp_path / "home" / ".cache" / "accel"
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="unsafe"):
            paths.build_dir(bad, "abc")


def test_synth_cache_reads_seeds_and_writes_only_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    seeds = synth.load_cache("synth_cache.json", seeds_only=True)
    seed_file = paths.rtl_dir() / "synth_cache.json"
    before = seed_file.read_bytes()
    key, entry = next(iter(seeds.items()))
    # a cached seed is answered without Yosys (the Verilog callback is never called)
    got = synth.cached_synth(None, lambda: pytest.fail("Yosys ran"), "top",
                             "synth_cache.json", key)
    assert got["cached"] is True and got["resources"] == entry["resources"]
    synth.store("synth_cache.json", "fresh-key", {"resources": {"LUT": 1}})
    assert synth.user_path("synth_cache.json").is_relative_to(tmp_path / "xdg")
    merged = synth.load_cache("synth_cache.json")
    assert merged["fresh-key"] == {"resources": {"LUT": 1}} and set(seeds) < set(merged)
    assert "fresh-key" not in synth.load_cache("synth_cache.json", seeds_only=True)
    assert seed_file.read_bytes() == before
    # a damaged user cache is ignored (rebuilt on the next store), never fatal
    synth.user_path("synth_cache.json").write_text("{not json")
    assert synth.load_cache("synth_cache.json") == seeds


def test_bench_path_is_added_for_the_run_only():
    d = str(paths.sim_dir())
    assert d not in sys.path
    with cosim_runner.bench_path() as sim:
        assert str(sim) == d and sys.path[0] == d
    assert d not in sys.path


def _held(lock: Path) -> bool:
    """Whether another open file description holds ``lock``'s flock (flock conflicts
    between descriptions, so this works from the holding process too)."""
    import fcntl
    import os

    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_verilate_builds_under_its_folder_lock(tmp_path, monkeypatch):
    """Two processes co-simulating one configuration share its build folder: the build
    (writing the .v, Verilator, make) runs under the folder's exclusive lock, and the
    lock is free again once ``verilate`` returns."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seen = []

    class Runner:   # records whether the lock is held while the build runs
        def build(self, *, build_dir, sources, **_):
            seen.append((_held(Path(build_dir) / ".build.lock"), Path(sources[0]).read_text()))

    monkeypatch.setattr("cocotb_tools.runner.get_runner", lambda name: Runner())
    bdir = cosim_runner.verilate("pe-array", "cfg0", "top", "top", lambda: "module top;\nendmodule\n")
    assert bdir.parent.name == "cfg0"
    assert seen == [(True, "module top;\nendmodule\n")]
    assert not _held(bdir / ".build.lock")
    with cosim_runner.build_lock(bdir):
        assert _held(bdir / ".build.lock")
    assert not _held(bdir / ".build.lock")


def test_a_folder_that_cannot_be_locked_still_builds(tmp_path, monkeypatch):
    """A file system without flock (ENOLCK on some network mounts) builds unlocked, as
    before the lock existed, instead of failing the co-simulation."""
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    ran = []
    with cosim_runner.build_lock(tmp_path):
        ran.append(True)
    assert ran == [True]


def test_builds_of_deleted_environments_are_pruned(tmp_path, monkeypatch):
    """A build names its environment; once that venv is gone the build is deleted (a fresh
    clone's test run would otherwise leave ~5 GB behind for good), and only then."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    live = paths.build_dir("pe-array", "cfg1")
    live.mkdir(parents=True)
    paths.record_environment(live)
    assert (live / paths.ENVIRONMENT_FILE).read_text().splitlines()[0] == \
        str(Path(sys.prefix).resolve())
    venv = tmp_path / "venv"
    (venv / "cocotb").mkdir(parents=True)
    cfg = live.parent
    dead, other, unknown = cfg / "env-dead", cfg / "env-other", cfg / "env-unknown"
    for d, prefix in ((dead, tmp_path / "gone"), (other, venv)):
        d.mkdir()
        (d / "Vtop.mk").write_text("x")
        (d / paths.ENVIRONMENT_FILE).write_text(f"{prefix}\n{venv / 'cocotb'}\n")
    unknown.mkdir()                      # no record: nobody can say it is stale
    assert paths.prune_stale_builds() == [dead]
    assert not dead.exists() and other.is_dir() and unknown.is_dir() and live.is_dir()
    (venv / "cocotb").rmdir()            # the cocotb it was built against is gone too
    assert paths.prune_stale_builds() == [other]
    assert live.is_dir() and unknown.is_dir()
