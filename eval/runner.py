"""Run a dataset through the matcher's public API, like any user would, and score the run.

The corpus becomes evidence documents (a document without a group is its own group), the
engine built from them ranks candidates for every query, and the ranking is the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from embed.progress import progress_bar
from eval.dataset import Dataset
from eval.metrics import DEFAULT_METRICS, evaluate
from eval.runs import RunScores
from matcher.engine import MatchEngine
from matcher.evidence import EvidenceDoc

EngineFactory = Callable[[list[EvidenceDoc], str], MatchEngine]
"""Builds an engine over evidence documents for a retrieval method (e.g. "dense")."""

DEFAULT_DEPTH = 100


@dataclass(frozen=True)
class EvalResult:
    """A dataset's run under one method, with its metrics and timings."""

    dataset: str
    method: str
    metrics: dict[str, float]
    run: RunScores = field(repr=False)
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
            "seconds": {"index": round(self.index_seconds, 2), "rank": round(self.rank_seconds, 2)},
        }


def evidence_docs(dataset: Dataset) -> list[EvidenceDoc]:
    """The corpus as the matcher's evidence: grouped records keep their group, others own one."""
    return [
        EvidenceDoc(id=doc.id, group=doc.group or doc.id, text=doc.full_text)
        for doc in dataset.corpus
    ]


def rank_queries(
    engine: MatchEngine,
    queries: dict[str, str],
    depth: int = DEFAULT_DEPTH,
    progress: bool = True,
) -> RunScores:
    """The engine's top `depth` candidates for each query, as {qid: {candidate: score}}."""
    run: RunScores = {}
    with progress_bar("ranking queries", len(queries), enabled=progress) as advance:
        for qid, text in queries.items():
            result = engine.match(text, top=depth)
            run[qid] = _strictly_ordered([(c.org_id, c.score) for c in result.candidates])
            advance(1)
    return run


def run_eval(
    dataset: Dataset,
    engine_factory: EngineFactory,
    method: str,
    *,
    depth: int = DEFAULT_DEPTH,
    metrics: Sequence[str] = DEFAULT_METRICS,
    progress: bool = True,
) -> EvalResult:
    """Index the dataset's corpus, rank its judged queries, and score the run."""
    started = time.perf_counter()
    engine = engine_factory(evidence_docs(dataset), method)
    indexed = time.perf_counter()
    judged = {qid: dataset.queries[qid] for qid in dataset.judged_qids}
    run = rank_queries(engine, judged, depth, progress)
    ranked = time.perf_counter()
    return EvalResult(
        dataset=dataset.name,
        method=method,
        metrics=evaluate(dataset.qrels, run, metrics),
        run=run,
        queries=len(judged),
        candidates=len(dataset.candidate_ids),
        index_seconds=indexed - started,
        rank_seconds=ranked - indexed,
    )


def _strictly_ordered(ranking: list[tuple[str, float]]) -> dict[str, float]:
    """Keep the engine's order even where displayed scores tie (they are rounded).

    Metrics sort by score, so a tie would let the metric library, not the engine, pick the
    order; each tied score is nudged just below its predecessor instead.
    """
    ordered: dict[str, float] = {}
    previous = float("inf")
    for candidate, score in ranking:
        score = min(score, previous - 1e-9)
        ordered[candidate] = score
        previous = score
    return ordered
