"""The matching engine: organisations' evidence in a vector index, queries ranked against it."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from corpus.errors import JiebangError
from corpus.models import Organisation, OrgKind, Patent
from embed.chunk import split_passages
from embed.embedder import Embedder
from embed.vector_index import VectorIndex, atomic_write
from matcher.aggregate import Aggregation, aggregate
from matcher.calibrate import Calibrator, default_calibrator
from matcher.evidence import EvidenceDoc, Passage, attach_patents, chunk_docs, organisation_docs
from matcher.results import Candidate, EvidenceHit, MatchResult

INDEX_FILE = "jiebang-index.zip"
FORMAT = "jiebang-index/1"
PASSAGE_CHARS = 256
# Hits considered per query before aggregation: enough for every plausible organisation.
CANDIDATE_PASSAGES = 2000


class MatchEngine:
    """Ranks organisations for a challenge from the passages of their evidence."""

    def __init__(
        self,
        embedder: Embedder,
        organisations: dict[str, Organisation] | None = None,
        *,
        aggregation: Aggregation = Aggregation.max,
        calibrator: Calibrator | None = None,
    ) -> None:
        self.embedder = embedder
        self.organisations: dict[str, Organisation] = dict(organisations or {})
        self.passages: dict[int, Passage] = {}
        self.index = VectorIndex(embedder.dim, embedder.model_id)
        self.aggregation = aggregation
        self.calibrator = calibrator or default_calibrator()
        self._by_group: dict[str, list[int]] = defaultdict(list)
        self._next_pid = 0

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        organisations: Iterable[Organisation],
        embedder: Embedder,
        patents: Iterable[Patent] = (),
        progress: bool = True,
    ) -> MatchEngine:
        """Index capability statements and patents (attached to each of their applicants)."""
        engine = cls(embedder, {org.id: org for org in organisations})
        docs = list(organisation_docs(engine.organisations.values()))
        docs += attach_patents(patents, engine.organisations)
        engine.add_documents(docs, progress=progress)
        return engine

    @classmethod
    def from_documents(
        cls,
        docs: Iterable[EvidenceDoc],
        embedder: Embedder,
        organisations: Iterable[Organisation] = (),
        progress: bool = True,
    ) -> MatchEngine:
        """A generic evidence → group engine; a group with no Organisation gets a bare one."""
        docs = list(docs)
        known = {org.id: org for org in organisations}
        for doc in docs:
            known.setdefault(doc.group, Organisation(id=doc.group, name=doc.group))
        engine = cls(embedder, known)
        engine.add_documents(docs, progress=progress)
        return engine

    def add_documents(self, docs: Sequence[EvidenceDoc], progress: bool = True) -> None:
        """Chunk, embed and index evidence documents."""
        passages = chunk_docs(docs, self._next_pid, PASSAGE_CHARS)
        if not passages:
            return
        vectors = self.embedder.encode_passages([p.text for p in passages], progress=progress)
        self.index.add(np.array([p.pid for p in passages], dtype=np.int64), vectors)
        for passage in passages:
            self.passages[passage.pid] = passage
            self._by_group[passage.group].append(passage.pid)
        self._next_pid = passages[-1].pid + 1

    def upsert_organisation(self, org: Organisation) -> None:
        """Add or replace an organisation; its capability passages are re-embedded in place.

        Patent evidence already attached to it is kept.
        """
        old = [pid for pid in self._by_group.get(org.id, []) if self.passages[pid].doc_id
               == f"{org.id}#capability"]  # fmt: skip
        self._drop_passages(old)
        self.organisations[org.id] = org
        self.add_documents(list(organisation_docs([org])), progress=False)

    def remove_organisation(self, org_id: str) -> None:
        """Remove an organisation and all its evidence from the index."""
        if org_id not in self.organisations:
            raise JiebangError(f"unknown organisation id '{org_id}'")
        self._drop_passages(list(self._by_group.get(org_id, [])))
        self._by_group.pop(org_id, None)
        del self.organisations[org_id]

    def _drop_passages(self, pids: list[int]) -> None:
        if not pids:
            return
        self.index.remove(np.array(pids, dtype=np.int64))
        for pid in pids:
            passage = self.passages.pop(pid)
            self._by_group[passage.group].remove(pid)

    # ---- matching -------------------------------------------------------------------------

    def _encode_query(self, text: str) -> np.ndarray:
        """One query vector; a long text is chunked and its chunk vectors averaged, not cut."""
        chunks = split_passages(text, max_chars=PASSAGE_CHARS)
        vectors = self.embedder.encode_queries(chunks)
        mean = vectors.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def _allowed_pids(self, kind: OrgKind | str | None, region: str | None) -> np.ndarray | None:
        if kind is None and not region:
            return None
        wanted_kind = OrgKind(kind) if kind is not None else None
        pids = [
            pid
            for org_id, org in self.organisations.items()
            if (wanted_kind is None or org.kind == wanted_kind)
            and (not region or org.region.matches(region))
            for pid in self._by_group.get(org_id, [])
        ]
        return np.array(pids, dtype=np.int64)

    def _hits(
        self, text: str, kind: OrgKind | str | None = None, region: str | None = None
    ) -> list[tuple[Passage, float]]:
        if not text or not text.strip():
            raise JiebangError("the challenge text is empty")
        allowed = self._allowed_pids(kind, region)
        if allowed is not None and not len(allowed):
            return []
        scores, ids = self.index.search(
            self._encode_query(text.strip()), CANDIDATE_PASSAGES, allowed
        )
        return [
            (self.passages[int(pid)], float(score))
            for score, pid in zip(scores[0], ids[0], strict=True)
            if pid >= 0
        ]

    def match(
        self,
        text: str,
        *,
        top: int = 10,
        kind: OrgKind | str | None = None,
        region: str | None = None,
        min_confidence: float = 0.0,
        evidence_per_org: int = 3,
    ) -> MatchResult:
        """Rank organisations for `text`; each candidate carries its best evidence passages."""
        if top < 1:
            raise JiebangError("top must be at least 1")
        hits = self._hits(text, kind, region)
        if not hits:
            reason = "no organisation is indexed" if not len(self.index) else (
                f"no organisation matches the filters (kind={kind}, region={region})"
            )  # fmt: skip
            return MatchResult(query=text, candidates=[], reason=reason)
        per_group: dict[str, list[tuple[Passage, float]]] = defaultdict(list)
        for passage, score in hits:
            per_group[passage.group].append((passage, score))
        scores = aggregate(
            ((p.group, s) for p, s in hits),
            self.aggregation,
            docs_per_group={g: len(self._by_group[g]) for g in per_group},
        )
        ranked = sorted(scores, key=lambda g: (-scores[g], g))
        candidates = []
        for group in ranked:
            group_hits = per_group[group]  # already in descending score order
            confidence = self.calibrator.confidence(group_hits[0][1])
            if confidence < min_confidence:
                continue
            candidates.append(self._candidate(group, scores[group], confidence, group_hits,
                                              evidence_per_org))  # fmt: skip
            if len(candidates) == top:
                break
        reason = None if candidates else (
            f"no organisation reaches confidence {min_confidence:.2f}"
        )  # fmt: skip
        return MatchResult(query=text, candidates=candidates, reason=reason)

    def _candidate(
        self,
        org_id: str,
        score: float,
        confidence: float,
        hits: list[tuple[Passage, float]],
        evidence_per_org: int,
    ) -> Candidate:
        org = self.organisations[org_id]
        evidence = [
            EvidenceHit(text=p.text, score=round(s, 4), source=p.source, ref=p.ref)
            for p, s in hits[:evidence_per_org]
        ]
        return Candidate(
            org_id=org.id,
            name=org.name,
            kind=org.kind.value,
            region=org.region.label(),
            score=round(score, 4),
            confidence=round(confidence, 4),
            evidence=evidence,
            channels={"dense": round(hits[0][1], 4)},
        )

    def score_organisations(self, text: str) -> dict[str, float]:
        """Calibrated confidence of every organisation with evidence retrieved for `text`."""
        best: dict[str, float] = {}
        for passage, score in self._hits(text):
            best.setdefault(passage.group, score)
        return {group: self.calibrator.confidence(score) for group, score in best.items()}

    # ---- persistence ----------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write the whole engine state as one file, atomically."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            meta = {
                "format": FORMAT,
                "model_id": self.embedder.model_id,
                "dim": self.embedder.dim,
                "aggregation": self.aggregation.value,
                "next_pid": self._next_pid,
            }
            archive.writestr("meta.json", json.dumps(meta))
            archive.writestr(
                "organisations.jsonl",
                "".join(o.model_dump_json() + "\n" for o in self.organisations.values()),
            )
            archive.writestr(
                "passages.jsonl",
                "".join(p.model_dump_json() + "\n" for p in self.passages.values()),
            )
            archive.writestr("vectors.bin", self.index.to_bytes())
        path = folder / INDEX_FILE
        atomic_write(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> MatchEngine:
        """Load a saved engine; refuses one built with another model or dimension."""
        path = folder / INDEX_FILE
        if not path.exists():
            raise JiebangError(f"no index at {path}; build one with `jiebang index build`")
        try:
            archive = zipfile.ZipFile(path)
            meta = json.loads(archive.read("meta.json"))
        except (zipfile.BadZipFile, KeyError, ValueError) as error:
            raise JiebangError(f"{path} is not a jiebang index ({error})") from None
        index = VectorIndex.from_bytes(
            archive.read("vectors.bin"), embedder.model_id, embedder.dim, source=str(path)
        )
        organisations = [
            Organisation.model_validate_json(line)
            for line in archive.read("organisations.jsonl").decode().splitlines()
        ]
        engine = cls(
            embedder,
            {o.id: o for o in organisations},
            aggregation=Aggregation.from_str(meta["aggregation"]),
        )
        engine.index = index
        for line in archive.read("passages.jsonl").decode().splitlines():
            passage = Passage.model_validate_json(line)
            engine.passages[passage.pid] = passage
            engine._by_group[passage.group].append(passage.pid)
        engine._next_pid = meta["next_pid"]
        return engine
