"""Inputs that *claim* huge sizes are refused from their headers: the process stays far
below 2 GB and exits 2 quickly (peak RSS of the child measured with wait4)."""

from __future__ import annotations

import hostile_files as H
import pytest
from cli_harness import peak_rss_kb

LIMIT_KB = 2 * 1024 * 1024   # 2 GB


@pytest.mark.timeout(300)
def test_matrix_market_header_1e9_stays_small(tmp_path):
    (tmp_path / "big.mtx").write_text(H.mtx("1000000000 1000000000 1", "1 1 1.0\n"))
    rc, kb, err, seconds = peak_rss_kb(["workload", "show", "big.mtx"], tmp_path)
    assert rc == 2 and err.startswith("error:") and "GiB" in err, err
    assert kb < LIMIT_KB, f"peak RSS {kb / 1024:.0f} MB"
    assert seconds < 120


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_zip_bomb_stays_small(tmp_path):
    """A genuine 3 GiB-of-zeros deflate bomb (~3 MB on disk) is refused unread."""
    path = tmp_path / "bomb.npz"
    H.real_zip_bomb(3 * 2**30)(path)
    assert path.stat().st_size < 64 * 2**20
    for argv in (["workload", "show", "bomb.npz"], ["sim", "piuma", "--workload", "bomb.npz"]):
        rc, kb, err, _ = peak_rss_kb(argv, tmp_path)
        assert rc == 2 and err.startswith("error:") and "GiB" in err, err
        assert kb < LIMIT_KB, f"peak RSS {kb / 1024:.0f} MB"
