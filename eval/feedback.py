"""The users' own judgments as an evaluation set, and the engine measured on them.

A judgment grades one candidate organisation for one challenge: 2 can take it on (能承担),
1 relevant (相关), 0 not relevant (不相关). The current judgments become queries (each judged
challenge, with the text it had when last judged) and graded qrels, in the format
`eval.dataset` reads; the engine is measured on them by ranking each judged challenge exactly as
the page ranks it (`MatchEngine.match`, candidates ordered by confidence).

Judgments come in as plain data (anything with `JudgedPair`'s attributes: the service's stored
judgments, a refit's folds); nothing here reads the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from corpus.errors import JiebangError
from corpus.files import atomic_write
from embed.progress import progress_bar
from eval.dataset import CorpusDoc, Qrels
from eval.metrics import evaluate
from eval.runner import unjudged_at
from eval.runs import RunScores
from matcher.engine import MatchEngine

FEEDBACK_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "map", "hit@1")
DEPTH = 100
"""Candidates ranked per judged challenge."""

QUERIES_FILE, QRELS_FILE, CORPUS_FILE = "queries.jsonl", "qrels.jsonl", "corpus.jsonl"


class JudgedPair(Protocol):
    """What a judgment must carry to be evaluated on (`service.db.Judgment` has it)."""

    challenge_id: str
    org_id: str
    grade: int
    challenge_text: str
    challenge_area: str | None
    created_at: datetime


@dataclass(frozen=True)
class FeedbackSet:
    """Judged challenges and their current grades.

    `queries`: challenge id → its text when last judged; `areas`: its area then (the engine
    ranks with it); `qrels`: challenge id → {organisation id → grade}.
    """

    queries: dict[str, str]
    areas: dict[str, str | None]
    qrels: Qrels

    @classmethod
    def from_judgments(cls, judgments: Iterable[JudgedPair]) -> FeedbackSet:
        """The current judgments (in any order) as a set; where a pair or a challenge appears
        more than once, its latest judgment counts."""
        queries: dict[str, str] = {}
        areas: dict[str, str | None] = {}
        qrels: Qrels = {}
        for judgment in sorted(judgments, key=lambda j: j.created_at):
            queries[judgment.challenge_id] = judgment.challenge_text
            areas[judgment.challenge_id] = judgment.challenge_area
            qrels.setdefault(judgment.challenge_id, {})[judgment.org_id] = judgment.grade
        return cls(queries, areas, qrels)

    @property
    def pairs(self) -> int:
        """How many (challenge, organisation) pairs are graded."""
        return sum(len(graded) for graded in self.qrels.values())

    @property
    def relevant_pairs(self) -> int:
        """How many pairs are graded 1 or 2."""
        return sum(grade > 0 for graded in self.qrels.values() for grade in graded.values())

    def restricted_to(self, org_ids: Collection[str]) -> tuple[FeedbackSet, int]:
        """(the set without the pairs of organisations outside `org_ids`, how many were
        dropped): an organisation no longer indexed cannot be ranked nor stand in a corpus."""
        qrels = {
            qid: {org: grade for org, grade in graded.items() if org in org_ids}
            for qid, graded in self.qrels.items()
        }
        qrels = {qid: graded for qid, graded in qrels.items() if graded}
        kept = FeedbackSet(
            queries={qid: text for qid, text in self.queries.items() if qid in qrels},
            areas={qid: area for qid, area in self.areas.items() if qid in qrels},
            qrels=qrels,
        )
        return kept, self.pairs - kept.pairs

    def write(self, folder: Path, corpus: Sequence[CorpusDoc]) -> dict[str, Path]:
        """`queries.jsonl`, `qrels.jsonl` and `corpus.jsonl` in `folder`, each written
        atomically, in the format `eval.dataset.load_dataset` reads; the paths by file name."""
        queries = [{"id": qid, "text": text} for qid, text in sorted(self.queries.items())]
        qrels = [
            {"qid": qid, "docid": org, "relevance": grade}
            for qid, graded in sorted(self.qrels.items())
            for org, grade in sorted(graded.items())
        ]
        documents = [{"id": d.id, "text": d.text, "group": d.group} for d in corpus]
        files: dict[str, list[dict[str, Any]]] = {
            QUERIES_FILE: queries,
            QRELS_FILE: qrels,
            CORPUS_FILE: documents,
        }
        return {name: atomic_write(folder / name, _jsonl(rows)) for name, rows in files.items()}


def indexed_corpus(engine: MatchEngine) -> list[CorpusDoc]:
    """The engine's evidence passages as a grouped corpus (each passage owned by its
    organisation), so `jiebang eval run --corpus` ranks over what the engine indexes."""
    return [
        CorpusDoc(id=f"{passage.doc_id}#{passage.pid}", text=passage.text, group=passage.group)
        for passage in engine.passages.values()
    ]


def rank_judged(
    engine: MatchEngine, feedback: FeedbackSet, *, depth: int = DEPTH, progress: bool = True
) -> RunScores:
    """Each judged challenge's top `depth` organisations as the page ranks them (by
    confidence), as descending ranks so that metrics keep that order."""
    run: RunScores = {}
    with progress_bar("ranking judged challenges", len(feedback.queries), progress) as advance:
        for qid, text in feedback.queries.items():
            result = engine.match(text, area=feedback.areas.get(qid), top=depth, explain=False)
            run[qid] = {c.org_id: -float(rank) for rank, c in enumerate(result.candidates)}
            advance(1)
    return run


@dataclass(frozen=True)
class FeedbackResult:
    """The engine's metrics on the users' judgments."""

    metrics: dict[str, float]
    run: RunScores = field(repr=False)
    challenges: int
    queries: int
    pairs: int
    relevant_pairs: int
    unindexed_pairs: int
    unjudged_at_10: float
    rank_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Everything but the run, for printing as JSON (like `EvalResult.to_dict`)."""
        return {
            "dataset": "feedback",
            "method": "hybrid",
            "challenges": self.challenges,
            "queries": self.queries,
            "pairs": self.pairs,
            "relevant_pairs": self.relevant_pairs,
            "unindexed_pairs": self.unindexed_pairs,
            "metrics": self.metrics,
            "unjudged@10": round(self.unjudged_at_10, 2),
            "seconds": {"rank": round(self.rank_seconds, 2)},
        }


def evaluate_feedback(
    engine: MatchEngine,
    judgments: Iterable[JudgedPair],
    metrics: Sequence[str] = FEEDBACK_METRICS,
    *,
    progress: bool = True,
) -> FeedbackResult:
    """Rank every judged challenge over the engine's index and score the ranking against the
    current grades. Pairs of organisations the engine no longer indexes are left out (counted
    in `unindexed_pairs`); metrics average over the challenges with a pair graded 1 or 2."""
    feedback, unindexed = FeedbackSet.from_judgments(judgments).restricted_to(engine.organisations)
    if not feedback.relevant_pairs:
        raise JiebangError(
            f"none of the {feedback.pairs} judged pairs of indexed organisations is graded "
            "相关 (1) or 能承担 (2): there is nothing for the engine to find yet"
        )
    started = time.perf_counter()
    run = rank_judged(engine, feedback, progress=progress)
    ranked = time.perf_counter()
    return FeedbackResult(
        metrics=evaluate(feedback.qrels, run, metrics),
        run=run,
        challenges=len(feedback.queries),
        queries=sum(any(g > 0 for g in graded.values()) for graded in feedback.qrels.values()),
        pairs=feedback.pairs,
        relevant_pairs=feedback.relevant_pairs,
        unindexed_pairs=unindexed,
        unjudged_at_10=unjudged_at(run, feedback.qrels),
        rank_seconds=ranked - started,
    )


def _jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
