"""The matching engine: organisations' evidence in two indexes, queries ranked against it.

The one path a query takes (`match`):

1. `channel_hits`: the dense channel (FAISS over e5 vectors) and the lexical channel
   (character 1–2-gram TF-IDF) score the passages of the organisations they reach, raw and
   standardised against the reference background (`matcher.retrieval.evidence_hits`);
2. `rank`: the hybrid component (`matcher.hybrid`) fuses the method's channels into one score
   per passage and aggregates passages into one per organisation (both depend on the query's
   length: `RankingConfig.regime_for`);
3. `confidences`: `CandidateModel` maps each organisation's evidence features to
   P(it can contribute);
4. `Explainer` fills the evidence, channel shares and shared terms of the top candidates.

One `Calibration` (weights, aggregation, confidence; fitted per embedding model) is saved in
the index (`matcher.engine_store`); `matcher.passage_groups` keeps the passages' owners.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypedDict, Unpack

import numpy as np

from corpus.errors import JiebangError
from corpus.models import Organisation, OrgKind, Patent
from embed.background import Background
from embed.chunk import MAX_PASSAGE_CHARS, split_passages
from embed.embedder import Embedder
from embed.lexical_index import LexicalIndex
from embed.vector_index import IndexKind, VectorIndex
from matcher.assessment import Assessment, Scored
from matcher.calibration import (
    SHIPPED,
    Calibration,
    RankingConfig,
    default_calibration,
    neutral_calibration,
)
from matcher.engine_store import StoredEngine, read_index, write_index
from matcher.evidence import (
    EvidenceDoc,
    Passage,
    PreparedEvidence,
    attach_patents,
    chunk_docs,
    organisation_docs,
    prepare_evidence,
)
from matcher.explain import Explainer
from matcher.fusion import ChannelScores, Method
from matcher.hybrid import Ranking, fuse_hits, rank_groups
from matcher.passage_groups import PassageGroups
from matcher.results import Candidate, FacetLabel, MatchResult
from matcher.retrieval import Query, evidence_hits
from matcher.teams.facets import enumerated

log = logging.getLogger("jiebang")

CANDIDATE_PASSAGES = 2000  # per channel and query, before fusion: enough for any organisation
# A facet's own search finds the organisations strongest on it; it also scores every one the
# whole text reaches (`evidence_hits`), so it can stop sooner (4× less FAISS scanning).
FACET_PASSAGES = 500
CHANNELS = ("dense", "lexical")
MAX_FACETS = 8  # facets scored beside the whole text: an appendix row lists up to six


class EngineOptions(TypedDict, total=False):
    """What `MatchEngine.build` and `.from_documents` pass on to the constructor."""

    calibration: Calibration | None
    method: Method | str
    terms: Iterable[str]
    index_kind: IndexKind | str


class MatchEngine:
    """Ranks organisations for a challenge from the passages of their evidence.

    `method` picks the channels that rank (dense, lexical, or hybrid: both fused, the default);
    confidence always uses both. `terms` join the explainer's segmenter dictionary.
    `index_kind` overrides the vector index's choice by size (`embed.vector_index`).
    """

    def __init__(
        self,
        embedder: Embedder,
        organisations: dict[str, Organisation] | None = None,
        *,
        calibration: Calibration | None = None,
        method: Method | str = Method.hybrid,
        terms: Iterable[str] = (),
        index_kind: IndexKind | str = IndexKind.auto,
    ) -> None:
        self.embedder = embedder
        self.calibration = calibration or default_calibration(embedder.model_id)
        self.calibration.require_model(embedder.model_id)
        self.organisations: dict[str, Organisation] = dict(organisations or {})
        self.groups = PassageGroups()
        self.passages: dict[int, Passage] = self.groups.by_id
        self.index = VectorIndex(embedder.dim, embedder.model_id, index_kind)
        self.lexical = LexicalIndex(self.calibration.background)
        self.method = Method.from_str(method)
        self.terms = tuple(sorted(set(terms)))
        self.explainer = Explainer(self.passages, self.terms)

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        organisations: Iterable[Organisation],
        embedder: Embedder,
        patents: Iterable[Patent] = (),
        progress: bool = True,
        **options: Unpack[EngineOptions],
    ) -> MatchEngine:
        """Index capability statements and patents (attached to each of their applicants)."""
        known = {org.id: org for org in organisations}
        docs = list(organisation_docs(known.values()))
        docs += attach_patents(patents, known)
        return cls._indexed(embedder, known, docs, progress, options)

    @classmethod
    def from_documents(
        cls,
        docs: Iterable[EvidenceDoc],
        embedder: Embedder,
        organisations: Iterable[Organisation] = (),
        progress: bool = True,
        **options: Unpack[EngineOptions],
    ) -> MatchEngine:
        """A generic evidence → group engine; a group with no Organisation gets a bare one."""
        docs = list(docs)
        known = {org.id: org for org in organisations}
        for doc in docs:
            known.setdefault(doc.group, Organisation(id=doc.group, name=doc.group))
        return cls._indexed(embedder, known, docs, progress, options)

    @classmethod
    def _indexed(
        cls,
        embedder: Embedder,
        organisations: dict[str, Organisation],
        docs: Sequence[EvidenceDoc],
        progress: bool,
        options: EngineOptions,
    ) -> MatchEngine:
        """An engine over `docs`. A model with no calibration at all gets a neutral one whose
        reference background is these documents' passages, frozen (`neutral_calibration`)."""
        passages, vectors = prepare_evidence(embedder, docs, progress)
        if options.get("calibration") is None and embedder.model_id not in SHIPPED:
            if vectors is None:
                raise JiebangError(
                    f"no calibration exists for model '{embedder.model_id}' and there is no "
                    "evidence to fit a neutral one on"
                )
            background = Background.fit([p.text for p in passages], vectors)
            neutral = neutral_calibration(embedder.model_id, background, len(passages))
            log.warning("no calibration for model '%s': %s", embedder.model_id, neutral.fitted_on)
            options = {**options, "calibration": neutral}
        engine = cls(embedder, organisations, **options)
        engine._insert(passages, vectors)
        return engine

    def add_documents(self, docs: Sequence[EvidenceDoc], progress: bool = True) -> None:
        """Chunk, embed and index evidence documents."""
        self._insert(*prepare_evidence(self.embedder, docs, progress))

    def use_calibration(self, calibration: Calibration) -> None:
        """Score with `calibration` from now on (the lexical weights follow its background)."""
        calibration.require_model(self.embedder.model_id)
        if calibration.background_npz != self.calibration.background_npz:
            self.lexical.reweight(calibration.background)
        self.calibration = calibration

    def _insert(self, passages: list[Passage], vectors: np.ndarray | None) -> None:
        if not passages or vectors is None:
            return
        passages = self.groups.numbered(passages)
        pids = np.array([p.pid for p in passages], dtype=np.int64)
        self.index.add(pids, vectors)
        self.lexical.add(pids, [p.text for p in passages])
        self.groups.add(passages)

    def prepare_organisation(self, org: Organisation) -> PreparedEvidence:
        """Embed `org`'s capability passages without changing the engine.

        The slow part of an upsert; a service runs it outside its write lock.
        """
        return prepare_evidence(self.embedder, list(organisation_docs([org])), progress=False)

    def upsert_organisation(
        self, org: Organisation, prepared: PreparedEvidence | None = None
    ) -> None:
        """Add or replace an organisation; its capability passages are re-embedded in place.

        The new passages are embedded (or come `prepared` for this same `org`) before anything
        is replaced, so a failure (the model, a full disk) leaves the organisation as it was.
        Patent evidence attached to it is kept.
        """
        prepared = prepared or self.prepare_organisation(org)
        self._drop_passages(self._capability_pids(org.id))
        self.organisations[org.id] = org
        self._insert(*prepared)

    def _capability_pids(self, org_id: str) -> list[int]:
        doc_id = f"{org_id}#capability"
        return [pid for pid in self.groups.of_group(org_id) if self.passages[pid].doc_id == doc_id]

    def indexes(self, org: Organisation) -> bool:
        """True when the index holds `org` as given: its record and its capability passages."""
        if self.organisations.get(org.id) != org:
            return False
        indexed = "".join(self.passages[pid].text for pid in self._capability_pids(org.id))
        expected = "".join(p.text for p in chunk_docs(organisation_docs([org]), MAX_PASSAGE_CHARS))
        return indexed == expected

    def remove_organisation(self, org_id: str) -> None:
        """Remove an organisation and all its evidence from the index."""
        if org_id not in self.organisations:
            raise JiebangError(f"unknown organisation id '{org_id}'")
        self._drop_passages(self.groups.of_group(org_id))
        del self.organisations[org_id]

    def _drop_passages(self, pids: list[int]) -> None:
        if not pids:
            return
        self.index.remove(np.array(pids, dtype=np.int64))
        self.lexical.remove(pids)
        self.groups.remove(pids)

    # ---- matching -------------------------------------------------------------------------

    def _allowed_pids(self, kind: OrgKind | str | None, region: str | None) -> np.ndarray | None:
        if kind is None and not region:
            return None
        wanted_kind = OrgKind(kind) if kind is not None else None
        return self.groups.pids_of(
            org_id
            for org_id, org in self.organisations.items()
            if (wanted_kind is None or org.kind == wanted_kind)
            and (not region or org.region.matches(region))
        )

    def channel_hits(
        self, text: str, kind: OrgKind | str | None = None, region: str | None = None
    ) -> dict[str, ChannelScores]:
        """Both channels' exact scores for every passage of the organisations their top
        `CANDIDATE_PASSAGES` reach, raw and standardised against the reference background."""
        return self._channel_hits([text], kind, region)[0]

    def _channel_hits(
        self, texts: Sequence[str], kind: OrgKind | str | None, region: str | None
    ) -> list[dict[str, ChannelScores]]:
        """`channel_hits` of a challenge (first) and its facets, scored together: the challenge
        searched `CANDIDATE_PASSAGES` deep, each facet `FACET_PASSAGES`, and each of them scored
        over every passage any of them reaches."""
        if not all(text and text.strip() for text in texts):
            raise JiebangError("the challenge text is empty")
        allowed = self._allowed_pids(kind, region)
        if not len(self.index) or (allowed is not None and not len(allowed)):
            return [dict.fromkeys(CHANNELS, ChannelScores.empty()) for _ in texts]
        # A long query is chunked like the passages; a passage scores its best chunk.
        texts = [text.strip() for text in texts]
        chunks = [split_passages(text) for text in texts]
        vectors = self.embedder.encode_queries([chunk for split in chunks for chunk in split])
        ends = np.cumsum([len(split) for split in chunks])
        queries = [Query(t, vectors[end - len(split) : end]) for t, split, end in
                   zip(texts, chunks, ends, strict=True)]  # fmt: skip
        depths = [CANDIDATE_PASSAGES] + [FACET_PASSAGES] * (len(queries) - 1)
        return evidence_hits(self.index, self.lexical, self.calibration.background, queries,
                             depths, self.groups.expand, allowed)  # fmt: skip

    def rank(
        self,
        text: str,
        hits: dict[str, ChannelScores],
        method: Method | None = None,
        ranking: RankingConfig | None = None,
    ) -> Ranking:
        """Fuse `method`'s channels and aggregate passages into organisation scores.

        The regime (fusion and aggregation) is the one for `text`'s length; `ranking` overrides
        the calibration's (the tuner tries alternatives on cached hits).
        """
        method = method or self.method
        regime = (ranking or self.calibration.ranking).regime_for(text)
        fused = fuse_hits(hits, regime.fusion, method)
        return rank_groups(fused, self.groups, regime.aggregation)

    def assess(
        self,
        text: str,
        *,
        area: str | None = None,
        kind: OrgKind | str | None = None,
        region: str | None = None,
        facets: bool = True,
    ) -> Assessment:
        """Every organisation with evidence for `text`, scored and given its confidence.

        With `facets`, a challenge that enumerates several technologies (`enumerated`, from the
        splitter teams use) is also scored facet by facet: an organisation that works on one of
        them can take part, so its confidence is its best over the whole text and the facets.
        `area` is the challenge's area when `text` starts with it ("数控机床：…", a catalogue
        challenge's `query_text`): the whole text keeps it, the facets do not (it dilutes them).
        """
        body = text.strip().removeprefix(f"{area}：") if area else text
        parts = enumerated(body)[:MAX_FACETS] if facets else []
        parts = parts if len(parts) > 1 else []
        texts = [text, *(f.query for f in parts)]
        hits = self._channel_hits(texts, kind, region)
        whole, *variants = [self._scored(t, h) for t, h in zip(texts, hits, strict=True)]
        confidence = dict(whole.confidence)
        for variant in variants:
            for group, value in variant.confidence.items():
                confidence[group] = max(confidence.get(group, 0.0), value)
        return Assessment(text, whole, parts, variants, confidence)

    def _scored(self, text: str, hits: dict[str, ChannelScores]) -> Scored:
        """One query text's hybrid ranking and each organisation's confidence under it."""
        ranking = self.rank(text, hits, Method.hybrid)
        confidence = self.calibration.candidate.confidences(ranking.scores, hits)
        return Scored(text, hits, ranking, confidence)

    def confidences(
        self, text: str, *, area: str | None = None, facets: bool = True
    ) -> dict[str, float]:
        """Confidence of every organisation with evidence for `text` (see `assess`)."""
        return self.assess(text, area=area, facets=facets).confidence

    def match(
        self,
        text: str,
        *,
        area: str | None = None,
        top: int = 10,
        kind: OrgKind | str | None = None,
        region: str | None = None,
        min_confidence: float = 0.0,
        evidence_per_org: int = 3,
        method: Method | str | None = None,
        explain: bool = True,
    ) -> MatchResult:
        """Rank organisations for `text`; each candidate carries its best evidence passages.

        Candidates are ordered by confidence, then score (the probability ranking principle), so
        a confidence never rises down the list. `method` other than hybrid ranks by that
        channel's score instead (a diagnostic for the evaluation harness; confidences stay the
        hybrid ones). `explain=False` skips highlights and shared terms; `area` as in `assess`.
        """
        if top < 1:
            raise JiebangError("top must be at least 1")
        method = self.method if method is None else Method.from_str(method)
        assessment = self.assess(text, area=area, kind=kind, region=region)
        whole = assessment.whole
        if not whole.ranking.scores and not assessment.confidence:
            reason = "no organisation is indexed" if not len(self.index) else (
                f"no organisation matches the filters (kind={kind}, region={region})"
                if kind is not None or region else "no evidence passage matches the text"
            )  # fmt: skip
            return MatchResult(
                query=text, candidates=[], reason=reason, capable=self.capable_confidence
            )
        if method is Method.hybrid:
            shown, order = whole.ranking, assessment.order()
        else:
            shown = self.rank(text, whole.hits, method)
            order = sorted(shown.scores, key=lambda g: (-shown.scores[g], g))
        candidates = []
        for group in order:
            confidence = assessment.confidence.get(group, 0.0)
            if confidence < min_confidence:
                continue
            candidate = self._candidate(group, shown.scores.get(group), confidence)
            candidate.facets = assessment.facet_evidence(
                group, self.capable_confidence, self.passages
            )
            best = shown.passages(group, evidence_per_org)
            if explain and best:
                self.explainer.explain(candidate, text, best, whole.hits, shown)
            candidates.append(candidate)
            if len(candidates) == top:
                break
        return MatchResult(
            query=text,
            candidates=candidates,
            facets=[FacetLabel(id=f.id, text=f.text) for f in assessment.facets],
            reason=self._reason(candidates, min_confidence),
            capable=self.capable_confidence,
        )

    def _reason(self, candidates: list[Candidate], min_confidence: float) -> str | None:
        if not candidates:
            return f"no organisation reaches confidence {min_confidence:.2f}"
        capable = self.capable_confidence
        best = max(c.confidence for c in candidates)
        if best < capable:
            return (
                f"no candidate reaches the capable level (confidence ≥ {capable:.2f}; the best "
                f"is {best:.2f}): the evidence suggests nobody indexed works on this yet, so "
                "read these as leads, not solvers"
            )
        return None

    def _candidate(self, org_id: str, score: float | None, confidence: float) -> Candidate:
        org = self.organisations[org_id]
        return Candidate(
            org_id=org.id,
            name=org.name,
            kind=org.kind.value,
            region=org.region.label(),
            score=round(score, 4) if score is not None else None,
            confidence=round(confidence, 4),
        )

    @property
    def capable_confidence(self) -> float:
        """The confidence from which a candidate counts as capable (the calibration's)."""
        return self.calibration.candidate.capable

    # ---- persistence (the file format: `matcher.engine_store`) ---------------------------

    def save(self, folder: Path) -> Path:
        """Write the whole engine state, its calibration included, as one file, atomically."""
        stored = StoredEngine(
            method=self.method.value,
            terms=list(self.terms),
            next_pid=self.groups.next_pid,
            calibration=self.calibration,
            organisations=list(self.organisations.values()),
            passages=list(self.passages.values()),
            vectors=self.index,
            lexical=self.lexical,
        )
        return write_index(folder, self.embedder, stored)

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> MatchEngine:
        """Load a saved engine; refuses one built with another model, or a damaged file."""
        stored = read_index(folder, embedder)
        engine = cls(
            embedder,
            {o.id: o for o in stored.organisations},
            calibration=stored.calibration,
            method=stored.method,
            terms=stored.terms,
        )
        engine.index = stored.vectors
        if stored.passages:
            engine.groups.add(stored.passages)
        engine.lexical = stored.lexical
        engine.groups.next_pid = stored.next_pid
        return engine
