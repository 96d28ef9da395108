"""The users' judgments outside the server: read from the database, written as an evaluation set
over the indexed evidence (`jiebang feedback export`), measured (`jiebang eval run --feedback`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect

from corpus.errors import JiebangError
from eval.feedback import FeedbackSet, indexed_corpus
from matcher.engine import MatchEngine
from service.db import Database, Judgment, JudgmentRow
from service.settings import Settings


def current_judgments(settings: Settings) -> list[Judgment]:
    """Each (challenge, organisation) pair's current judgment, newest first. None when the
    database or its judgments table does not exist yet: nothing is created to find out."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    database = Database(url)
    try:
        if not inspect(database.engine).has_table(JudgmentRow.__tablename__):
            return []
        rows, _total = database.judgments()
        return [row.to_model() for row in rows]
    finally:
        database.dispose()


def require_judgments(settings: Settings) -> list[Judgment]:
    """`current_judgments`, or a `JiebangError` saying how to make some."""
    judgments = current_judgments(settings)
    if not judgments:
        raise JiebangError(
            "no judgments in the database yet: grade candidates on the page "
            "(能承担 / 相关 / 不相关) or POST /challenges/{id}/judgments"
        )
    return judgments


@dataclass(frozen=True)
class FeedbackExport:
    """What `export_feedback` wrote."""

    files: dict[str, Path]
    challenges: int
    pairs: int
    relevant_pairs: int
    passages: int
    organisations: int
    unindexed_pairs: int


def export_feedback(judgments: list[Judgment], engine: MatchEngine, folder: Path) -> FeedbackExport:
    """The judgments as queries and qrels, with the engine's indexed evidence as the corpus, so
    that `jiebang eval run --corpus --queries --qrels` reads them as they are. Pairs of
    organisations with no indexed evidence are left out (and counted): no corpus could hold
    them."""
    corpus = indexed_corpus(engine)
    groups = {doc.group for doc in corpus if doc.group is not None}  # all are grouped
    feedback, unindexed = FeedbackSet.from_judgments(judgments).restricted_to(groups)
    if not feedback.pairs:
        raise JiebangError(
            f"all {unindexed} judgments grade organisations the index does not hold: "
            "nothing to export (is JIEBANG_INDEX_DIR the index they were made on?)"
        )
    return FeedbackExport(
        files=feedback.write(folder, corpus),
        challenges=len(feedback.queries),
        pairs=feedback.pairs,
        relevant_pairs=feedback.relevant_pairs,
        passages=len(corpus),
        organisations=len(groups),
        unindexed_pairs=unindexed,
    )
