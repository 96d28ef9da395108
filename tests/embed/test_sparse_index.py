"""BM25 sparse index: parity with rank_bm25, stable ids through updates, serialisation."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from corpus.errors import JiebangError
from embed.sparse_index import SparseIndex

TEXTS = [
    "光刻胶树脂与光致产酸剂的合成方法",
    "废旧锂电池回收与电解液低温处理",
    "锂电池正极材料及其制备方法",
    "高温合金真空感应熔炼与电渣重熔",
    "数控机床误差补偿与高速电主轴",
    "一种基于深度学习的语音识别方法",
    "锂电池隔膜涂覆工艺与设备",
    "锂电池管理系统的热失控预警",
    "锂电池极片激光切割",
]
IDS = [40, 7, 13, 2, 99, 5, 61, 8, 3]


@pytest.fixture(scope="module")
def index() -> SparseIndex:
    sparse = SparseIndex(method="robertson")
    sparse.add(IDS, TEXTS)
    return sparse


@pytest.mark.parametrize("query", ["废旧锂电池电解液回收方法", "高速电主轴 数控机床", "锂电池"])
def test_scores_match_rank_bm25_okapi(index: SparseIndex, query: str) -> None:
    terms = index.query_terms(query)
    ids, scores = index.scores(terms)
    # rank_bm25 floors negative IDF at epsilon × mean IDF, bm25s robertson at zero: epsilon=0
    # makes the two the same function (bigram §锂电 is in more than half the passages).
    corpus = [index.tokens(int(pid)) for pid in ids]
    reference = BM25Okapi(corpus, epsilon=0).get_scores(terms)
    assert np.abs(scores - reference).max() < 1e-5
    assert scores.max() > 0


def test_negative_idf_is_floored_at_zero_like_epsilon_zero(index: SparseIndex) -> None:
    terms = index.query_terms("锂电池")
    ids, scores = index.scores(terms)
    corpus = [index.tokens(int(pid)) for pid in ids]
    assert sum("§锂电" in doc for doc in corpus) > len(corpus) / 2  # raw IDF below zero
    # rank_bm25's default floor (0.25 × mean IDF) would score it: the parity is not vacuous.
    assert np.abs(scores - BM25Okapi(corpus).get_scores(terms)).max() > 1e-3


def test_search_returns_stable_ids_best_first(index: SparseIndex) -> None:
    ids, scores = index.search(index.query_terms("锂电池电解液回收"), k=2)
    assert ids.tolist()[0] == 7 and len(ids) == 2
    assert scores[0] >= scores[1] > 0
    only = index.search(index.query_terms("锂电池"), k=10, allowed=np.array([13, 2]))[0]
    assert only.tolist() == [13]


def test_add_replace_and_remove_rebuild_the_statistics() -> None:
    sparse = SparseIndex()
    sparse.add([1, 2], ["质谱仪离子源", "语音合成"])
    assert sparse.search(sparse.query_terms("质谱仪"), 5)[0].tolist() == [1]
    sparse.add([1], ["高分子材料改性"])  # same id replaces
    assert sparse.search(sparse.query_terms("质谱仪"), 5)[0].tolist() == []
    assert sparse.remove([2, 77]) == 1 and len(sparse) == 1
    assert sparse.search(sparse.query_terms("语音合成"), 5)[0].tolist() == []
    assert sparse.search(sparse.query_terms("高分子"), 5)[0].tolist() == [1]


def test_round_trip_keeps_terms_params_and_scores(index: SparseIndex) -> None:
    custom = SparseIndex(extra_terms=["光致产酸剂"], method="robertson", k1=1.2, b=0.6)
    custom.add(IDS, TEXTS)
    loaded = SparseIndex.from_bytes(custom.to_bytes())
    assert loaded.extra_terms == ("光致产酸剂",) and (loaded.k1, loaded.b) == (1.2, 0.6)
    assert "光致产酸剂" in loaded.query_terms("光致产酸剂的合成")
    terms = custom.query_terms("光致产酸剂")
    assert np.allclose(custom.scores(terms)[1], loaded.scores(terms)[1])
    with pytest.raises(JiebangError, match="sparse index"):
        SparseIndex.from_bytes(b'{"format": "other"}\n')


def test_an_empty_index_finds_nothing() -> None:
    ids, scores = SparseIndex().search(["锂电池"], 5)
    assert len(ids) == 0 and len(scores) == 0
