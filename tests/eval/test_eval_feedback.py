"""Judgments as an evaluation set: the latest grade and text count, files `load_dataset` reads,
and the engine measured as the page ranks (real demo engine, real model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from corpus.errors import JiebangError
from eval.dataset import load_dataset
from eval.feedback import FeedbackSet, evaluate_feedback, indexed_corpus, rank_judged

START = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass
class Judged:
    challenge_id: str
    org_id: str
    grade: int
    challenge_text: str
    challenge_area: str | None
    created_at: datetime


def judgments(*rows: tuple[str, str, int, str]) -> list[Judged]:
    """Rows in the order they were written (one minute apart), handed over newest first."""
    made = [
        Judged(c, o, g, t, "数控机床", START + timedelta(minutes=i))
        for i, (c, o, g, t) in enumerate(rows)
    ]
    return made[::-1]


def test_the_latest_grade_and_text_count_and_unindexed_pairs_are_dropped() -> None:
    feedback = FeedbackSet.from_judgments(
        judgments(
            ("A", "o1", 0, "旧文字"),
            ("A", "o2", 1, "旧文字"),
            ("A", "o1", 2, "新文字"),
            ("B", "gone", 2, "B的文字"),
        )
    )
    assert feedback.queries == {"A": "新文字", "B": "B的文字"}
    assert feedback.qrels == {"A": {"o1": 2, "o2": 1}, "B": {"gone": 2}}
    assert (feedback.pairs, feedback.relevant_pairs) == (3, 3)
    kept, dropped = feedback.restricted_to({"o1", "o2"})
    assert dropped == 1 and kept.queries == {"A": "新文字"} and kept.areas == {"A": "数控机床"}


def test_written_files_load_as_a_dataset_over_the_indexed_evidence(
    demo_engine, tmp_path: Path
) -> None:
    corpus = indexed_corpus(demo_engine)
    assert len(corpus) == len(demo_engine.passages)
    assert {doc.group for doc in corpus} == set(demo_engine.organisations)
    feedback = FeedbackSet.from_judgments(
        judgments(("ZJ2021-06-01", "demo-037", 2, "数控机床：高速高精联动控制技术"))
    )
    files = feedback.write(tmp_path, corpus)
    assert sorted(path.name for path in files.values()) == [
        "corpus.jsonl", "qrels.jsonl", "queries.jsonl",
    ]  # fmt: skip
    dataset = load_dataset(*(tmp_path / f"{n}.jsonl" for n in ("corpus", "queries", "qrels")))
    assert dataset.grouped and dataset.qrels == {"ZJ2021-06-01": {"demo-037": 2}}
    assert dataset.queries == {"ZJ2021-06-01": "数控机床：高速高精联动控制技术"}


def test_the_engine_is_measured_in_the_order_the_page_shows(demo_engine) -> None:
    text = "数控机床：高速高精联动控制技术、机床误差补偿技术以及智能化控制技术"
    shown = demo_engine.match(text, area="数控机床", top=10, explain=False).candidates
    rows = [("ZJ2021-06-01", shown[0].org_id, 0, text), ("ZJ2021-06-01", shown[2].org_id, 2, text)]
    feedback = FeedbackSet.from_judgments(judgments(*rows))
    run = rank_judged(demo_engine, feedback, progress=False)
    assert list(run["ZJ2021-06-01"])[:10] == [c.org_id for c in shown]
    result = evaluate_feedback(demo_engine, judgments(*rows), progress=False)
    assert result.metrics["hit@1"] == 0.0 and result.metrics["map"] == pytest.approx(1 / 3)
    assert result.to_dict()["pairs"] == 2
    with pytest.raises(JiebangError, match="nothing for the engine to find"):
        evaluate_feedback(demo_engine, judgments(rows[0]), progress=False)
