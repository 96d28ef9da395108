"""Evidence: the passages that speak for an organisation's capability."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from pydantic import BaseModel

from corpus.models import Organisation, Patent
from corpus.names import infer_kind, normalise_name, region_from_address
from embed.chunk import MAX_PASSAGE_CHARS, split_passages
from embed.embedder import Embedder

CAPABILITY = "capability"
PATENT = "patent"


class EvidenceDoc(BaseModel):
    """One document owned by a group (an organisation id): a capability statement or a patent."""

    id: str
    group: str
    text: str
    source: str = CAPABILITY
    ref: str | None = None
    date: str | None = None  # a patent's date: evidence shows its year


class Passage(BaseModel):
    """A chunk of an evidence document, the unit that is embedded and indexed."""

    pid: int
    group: str
    doc_id: str
    text: str
    source: str
    ref: str | None = None
    date: str | None = None


def organisation_docs(organisations: Iterable[Organisation]) -> Iterator[EvidenceDoc]:
    """Each organisation's capability statement as one evidence document."""
    for org in organisations:
        if org.capability.strip():
            yield EvidenceDoc(id=f"{org.id}#capability", group=org.id, text=org.capability)


def attach_patents(
    patents: Iterable[Patent], organisations: dict[str, Organisation]
) -> Iterator[EvidenceDoc]:
    """Patents as evidence of each applicant ("capability = its patents").

    An applicant that is not a known organisation (matched by normalised name or id) becomes
    one, with its normalised name as id, a kind guessed from the name and, for the first
    applicant, the region of the patent's address (申请人地址). `organisations` is updated in
    place.
    """
    by_name = {normalise_name(org.name): org.id for org in organisations.values()}
    for patent in patents:
        for position, applicant in enumerate(patent.applicants):
            key = normalise_name(applicant)
            if not key:
                continue
            org_id = by_name.get(key) or (key if key in organisations else None)
            if org_id is None:
                org_id = key
                region = region_from_address(patent.address if position == 0 else None)
                organisations[key] = Organisation(
                    id=key, name=applicant, kind=infer_kind(key), region=region
                )
                by_name[key] = key
            yield EvidenceDoc(
                id=f"{patent.id}@{org_id}",
                group=org_id,
                text=patent.text,
                source=PATENT,
                ref=patent.id,
                date=patent.date,
            )


def chunk_docs(docs: Iterable[EvidenceDoc], max_chars: int) -> list[Passage]:
    """Split documents into sentence-bounded passages, numbered from 0 (the index renumbers
    them when it inserts them)."""
    passages: list[Passage] = []
    for doc in docs:
        for text in split_passages(doc.text, max_chars=max_chars):
            passages.append(
                Passage(
                    pid=len(passages),
                    group=doc.group,
                    doc_id=doc.id,
                    text=text,
                    source=doc.source,
                    ref=doc.ref,
                    date=doc.date,
                )
            )
    return passages


PreparedEvidence = tuple[list[Passage], np.ndarray | None]
"""Chunked passages and their vectors, ready to insert (`MatchEngine.prepare_organisation`)."""


def prepare_evidence(
    embedder: Embedder, docs: Sequence[EvidenceDoc], progress: bool
) -> PreparedEvidence:
    """Passages and their vectors: the slow, fallible part, done before anything changes.

    Reads nothing an index owns (passage ids are given at insert time), so it may run while
    other threads read or change an engine.
    """
    passages = chunk_docs(docs, MAX_PASSAGE_CHARS)
    texts = [p.text for p in passages]
    vectors = embedder.encode_passages(texts, progress=progress) if passages else None
    return passages, vectors
