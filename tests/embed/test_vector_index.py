"""FAISS index: add/remove/save/load round trip, crash-safe saves, model mismatch refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from corpus.errors import JiebangError
from embed.vector_index import VectorIndex


def _unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_add_remove_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    vectors = _unit(rng, 50)
    index = VectorIndex(8, "m")
    index.add(np.arange(100, 150), vectors)
    assert index.remove(np.array([100, 101, 999])) == 2
    scores, ids = index.search(vectors[10], k=1)
    assert ids[0, 0] == 110 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    index.save(tmp_path / "v.bin")
    loaded = VectorIndex.load(tmp_path / "v.bin", "m", 8)
    assert len(loaded) == 48
    assert sorted(loaded.ids().tolist()) == list(range(102, 150))
    _, ids = loaded.search(vectors[0], k=48)
    assert 100 not in ids[0]


def test_add_replaces_an_existing_id():
    rng = np.random.default_rng(1)
    a, b = _unit(rng, 2)
    index = VectorIndex(8, "m")
    index.add(np.array([7]), a[None])
    index.add(np.array([7]), b[None])
    assert len(index) == 1
    scores, ids = index.search(b, k=1)
    assert ids[0, 0] == 7 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_search_respects_allowed_ids():
    rng = np.random.default_rng(2)
    vectors = _unit(rng, 20)
    index = VectorIndex(8, "m")
    index.add(np.arange(20), vectors)
    _, ids = index.search(vectors[3], k=5, allowed=np.array([10, 11]))
    assert set(ids[0][ids[0] >= 0].tolist()) == {10, 11}


def test_other_model_or_dimension_is_refused(tmp_path):
    index = VectorIndex(8, "model-a")
    index.add(np.arange(3), _unit(np.random.default_rng(3), 3))
    index.save(tmp_path / "v.bin")
    with pytest.raises(JiebangError, match="model-a"):
        VectorIndex.load(tmp_path / "v.bin", "model-b", 8)
    with pytest.raises(JiebangError, match="dim 8"):
        VectorIndex.load(tmp_path / "v.bin", "model-a", 16)


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(JiebangError, match="no vector index at"):
        VectorIndex.load(tmp_path / "nope.bin", "m", 8)


def test_a_save_killed_midway_keeps_the_old_index(tmp_path):
    """Kill a process while it writes a large index; the previous file must still load."""
    path = tmp_path / "v.bin"
    old = VectorIndex(64, "m")
    old.add(np.arange(5), _unit(np.random.default_rng(4), 5, 64))
    old.save(path)
    writer = (
        "import numpy as np, sys, pathlib; from embed.vector_index import VectorIndex\n"
        "ix = VectorIndex(64, 'm'); v = np.random.default_rng(0).normal(size=(400_000, 64))\n"
        "ix.add(np.arange(400_000), (v / np.linalg.norm(v, axis=1, keepdims=True)).astype('f4'))\n"
        "print('saving', flush=True)\n"
        "while True: ix.save(pathlib.Path(sys.argv[1]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "saving"
    # Wait until a temporary file is being written, then kill mid-write.
    for _ in range(2000):
        if any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            break
        os.sched_yield()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    loaded = VectorIndex.load(path, "m", 64)
    assert len(loaded) in (5, 400_000)  # old, or a complete new one: never a torn file


def test_score_stats_are_the_exact_mean_and_std_over_every_stored_vector():
    rng = np.random.default_rng(7)
    vectors = _unit(rng, 60)
    index = VectorIndex(8, "m")
    index.add(np.arange(60), vectors)
    index.remove(np.array([0, 1, 2, 500]))
    index.add(np.array([5]), vectors[:1])  # replacing a vector updates the moments too
    stored = vectors[3:].copy()
    stored[5 - 3] = vectors[0]
    queries = _unit(rng, 3)
    mean, std = VectorIndex.from_bytes(index.to_bytes(), "m", 8).score_stats(queries)
    cosines = queries @ stored.T
    np.testing.assert_allclose(mean, cosines.mean(axis=1), atol=1e-9)
    np.testing.assert_allclose(std, cosines.std(axis=1), atol=1e-9)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_cosines_are_the_float64_inner_products_of_the_ids_asked_for(kind, monkeypatch):
    import embed.vector_index as vector_index

    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # blocks shared out to two threads

    rng = np.random.default_rng(11)
    n = 3 * vector_index.COSINE_BLOCK + 7  # several blocks, the last one short
    vectors = _unit(rng, n + 100, dim=16)
    index = VectorIndex(16, "m", kind)
    index.add(np.arange(n + 100), vectors)
    ids = rng.permutation(n + 100)[:n]  # any order, across blocks
    queries = _unit(rng, 2, dim=16)
    expected = queries.astype(np.float64) @ vectors[ids].astype(np.float64).T
    cosines = index.cosines(ids, queries)
    assert cosines.shape == (2, n) and cosines.dtype == np.float64
    np.testing.assert_allclose(cosines, expected, rtol=0, atol=1e-15)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    np.testing.assert_array_equal(index.cosines(ids, queries), cosines)  # as on one thread
    assert index.cosines(np.zeros(0, dtype=np.int64), queries).shape == (2, 0)


def test_a_flat_index_past_its_size_limit_becomes_ivf_and_keeps_its_contract(monkeypatch):
    import embed.vector_index as vector_index

    monkeypatch.setattr(vector_index, "FLAT_MAX", 2000)
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 8000, dim=16)
    index = VectorIndex(16, "m")
    index.add(np.arange(1500), vectors[:1500])
    assert not index.is_ivf
    index.add(np.arange(1500, 8000), vectors[1500:])
    assert index.is_ivf and len(index) == 8000
    _, ids = index.search(vectors[:100], k=1)
    assert (ids[:, 0] == np.arange(100)).mean() >= 0.95
    # A deep search (a match asks for thousands of hits) probes enough lists to hold them.
    _, deep = index.search(vectors[200], k=2000)
    exact = np.argsort(-(vectors @ vectors[200]))[:2000]
    assert len(set(deep[0].tolist()) & set(exact.tolist())) >= 0.99 * 2000
    assert index.remove(np.array([5, 6, 99999])) == 2
    _, ids = index.search(vectors[5], k=5)
    assert 5 not in ids[0]
    _, ids = index.search(vectors[40], k=3, allowed=np.array([40, 41, 7000]))
    assert sorted(ids[0].tolist()) == [40, 41, 7000]  # a filter reaches every list
    loaded = VectorIndex.from_bytes(index.to_bytes(), "m", 16)
    assert loaded.is_ivf and len(loaded) == 7998 and 5 not in loaded.ids()
    mean, std = loaded.score_stats(vectors[10])
    cosines = np.delete(vectors, [5, 6], axis=0) @ vectors[10]
    assert mean[0] == pytest.approx(cosines.mean(), abs=1e-6)
    assert std[0] == pytest.approx(cosines.std(), abs=1e-6)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_rows_searched_together_get_the_hits_each_gets_alone(kind):
    """A challenge's queries are searched in one call: past FAISS's BLAS threshold (20 rows)
    distances round differently, so `search_apart` must still give each row its own hits."""
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 6000, dim=16)
    index = VectorIndex(16, "m", kind)
    index.add(np.arange(6000), vectors)
    queries = _unit(rng, 45, dim=16)  # three slices, the last one short
    allowed = np.arange(0, 6000, 3)
    for subset in (None, allowed):
        together = index.search_apart(queries, 300, subset)
        alone = np.vstack([index.search(row, 300, subset)[1] for row in queries])
        assert together.shape == (45, 300)
        np.testing.assert_array_equal(together, alone)
