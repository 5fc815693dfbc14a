"""Issue 25, class 6: ``accel cache clear`` reports only what it did.

Bytes count as freed only for files actually removed; a cache that could not be cleared
(read-only, a folder that is a symbolic link, one file that stays) is named on one
``error:`` line with the reason, exit code 1, and its files are still there.  Nothing is
ever deleted through a symbolic link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_harness import run_cli


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """An ACCEL_CACHE_DIR and a numba cache under tmp_path; returns their workloads and
    numba folders (both empty)."""
    root = tmp_path / "cache"
    wl, nb = root / "workloads", tmp_path / "numba"
    wl.mkdir(parents=True)
    nb.mkdir()
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(root))
    monkeypatch.setenv("ACCEL_NUMBA_CACHE_DIR", str(nb))
    return wl, nb


def _clear(tmp_path, *only) -> tuple[int, dict, str]:
    argv = ["cache", "clear", "--json"] + [a for o in only for a in ("--only", o)]
    rc, out, err = run_cli(argv, tmp_path)
    assert "Traceback" not in err
    return rc, json.loads(out), err


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


def _deny_unlink_under(monkeypatch, folder: Path):
    """What a read-only folder does to a non-root user (root ignores the mode bits)."""
    real = os.unlink

    def unlink(path, *a, **kw):
        if str(path).startswith(str(folder)):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(os, "unlink", unlink)


def test_read_only_cache_frees_nothing(tmp_path, caches, monkeypatch):
    wl, _ = caches
    (wl / "a.npz").write_bytes(b"x" * 20000)
    _deny_unlink_under(monkeypatch, wl)
    rc, out, err = _clear(tmp_path, "workloads")
    assert rc == 1
    assert out["freed_bytes"] == 0 and out["cleared"]["workloads"] == 0
    assert out["not_cleared"]["workloads"]["files_left"] == 1
    line = _one_error_line(err)
    assert "workloads" in line and "Permission denied" in line
    assert (wl / "a.npz").stat().st_size == 20000


@pytest.mark.skipif(os.geteuid() == 0, reason="root deletes from read-only folders")
def test_read_only_folder_for_real(tmp_path, caches):
    wl, _ = caches
    (wl / "a.npz").write_bytes(b"x" * 100)
    wl.chmod(0o555)
    try:
        rc, out, err = _clear(tmp_path, "workloads")
    finally:
        wl.chmod(0o755)
    assert rc == 1 and out["freed_bytes"] == 0 and (wl / "a.npz").exists()
    _one_error_line(err)


def test_partly_removable_counts_exactly_what_went(tmp_path, caches, monkeypatch):
    wl, _ = caches
    (wl / "gone.npz").write_bytes(b"g" * 300)
    stuck = wl / "locked"
    stuck.mkdir()
    (stuck / "stays.npz").write_bytes(b"s" * 7000)
    _deny_unlink_under(monkeypatch, stuck)
    rc, out, err = _clear(tmp_path, "workloads")
    assert rc == 1 and out["freed_bytes"] == 300
    assert out["not_cleared"]["workloads"]["files_left"] == 1
    assert not (wl / "gone.npz").exists() and (stuck / "stays.npz").exists()
    _one_error_line(err)


def test_symlinked_cache_folder_is_not_entered_and_claims_nothing(tmp_path, caches):
    wl, _ = caches
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "precious.npz").write_bytes(b"p" * 5000)
    wl.rmdir()
    wl.symlink_to(real, target_is_directory=True)
    rc, out, err = _clear(tmp_path, "workloads")
    assert rc == 1 and out["freed_bytes"] == 0
    assert "symbolic link" in _one_error_line(err)
    assert wl.is_symlink() and (real / "precious.npz").stat().st_size == 5000


def test_symlink_inside_the_cache_is_removed_not_followed(tmp_path, caches):
    wl, _ = caches
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"o" * 9000)
    (wl / "link.npz").symlink_to(outside)
    (wl / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    (wl / "real.npz").write_bytes(b"r" * 10)
    rc, out, err = _clear(tmp_path, "workloads")
    assert rc == 0, err
    link_bytes = len(str(outside)) + len(str(tmp_path))   # a link's own size is its target path
    assert out["freed_bytes"] == 10 + link_bytes
    assert outside.stat().st_size == 9000 and not wl.exists()


def test_one_failing_cache_does_not_hide_the_other(tmp_path, caches, monkeypatch):
    wl, nb = caches
    (wl / "a.npz").write_bytes(b"a" * 100)
    (nb / "k.nbi").write_bytes(b"k" * 40)
    _deny_unlink_under(monkeypatch, wl)
    rc, out, err = _clear(tmp_path, "workloads", "numba")
    assert rc == 1
    assert out["cleared"] == {"workloads": 0, "numba": 40} and out["freed_bytes"] == 40
    assert "workloads" in _one_error_line(err) and not nb.exists()


def test_missing_and_empty_caches_free_zero_and_succeed(tmp_path, caches):
    wl, nb = caches
    nb.rmdir()
    rc, out, err = _clear(tmp_path, "workloads", "numba")
    assert rc == 0 and out["freed_bytes"] == 0 and out["not_cleared"] == {}, err


def test_text_output_says_files_left(tmp_path, caches, monkeypatch):
    wl, _ = caches
    (wl / "a.npz").write_bytes(b"a" * 100)
    _deny_unlink_under(monkeypatch, wl)
    rc, out, err = run_cli(["cache", "clear", "--only", "workloads"], tmp_path)
    assert rc == 1 and "1 files left" in out and "freed 0 B" in out
    _one_error_line(err)
