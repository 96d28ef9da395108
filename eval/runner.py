"""Run a dataset through the matcher's public API, like any user would, and score the run.

The corpus becomes evidence documents (a document without a group is its own group); the engine
built from them retrieves once per query (`QueryHits`), and every ranking — the engine's and the
baselines' (`eval.baselines`) — is made from those same hits, so they differ only in how they
rank.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from embed.embedder import Embedder
from embed.progress import progress_bar
from eval.baselines import BASELINES, baseline_scores
from eval.dataset import Dataset, Qrels
from eval.metrics import DEFAULT_METRICS, evaluate
from eval.runs import RunScores
from matcher.calibration import Calibration, RankingConfig
from matcher.engine import MatchEngine
from matcher.evidence import EvidenceDoc
from matcher.fusion import ChannelScores, Method

DEFAULT_DEPTH = 100


def evidence_docs(dataset: Dataset) -> list[EvidenceDoc]:
    """The corpus as the matcher's evidence: grouped records keep their group, others own one."""
    return [
        EvidenceDoc(id=doc.id, group=doc.group or doc.id, text=doc.full_text)
        for doc in dataset.corpus
    ]


@dataclass
class QueryHits:
    """A dataset indexed once by the engine, with every judged query's channel hits."""

    dataset: Dataset
    engine: MatchEngine
    texts: dict[str, str]
    hits: dict[str, dict[str, ChannelScores]]
    group_of: dict[int, str] = field(repr=False)

    @classmethod
    def collect(
        cls,
        dataset: Dataset,
        embedder: Embedder,
        calibration: Calibration | None = None,
        progress: bool = True,
    ) -> QueryHits:
        """Index `dataset` and retrieve for every query (ranking is redone per configuration)."""
        engine = MatchEngine.from_documents(
            evidence_docs(dataset), embedder, calibration=calibration, progress=progress
        )
        texts = {qid: dataset.queries[qid] for qid in dataset.queries}
        hits = {}
        with progress_bar("retrieving", len(texts), enabled=progress) as advance:
            for qid, text in texts.items():
                hits[qid] = engine.channel_hits(text)
                advance(1)
        group_of = {pid: p.group for pid, p in engine.passages.items()}
        return cls(dataset, engine, texts, hits, group_of)

    def run(self, ranking: RankingConfig, method: Method = Method.hybrid) -> RunScores:
        """Every query's top `DEFAULT_DEPTH` organisations under `ranking`."""
        return {
            qid: _top(self.engine.rank(self.texts[qid], hits, method, ranking).scores)
            for qid, hits in self.hits.items()
        }

    def baseline(self, name: str) -> RunScores:
        groups = sorted(self.engine.organisations)
        return {
            qid: _top(baseline_scores(name, hits, self.group_of, groups))
            for qid, hits in self.hits.items()
        }


def _top(scores: Mapping[str, float], depth: int = DEFAULT_DEPTH) -> dict[str, float]:
    """The best `depth`, strictly ordered, ties broken by id as `MatchEngine.match` breaks them.

    Scores become descending ranks, so metrics cannot re-order tied candidates.
    """
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return {org: -float(i) for i, (org, _) in enumerate(ranked)}


def unjudged_at(run: RunScores, qrels: Qrels, k: int = 10) -> float:
    """Mean number of unjudged candidates in the top k, over the judged queries."""
    judged = [q for q, docs in qrels.items() if any(r > 0 for r in docs.values())]
    counts = [sum(c not in qrels[q] for c in list(run.get(q, {}))[:k]) for q in judged]
    return sum(counts) / len(counts)


@dataclass(frozen=True)
class EvalResult:
    """A dataset's run under one method, its metrics, and the baselines' from the same hits."""

    dataset: str
    method: str
    metrics: dict[str, float]
    run: RunScores = field(repr=False)
    baselines: dict[str, dict[str, float]]
    unjudged_at_10: float
    queries: int
    candidates: int
    index_seconds: float
    rank_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Everything but the run, for printing as JSON."""
        return {
            "dataset": self.dataset,
            "method": self.method,
            "queries": self.queries,
            "candidates": self.candidates,
            "metrics": self.metrics,
            "unjudged@10": round(self.unjudged_at_10, 2),
            "baselines": self.baselines,
            "seconds": {"index": round(self.index_seconds, 2), "rank": round(self.rank_seconds, 2)},
        }


def run_eval(
    dataset: Dataset,
    embedder: Embedder,
    method: Method | str = Method.hybrid,
    *,
    calibration: Calibration | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    progress: bool = True,
) -> EvalResult:
    """Index the dataset's corpus, rank its queries with the engine and the baselines, score."""
    started = time.perf_counter()
    queries = QueryHits.collect(dataset, embedder, calibration, progress)
    indexed = time.perf_counter()
    run = queries.run(queries.engine.calibration.ranking, Method.from_str(method))
    ranked = time.perf_counter()
    return EvalResult(
        dataset=dataset.name,
        method=str(Method.from_str(method)),
        metrics=evaluate(dataset.qrels, run, metrics),
        run=run,
        baselines={
            name: evaluate(dataset.qrels, queries.baseline(name), metrics) for name in BASELINES
        },
        unjudged_at_10=unjudged_at(run, dataset.qrels),
        queries=len(dataset.judged_qids),
        candidates=len(dataset.candidate_ids),
        index_seconds=indexed - started,
        rank_seconds=ranked - indexed,
    )
