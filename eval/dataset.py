"""Labelled retrieval sets in the BEIR / FlagEmbedding custom format.

Three JSON-lines files, so anyone can bring a labelled set without writing code:

- ``corpus.jsonl``: ``{"id", "text", "title"?, "group"?}`` (BEIR's ``_id`` is accepted for ``id``).
  When records carry ``group`` (an organisation), they are evidence passages and rankings are
  aggregated to groups: every record must then carry one.
- ``queries.jsonl``: ``{"id", "text"}``.
- ``qrels.jsonl``: ``{"qid", "docid", "relevance"}`` with graded relevance (0/1/2). With a grouped
  corpus, ``docid`` names a group.

Files are read line by line; a bad line is a `DataError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import DataError, JiebangError
from corpus.loaders import iter_records

Qrels = dict[str, dict[str, int]]
"""qid → {candidate id → graded relevance}; candidates are groups when the corpus is grouped."""

_MAX_LISTED = 10


@dataclass(frozen=True, slots=True)
class CorpusDoc:
    """One corpus record: a document, or an evidence passage owned by `group`."""

    id: str
    text: str
    title: str = ""
    group: str | None = None

    @property
    def full_text(self) -> str:
        """Title and text together, as the index should see them (as `Patent.text` joins them)."""
        return f"{self.title}。{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Dataset:
    """Corpus, queries and qrels, checked against each other on construction.

    `source` names where the qrels came from, so reference errors point at it.
    """

    name: str
    corpus: list[CorpusDoc]
    queries: dict[str, str]
    qrels: Qrels
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        if not self.corpus:
            raise JiebangError(f"dataset {self.name!r} has an empty corpus")
        if not self.queries:
            raise JiebangError(f"dataset {self.name!r} has no queries")
        grouped = [doc.group is not None for doc in self.corpus]
        if any(grouped) and not all(grouped):
            first = self.corpus[grouped.index(False)]
            raise JiebangError(
                f"dataset {self.name!r}: some corpus records carry a group and some do not "
                f"(first without one: {first.id!r}); give every record a group or none"
            )
        check_references(self.qrels, self.queries.keys(), self.candidate_ids, self.source)
        if not self.judged_qids:
            raise DataError(self.source, None, "no qrels line has relevance > 0")

    @property
    def grouped(self) -> bool:
        """True when rankings are aggregated from evidence passages to their groups."""
        return self.corpus[0].group is not None

    @property
    def candidate_ids(self) -> set[str]:
        """What a run ranks and the qrels name: groups for a grouped corpus, else document ids."""
        if self.grouped:
            return {doc.group for doc in self.corpus if doc.group is not None}
        return {doc.id for doc in self.corpus}

    @property
    def judged_qids(self) -> list[str]:
        """Queries with at least one relevant candidate: the ones metrics are averaged over."""
        return [qid for qid in self.queries if any(r > 0 for r in self.qrels.get(qid, {}).values())]

    def summary(self) -> dict[str, Any]:
        """Sizes, for printing and for checks."""
        return {
            "name": self.name,
            "corpus": len(self.corpus),
            "candidates": len(self.candidate_ids),
            "grouped": self.grouped,
            "queries": len(self.queries),
            "judged_queries": len(self.judged_qids),
            "qrels": sum(len(judged) for judged in self.qrels.values()),
        }


def check_references(
    qrels: Qrels, query_ids: Iterable[str], candidate_ids: Iterable[str], source: str
) -> None:
    """Raise one `DataError` listing every qrels reference to an unknown query or candidate."""
    known_queries, known_candidates = set(query_ids), set(candidate_ids)
    unknown_queries = sorted(qid for qid in qrels if qid not in known_queries)
    unknown_candidates = sorted(
        {docid for judged in qrels.values() for docid in judged if docid not in known_candidates}
    )
    problems = []
    if unknown_queries:
        problems.append(f"unknown query ids {_list_some(unknown_queries)}")
    if unknown_candidates:
        problems.append(f"unknown docids {_list_some(unknown_candidates)}")
    if problems:
        raise DataError(source, None, "qrels reference " + "; ".join(problems))


def load_dataset(
    corpus_path: str | Path,
    queries_path: str | Path,
    qrels_path: str | Path,
    name: str | None = None,
) -> Dataset:
    """Read and cross-check a corpus/queries/qrels triple of JSON-lines files."""
    corpus = list(iter_corpus(corpus_path))
    queries = load_queries(queries_path)
    qrels = load_qrels(qrels_path)
    return Dataset(
        name=name or Path(corpus_path).parent.name or "custom",
        corpus=corpus,
        queries=queries,
        qrels=qrels,
        source=str(qrels_path),
    )


def iter_corpus(path: str | Path) -> Iterator[CorpusDoc]:
    """Stream corpus records; duplicate ids and bad lines are errors."""
    seen: set[str] = set()
    for line, record in iter_records(path):
        doc_id = _identifier(record, ("id", "_id"), path, line)
        if doc_id in seen:
            raise DataError(path, line, f"duplicate id {doc_id!r}")
        seen.add(doc_id)
        title = record.get("title") or ""
        if not isinstance(title, str):
            raise DataError(path, line, "'title' must be a string")
        group = record.get("group")
        yield CorpusDoc(
            id=doc_id,
            text=_text(record, path, line),
            title=title.strip(),
            group=None if group is None else _identifier(record, ("group",), path, line),
        )


def load_queries(path: str | Path) -> dict[str, str]:
    """Read `{id, text}` lines into qid → text; duplicate ids and bad lines are errors."""
    queries: dict[str, str] = {}
    for line, record in iter_records(path):
        qid = _identifier(record, ("id", "_id"), path, line)
        if qid in queries:
            raise DataError(path, line, f"duplicate id {qid!r}")
        queries[qid] = _text(record, path, line)
    return queries


def load_qrels(path: str | Path) -> Qrels:
    """Read `{qid, docid, relevance}` lines; a repeated (qid, docid) pair is an error."""
    qrels: Qrels = {}
    for line, record in iter_records(path):
        qid = _identifier(record, ("qid",), path, line)
        docid = _identifier(record, ("docid",), path, line)
        relevance = record.get("relevance")
        if isinstance(relevance, bool) or not isinstance(relevance, int) or relevance < 0:
            raise DataError(path, line, "'relevance' must be a non-negative integer (0, 1, 2)")
        judged = qrels.setdefault(qid, {})
        if docid in judged:
            raise DataError(path, line, f"duplicate judgement for ({qid!r}, {docid!r})")
        judged[docid] = relevance
    if not qrels:
        raise DataError(path, None, "no qrels lines")
    return qrels


def _identifier(record: dict[str, Any], keys: tuple[str, ...], path: str | Path, line: int) -> str:
    """The first present key's value as a non-empty string (integers are accepted as ids)."""
    value = next((record[key] for key in keys if key in record), None)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise DataError(path, line, f"missing or empty {keys[0]!r}")
    return value.strip()


def _text(record: dict[str, Any], path: str | Path, line: int) -> str:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(path, line, "missing or empty 'text'")
    return text.strip()


def _list_some(items: list[str]) -> str:
    shown = ", ".join(repr(item) for item in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return f"{shown} (+{more} more, {len(items)} in all)" if more > 0 else shown
