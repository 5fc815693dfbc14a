"""Edge-list graphs (SNAP / KONECT text, optionally gzipped) as SpGEMM workloads."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from accel.cli import main
from accel.errors import WorkloadError
from accel.workloads import edgelist
from accel.workloads.builtin import resolve
from accel.workloads.edgelist import is_edge_list, read_edges

SNAP_DIRECTED = """# Directed graph (each unordered pair of nodes is saved once): toy.txt
# Nodes: 4 Edges: 5
# FromNodeId\tToNodeId
100\t200
100\t300
200\t300
300\t100
300\t900
100\t200
"""


def _dense(path) -> np.ndarray:
    return read_edges(path).to_scipy().toarray()


def _reference(edges: list[tuple[int, int]], undirected: bool = False) -> np.ndarray:
    """The adjacency matrix by definition: ids ranked, one 1 per (source, target)."""
    ids = sorted({x for e in edges for x in e})
    rank = {x: i for i, x in enumerate(ids)}
    a = np.zeros((len(ids), len(ids)))
    for s, t in edges:
        a[rank[s], rank[t]] = 1.0
        if undirected:
            a[rank[t], rank[s]] = 1.0
    return a


def test_snap_file_ids_become_ranks_and_duplicates_one_entry(tmp_path):
    f = tmp_path / "toy.txt"
    f.write_text(SNAP_DIRECTED)
    want = _reference([(100, 200), (100, 300), (200, 300), (300, 100), (300, 900)])
    assert np.array_equal(_dense(f), want)
    m = read_edges(f).to_scipy()
    assert m.has_sorted_indices and set(m.data) == {1.0}


def test_gzip_reads_as_the_plain_file(tmp_path):
    plain, packed = tmp_path / "toy.txt", tmp_path / "toy.txt.gz"
    plain.write_text(SNAP_DIRECTED)
    packed.write_bytes(gzip.compress(SNAP_DIRECTED.encode()))
    assert np.array_equal(_dense(packed), _dense(plain))


def test_undirected_headers_symmetrise(tmp_path):
    snap = tmp_path / "road.txt"
    snap.write_text("# Undirected graph: road.txt\n0 1\n1 2\n")
    konect = tmp_path / "out.tsv"
    konect.write_text("% sym unweighted\n% 2 3 3\n0 1 1\n1 2 7 1234\n")   # weights, times ignored
    want = _reference([(0, 1), (1, 2)], undirected=True)
    assert np.array_equal(_dense(snap), want)
    assert np.array_equal(_dense(konect), want)
    asym = tmp_path / "asym.edges"
    asym.write_text("% asym positive\n0 1\n1 2\n")
    assert np.array_equal(_dense(asym), _reference([(0, 1), (1, 2)]))


def test_sparse_ids_take_the_sorting_path_and_agree(tmp_path):
    edges = [(3, 5), (5, 7), (7, 3), (3, 7)]
    dense_ids, sparse_ids = tmp_path / "a.txt", tmp_path / "b.txt"
    dense_ids.write_text("".join(f"{s} {t}\n" for s, t in edges))
    sparse_ids.write_text("".join(f"{s * 10**12} {t * 10**12}\n" for s, t in edges))
    ids = np.array(edges)
    assert edgelist._by_table(int(ids.max()), ids.size)
    assert not edgelist._by_table(int(ids.max()) * 10**12, ids.size)
    assert np.array_equal(_dense(sparse_ids), _dense(dense_ids))
    assert np.array_equal(_dense(dense_ids), _reference(edges))


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**40)), min_size=1, max_size=40),
       st.booleans(), st.booleans())
def test_any_edge_list_reads_as_its_definition(edges, undirected, small):
    import tempfile
    from pathlib import Path

    if small:   # ids dense enough for the rank table
        edges = [(s % 50, t % 50) for s, t in edges]
    head = "# Undirected graph\n" if undirected else "# Directed graph\n"
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "g.txt"
        f.write_text(head + "".join(f"{s}\t{t}\n" for s, t in edges))
        assert np.array_equal(_dense(f), _reference(edges, undirected))


@pytest.mark.parametrize("body, message", [
    ("1 2\n3\n", "line 2 is not two node ids"),
    ("1 2\n2.5 4\n", "line 2 is not two node ids"),
    ("1 2\n-3 4\n", "negative node id -3"),
    ("1 99999999999999999999999\n", "line 1 is not two node ids"),
    ("# only a header\n", "no edges"),
    ("", "no edges"),
    ("1 2\n" + "3" * 70_000 + "\n", "line 2 is longer than"),
    ("1 2\n\xff\xfe 3\n", "line 2 is not two node ids"),
])
def test_bad_edge_lists_are_refused_with_their_line(tmp_path, body, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(body.encode("latin-1"))
    with pytest.raises(WorkloadError, match=message):
        read_edges(f)


def test_broken_gzip_and_non_files_are_refused(tmp_path):
    f = tmp_path / "bad.txt.gz"
    f.write_bytes(b"not gzip")
    with pytest.raises(WorkloadError, match="not a readable edge list"):
        read_edges(f)
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(gzip.compress(SNAP_DIRECTED.encode() * 50)[:60])
    with pytest.raises(WorkloadError, match="not a readable edge list"):
        read_edges(cut)
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(WorkloadError, match="is a directory"):
        read_edges(tmp_path / "dir.txt")
    with pytest.raises(WorkloadError, match="not found"):
        read_edges(tmp_path / "missing.txt")


def test_memory_budget_refuses_before_building(tmp_path, monkeypatch):
    f = tmp_path / "g.txt"
    f.write_text("".join(f"{i} {i + 1}\n" for i in range(1000)))
    from accel.workloads import graphs

    monkeypatch.setattr(graphs, "MEMORY_BUDGET", 1000 * edgelist.BYTES_PER_EDGE_TABLE - 1)
    with pytest.raises(WorkloadError, match="more than the"):
        read_edges(f)


def test_suffixes_route_through_the_one_resolver(tmp_path):
    assert is_edge_list("cit-Patents.txt.gz") and is_edge_list("g.TSV") and is_edge_list("x.edges")
    assert not is_edge_list("g.mtx") and not is_edge_list("rmat:10")
    f = tmp_path / "toy.txt.gz"
    f.write_bytes(gzip.compress(SNAP_DIRECTED.encode()))
    w = resolve(str(f))
    assert w.name == "toy" and w.provenance["format"] == "edge list"
    a = w.ops[0].a.to_scipy()
    assert (a != sp.csr_matrix(_reference([(100, 200), (100, 300), (200, 300), (300, 100),
                                           (300, 900)]))).nnz == 0


def test_cli_simulates_an_edge_list_and_refuses_a_bad_one(tmp_path, capsys):
    f = tmp_path / "toy.txt"
    f.write_text(SNAP_DIRECTED)
    assert main(["sim", "piuma", "--workload", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["correct"] is True and out["workload"] == "toy"
    assert out["partial_products"] == 7   # sum over edges (s, t) of t's out-degree
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\nfoo bar\n")
    assert main(["sim", "piuma", "--workload", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "line 2" in err[0]


def test_snap_edge_list_equals_its_matrix_market_twin(capsys):
    """The committed SNAP-style file is the committed .mtx's graph (each edge once, ids x10):
    the same matrix, and the same simulated run."""
    from pathlib import Path

    from accel.workloads.graphs import read_mtx

    data = Path(__file__).resolve().parents[1] / "arch" / "piuma" / "data"
    txt, mtx = data / "ring_chords_undirected.txt", data / "ring_chords_pattern_symmetric.mtx"
    assert (read_edges(txt).to_scipy() != read_mtx(mtx).to_scipy()).nnz == 0
    runs = []
    for f in (txt, mtx):
        assert main(["sim", "piuma", "--workload", str(f), "--algo", "smash-v2", "--json"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0]["correct"] and runs[0]["cycles"] == runs[1]["cycles"] > 0


def test_cli_synth_edges_saves_the_workload(tmp_path, capsys):
    from accel.workloads import io

    f = tmp_path / "toy.txt"
    f.write_text(SNAP_DIRECTED)
    out = tmp_path / "toy.npz"
    assert main(["workload", "synth", "edges", str(f), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ops"][0]["M"] == 4 and summary["provenance"]["format"] == "edge list"
    saved = io.load(out).ops[0].a.to_scipy()
    assert (saved != read_edges(f).to_scipy()).nnz == 0
    assert main(["workload", "synth", "edges", str(tmp_path / "g.mtx"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "edge lists end in" in err[0]
