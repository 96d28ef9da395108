"""The lexical channel: parity with scikit-learn's TF-IDF, updates, statistics, persistence,
top hits."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from corpus.errors import JiebangError
from embed.lexical_index import LexicalIndex, best_positive, char_ngrams

TEXTS = [
    "一种锂电池电解液回收方法，低温炭化处理废旧电解液。",
    "高温合金真空感应熔炼与电渣重熔，控制氧氮硫含量。",
    "ＯＬＥＤ发光材料与量子点显示技术。",
    "基于深度学习的语音识别方法，提高低资源场景下的识别精度。",
    "废旧锂电多元复杂金属联动协同萃取、高效纯化分离工艺。",
]


def sklearn_scores(texts: list[str], query: str) -> np.ndarray:
    normal = [unicodedata.normalize("NFKC", t) for t in texts]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    matrix = vectorizer.fit_transform(normal)
    return (vectorizer.transform([unicodedata.normalize("NFKC", query)]) @ matrix.T).toarray()[0]


def test_scores_equal_scikit_learns_tfidf_cosine() -> None:
    index = LexicalIndex()
    index.add(np.arange(10, 15), TEXTS)
    for query in ("废旧锂电池回收", "OLED显示", "语音识别 深度学习", "无关的文字"):
        ids, scores = index.scores(query)
        assert ids.tolist() == list(range(10, 15))
        np.testing.assert_allclose(scores, sklearn_scores(TEXTS, query), atol=1e-6)


def test_full_width_and_case_fold_to_the_same_ngrams() -> None:
    assert char_ngrams("ＯＬＥＤ") == char_ngrams("oled")


def test_ngrams_are_scikit_learns_char_analyzer_after_nfkc() -> None:
    analyzer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).build_analyzer()
    texts = [*TEXTS, "", "a", "  多  个\t\n空白  ", "Ⅻ ＡＢＣ ﬁ", "İstanbul ǅ", "😀光刻胶"]
    for text in texts:
        assert char_ngrams(text) == analyzer(unicodedata.normalize("NFKC", text)), text


def test_search_ranks_with_whole_index_statistics_even_when_filtered() -> None:
    index = LexicalIndex()
    index.add(np.arange(5), TEXTS)
    found = index.search("废旧锂电回收萃取", k=2)
    assert found.ids.tolist() == [4, 0]
    _, every = index.scores("废旧锂电回收萃取")
    assert found.mean == pytest.approx(every.mean()) and found.std == pytest.approx(every.std())
    filtered = index.search("废旧锂电回收萃取", k=5, allowed=np.array([1, 2]))
    assert set(filtered.ids.tolist()) <= {1, 2} and filtered.mean == pytest.approx(found.mean)


def test_remove_and_replace_change_idf_like_a_refit() -> None:
    index = LexicalIndex()
    index.add(np.arange(5), TEXTS)
    assert index.remove([1, 3, 99]) == 2
    index.add([0], [TEXTS[2]])  # replaces passage 0
    kept = [TEXTS[2], TEXTS[2], TEXTS[4]]
    _, scores = index.scores("OLED显示 萃取")
    np.testing.assert_allclose(scores, sklearn_scores(kept, "OLED显示 萃取"), atol=1e-6)


def test_round_trip_and_garbage_is_refused() -> None:
    index = LexicalIndex()
    index.add(np.arange(5), TEXTS)
    loaded = LexicalIndex.from_bytes(index.to_bytes())
    assert len(loaded) == 5
    np.testing.assert_allclose(loaded.scores("电解液")[1], index.scores("电解液")[1])
    with pytest.raises(JiebangError, match="no jiebang lexical index"):
        LexicalIndex.from_bytes(b"not an index")


def _best_by_sorting(ids: np.ndarray, scores: np.ndarray, k: int, allowed: np.ndarray | None):
    keep = (scores > 0) & (np.isin(ids, allowed) if allowed is not None else True)
    order = np.lexsort((ids[keep], -scores[keep]))[:k]  # best first, ties: the lower id
    chosen = np.sort(ids[keep][order])
    return chosen, scores[np.searchsorted(ids, chosen)]


@pytest.mark.parametrize("k", [1, 7, 300, 5000])
def test_best_positive_is_the_top_k_by_score_then_lower_id(k: int) -> None:
    rng = np.random.default_rng(k)
    ids = np.sort(rng.choice(10**6, 20_000, replace=False))
    sampled = np.zeros(20_000, dtype=bool)
    sampled[::32] = True
    cases = {
        "ties": (rng.integers(0, 12, 20_000) / 11).astype(np.float32),  # a twelfth are 0
        "mostly zero": np.where(rng.random(20_000) < 0.05, rng.random(20_000), 0).astype("f4"),
        # the sampled scores are the best: a threshold from them leaves fewer than k above it
        "sample misleads": np.where(sampled, 1.0, 0.5).astype(np.float32),
    }
    for name, scores in cases.items():
        for allowed in (None, np.sort(rng.choice(ids, 5_000, replace=False))):
            within = np.isin(ids, allowed) if allowed is not None else None
            got = best_positive(ids, scores, k, within)
            want = _best_by_sorting(ids, scores, k, allowed)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), name
