"""The matching engine: organisations' evidence in two indexes, queries ranked against it.

The one path a query takes (`match`):

1. `channel_hits`: the dense channel (FAISS over e5 vectors) and the lexical channel
   (character 1–2-gram TF-IDF) each return their top passages, with raw scores and z-scores
   over the whole index;
2. `rank`: `matcher.fusion.fuse` mixes the method's channels into one score per passage, and
   `matcher.aggregate.aggregate` turns passages into one score per organisation (fusion and
   aggregation depend on the query's length: `RankingConfig.regime_for`);
3. `confidences`: `CandidateModel` maps each organisation's evidence features to
   P(it can contribute);
4. `Explainer` fills the evidence, channel shares and shared terms of the top candidates.

Everything fitted (weights, aggregation, confidence) comes from one `Calibration`, fitted for
the embedding model and saved inside the index.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from corpus.errors import JiebangError
from corpus.files import atomic_write
from corpus.models import Organisation, OrgKind, Patent
from embed.backends import Backend
from embed.background import Background
from embed.chunk import MAX_PASSAGE_CHARS, split_passages
from embed.embedder import Embedder
from embed.lexical_index import LexicalIndex
from embed.vector_index import IndexKind, VectorIndex
from matcher.aggregate import aggregate
from matcher.assessment import Assessment, Scored
from matcher.calibration import (
    SHIPPED,
    Calibration,
    RankingConfig,
    default_calibration,
    neutral_calibration,
)
from matcher.calibration.candidate import candidate_features
from matcher.calibration.store import parse_calibration
from matcher.evidence import EvidenceDoc, Passage, attach_patents, chunk_docs, organisation_docs
from matcher.explain import Explainer
from matcher.fusion import ChannelScores, Method, fuse
from matcher.ranking import Ranking
from matcher.results import Candidate, FacetLabel, MatchResult
from matcher.retrieval import evidence_hits
from matcher.teams.facets import enumerated

log = logging.getLogger("jiebang")

PreparedEvidence = tuple[list[Passage], np.ndarray | None]
"""Chunked passages and their vectors, ready to insert (`MatchEngine.prepare_organisation`)."""

INDEX_FILE = "jiebang-index.zip"
FORMAT = "jiebang-index/4"
# Passages each channel contributes per query before fusion: enough for every plausible
# organisation.
CANDIDATE_PASSAGES = 2000
CHANNELS = ("dense", "lexical")
# Facets scored beside the whole text: an appendix row lists up to six technologies.
MAX_FACETS = 8
INDEX_MEMBERS = (
    "meta.json",
    "calibration.json",
    "organisations.jsonl",
    "passages.jsonl",
    "vectors.bin",
    "lexical.bin",
)
# No member of a real index comes near this (10⁶ passages: ≈ 2 GB of vectors).
MAX_MEMBER_BYTES = 8 << 30


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
        self.passages: dict[int, Passage] = {}
        self.index = VectorIndex(embedder.dim, embedder.model_id, index_kind)
        self.lexical = LexicalIndex(self.calibration.background)
        self.method = Method.from_str(method)
        self.terms = tuple(sorted(set(terms)))
        self.explainer = Explainer(self.passages, self.terms)
        self._by_group: dict[str, list[int]] = defaultdict(list)
        # pid → group, an array so that a query's few thousand hits are grouped in one take.
        self._group_of_pid = np.empty(0, dtype=object)
        self._next_pid = 0

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        organisations: Iterable[Organisation],
        embedder: Embedder,
        patents: Iterable[Patent] = (),
        progress: bool = True,
        **options: object,
    ) -> MatchEngine:
        """Index capability statements and patents (attached to each of their applicants).

        `options` go to the constructor (calibration, method, terms, index_kind).
        """
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
        **options: object,
    ) -> MatchEngine:
        """A generic evidence → group engine; a group with no Organisation gets a bare one.

        `options` go to the constructor (calibration, method, terms, index_kind).
        """
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
        options: dict[str, object],
    ) -> MatchEngine:
        """An engine over `docs`. A model with no calibration at all gets a neutral one whose
        reference background is these documents' passages, frozen (`neutral_calibration`)."""
        passages, vectors = _prepare(embedder, docs, progress)
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
        self._insert(*_prepare(self.embedder, docs, progress))

    def use_calibration(self, calibration: Calibration) -> None:
        """Score with `calibration` from now on (the lexical weights follow its background)."""
        calibration.require_model(self.embedder.model_id)
        if calibration.background_npz != self.calibration.background_npz:
            self.lexical.reweight(calibration.background)
        self.calibration = calibration

    def _insert(self, passages: list[Passage], vectors: np.ndarray | None) -> None:
        if not passages:
            return
        start = self._next_pid
        passages = [p.model_copy(update={"pid": start + i}) for i, p in enumerate(passages)]
        pids = np.array([p.pid for p in passages], dtype=np.int64)
        self.index.add(pids, vectors)
        self.lexical.add(pids, [p.text for p in passages])
        self._remember(passages)
        self._next_pid = passages[-1].pid + 1

    def _remember(self, passages: list[Passage]) -> None:
        """Record indexed passages by id and under their group."""
        end = max(p.pid for p in passages) + 1
        if end > len(self._group_of_pid):
            grown = np.empty(max(end, 2 * len(self._group_of_pid)), dtype=object)
            grown[: len(self._group_of_pid)] = self._group_of_pid
            self._group_of_pid = grown
        for passage in passages:
            self.passages[passage.pid] = passage
            self._by_group[passage.group].append(passage.pid)
            self._group_of_pid[passage.pid] = passage.group

    def prepare_organisation(self, org: Organisation) -> PreparedEvidence:
        """Embed `org`'s capability passages without changing the engine.

        The slow part of an upsert; a service runs it outside its write lock.
        """
        return _prepare(self.embedder, list(organisation_docs([org])), progress=False)

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
        return [
            pid for pid in self._by_group.get(org_id, []) if self.passages[pid].doc_id == doc_id
        ]

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
        self._drop_passages(list(self._by_group.get(org_id, [])))
        self._by_group.pop(org_id, None)
        del self.organisations[org_id]

    def _drop_passages(self, pids: list[int]) -> None:
        if not pids:
            return
        self.index.remove(np.array(pids, dtype=np.int64))
        self.lexical.remove(pids)
        for pid in pids:
            passage = self.passages.pop(pid)
            self._by_group[passage.group].remove(pid)
            self._group_of_pid[pid] = None

    # ---- matching -------------------------------------------------------------------------

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

    def channel_hits(
        self,
        text: str,
        kind: OrgKind | str | None = None,
        region: str | None = None,
        depth: int = CANDIDATE_PASSAGES,
    ) -> dict[str, ChannelScores]:
        """Both channels' exact scores for every passage of the organisations their top `depth`
        passages reach, raw and standardised against the reference background."""
        if not text or not text.strip():
            raise JiebangError("the challenge text is empty")
        text = text.strip()
        allowed = self._allowed_pids(kind, region)
        if not len(self.index) or (allowed is not None and not len(allowed)):
            return dict.fromkeys(CHANNELS, ChannelScores.empty())
        # A long query is chunked like the passages; a passage scores its best chunk.
        vectors = self.embedder.encode_queries(split_passages(text))
        return evidence_hits(
            self.index, self.lexical, self.calibration.background, vectors, text, depth,
            self._group_passages, allowed,
        )  # fmt: skip

    def _group_passages(self, pids: Iterable[int]) -> np.ndarray:
        """Every passage of the organisations owning `pids`."""
        groups = set(self._group_of_pid[np.fromiter(pids, dtype=np.int64)].tolist())
        return np.array(sorted(p for g in groups for p in self._by_group[g]), dtype=np.int64)

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
        fused, contributions, floor = fuse(
            {name: hits[name] for name in method.channels},
            regime.fusion.weights_for(method),
            regime.fusion.mode,
            regime.fusion.rrf_k,
        )
        pids, values, groups = self._fused_arrays(fused)
        scores = aggregate(
            groups,
            values,
            regime.aggregation,
            floor=floor,
            docs_per_group={g: len(p) for g, p in self._by_group.items()},
        )
        by_group = _passages_by_group(pids, values, groups)
        return Ranking(scores, fused, contributions, floor, by_group)

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
        whole = self._variant(text, kind, region)
        body = text.strip().removeprefix(f"{area}：") if area else text
        parts = enumerated(body)[:MAX_FACETS] if facets else []
        variants = [self._variant(f.query, kind, region) for f in parts] if len(parts) > 1 else []
        confidence = dict(whole.confidence)
        for variant in variants:
            for group, value in variant.confidence.items():
                confidence[group] = max(confidence.get(group, 0.0), value)
        return Assessment(text, whole, parts if variants else [], variants, confidence)

    def _variant(self, text: str, kind: OrgKind | str | None, region: str | None) -> Scored:
        """One query text's hybrid ranking and each organisation's confidence under it."""
        hits = self.channel_hits(text, kind, region)
        ranking = self.rank(text, hits, Method.hybrid)
        groups = list(ranking.scores)
        if not groups:
            return Scored(text, hits, ranking, {})
        scores = np.array([ranking.scores[g] for g in groups])
        values = self.calibration.candidate.confidence(candidate_features(scores, hits))
        return Scored(text, hits, ranking, dict(zip(groups, values.tolist(), strict=True)))

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
            if explain and group in shown.by_group:
                self.explainer.explain(
                    candidate, text, shown.by_group[group][:evidence_per_org], whole.hits, shown
                )
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

    def _fused_arrays(self, fused: dict[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(passage ids, fused scores, their groups) as arrays, in `fused`'s order."""
        pids = np.fromiter(fused, dtype=np.int64, count=len(fused))
        values = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        return pids, values, self._group_of_pid[pids]

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

    # ---- persistence ----------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write the whole engine state, its calibration included, as one file, atomically."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            meta = {
                "format": FORMAT,
                "model_id": self.embedder.model_id,
                "dim": self.embedder.dim,
                "backend": self.embedder.backend.value,
                "method": self.method.value,
                "terms": list(self.terms),
                "next_pid": self._next_pid,
            }
            archive.writestr("meta.json", json.dumps(meta, ensure_ascii=False))
            archive.writestr("calibration.json", self.calibration.to_json())
            archive.writestr(
                "organisations.jsonl",
                "".join(o.model_dump_json() + "\n" for o in self.organisations.values()),
            )
            archive.writestr(
                "passages.jsonl",
                "".join(p.model_dump_json() + "\n" for p in self.passages.values()),
            )
            archive.writestr("vectors.bin", self.index.to_bytes())
            archive.writestr("lexical.bin", self.lexical.to_bytes())
        path = folder / INDEX_FILE
        atomic_write(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> MatchEngine:
        """Load a saved engine; refuses one built with another model, or a damaged file."""
        path = folder / INDEX_FILE
        if not path.exists():
            raise JiebangError(f"no index at {path}; build one first")
        try:
            with zipfile.ZipFile(path) as archive:
                members = {name: _read_member(archive, name, path) for name in INDEX_MEMBERS}
        except zipfile.BadZipFile as error:
            raise JiebangError(f"{path} is not a jiebang index ({error})") from None
        try:
            meta = json.loads(members["meta.json"])
        except ValueError as error:
            raise JiebangError(f"{path} is not a jiebang index ({error})") from None
        if meta.get("format") != FORMAT:
            raise JiebangError(
                f"{path} has format {meta.get('format')!r}, not {FORMAT}; rebuild it"
            )
        built_with = Backend.from_str(meta.get("backend", Backend.torch.value))
        if not built_with.compatible_with(embedder.backend):
            raise JiebangError(
                f"{path} was built with the '{built_with}' backend, whose vectors do not mix "
                f"with '{embedder.backend}'; set JIEBANG_BACKEND={built_with} or rebuild it"
            )
        index = VectorIndex.from_bytes(
            members["vectors.bin"], embedder.model_id, embedder.dim, source=str(path)
        )
        calibration = parse_calibration(members["calibration.json"], f"{path} (calibration)")
        organisations = [
            Organisation.model_validate_json(line)
            for line in members["organisations.jsonl"].decode().splitlines()
        ]
        engine = cls(
            embedder,
            {o.id: o for o in organisations},
            calibration=calibration,
            method=meta["method"],
            terms=meta["terms"],
        )
        engine.index = index
        passages = members["passages.jsonl"].decode().splitlines()
        if passages:
            engine._remember([Passage.model_validate_json(line) for line in passages])
        engine.lexical = LexicalIndex.from_bytes(
            members["lexical.bin"], str(path), calibration.background
        )
        engine._next_pid = meta["next_pid"]
        return engine


def _prepare(embedder: Embedder, docs: Sequence[EvidenceDoc], progress: bool) -> PreparedEvidence:
    """Passages and their vectors: the slow, fallible part, done before anything changes.

    Reads nothing an index owns (passage ids are given at insert time), so it may run while
    other threads read or change an engine.
    """
    passages = chunk_docs(docs, MAX_PASSAGE_CHARS)
    texts = [p.text for p in passages]
    vectors = embedder.encode_passages(texts, progress=progress) if passages else None
    return passages, vectors


def _read_member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member of an index file, refusing a missing or implausibly large one."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise JiebangError(f"{path} is damaged: it has no {name}; rebuild the index") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise JiebangError(
            f"{path} is damaged or hostile: {name} would unpack to {info.file_size} bytes"
        )
    return archive.read(info)


def _passages_by_group(
    pids: np.ndarray, scores: np.ndarray, groups: np.ndarray
) -> dict[str, list[int]]:
    """Each group's passages, best score first (ties: lower id first)."""
    per_group: dict[str, list[int]] = defaultdict(list)
    pid_list, group_list = pids.tolist(), groups.tolist()
    for i in np.lexsort((pids, -scores)).tolist():
        per_group[group_list[i]].append(pid_list[i])
    return per_group
