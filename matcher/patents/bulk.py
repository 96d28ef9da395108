"""Bulk patent matching: which appendix areas a batch of patents addresses.

Retrieval is the engine's: the catalogue's challenges sit in a vector index and a lexical index
(`ChallengeIndex`), each patent is a query through `matcher.retrieval`, and the two channels are
fused with the calibration's weights for the patent's length, as `MatchEngine.match` fuses them.
The decision is per area (`matcher.calibration.AreaModel`): P(the patent addresses the area) from
its best fused score over the area's challenges, the raw channel scores, and the area's
supervised direction; an area is reported when P reaches `min_confidence` (default: the
threshold fitted by cross-validation on `patent-area`), at most `top` areas per patent. Each
reported area names its best-matching challenge and evidence sentence.

Throughput: rows are read in windows; all passages of a window go to the embedder in one call
(sorted by length and batched there). Patents are encoded as passages, like evidence, so a
patent already indexed costs a cache lookup.

The best-matching sentence of each reported match is chosen by `EvidenceMode`:
- `lexical` (default): the sentence sharing the most character bigrams with the challenge text
  (Dice coefficient) — no extra encoding;
- `dense`: every sentence is embedded too and the one with the highest cosine wins — about twice
  the encoding work (see BENCHMARKS.md).

Streaming a file through it (windows, output, checkpoint, resume) is
`service.usecases.bulk.run_bulk`; the output files are written by `service.export.bulk`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from pydantic import BaseModel

from corpus.errors import JiebangError
from corpus.models import Challenge, Patent
from embed.chunk import sentences
from embed.embedder import Embedder
from matcher.areas import ChallengeIndex, EncodedTexts, Retrieved
from matcher.calibration import Calibration


class EvidenceMode(StrEnum):
    """How the best-matching sentence of a match is chosen."""

    lexical = "lexical"
    dense = "dense"


class ChallengeMatch(BaseModel):
    """An area a patent addresses: its best challenge there, and the evidence sentence.

    `confidence` is P(the patent addresses the area); `cosine` its raw cosine to the challenge.
    """

    rank: int
    challenge_id: str
    area_no: int | None
    area: str
    challenge: str
    cosine: float
    confidence: float
    sentence: str


class PatentMatches(BaseModel):
    """A patent and the areas it addresses (best first; empty when none passes)."""

    line: int
    patent_id: str
    title: str
    applicants: list[str]
    matches: list[ChallengeMatch]
    date: str | None = None


class BulkMatcher:
    """Decides, batch by batch, which areas patents address; holds only the challenge index."""

    def __init__(
        self,
        embedder: Embedder,
        challenges: Sequence[Challenge],
        *,
        calibration: Calibration,
        top: int = 1,
        min_confidence: float | None = None,
        evidence: EvidenceMode = EvidenceMode.lexical,
    ) -> None:
        if not challenges:
            raise JiebangError("no challenges to match against")
        if top < 1:
            raise JiebangError(f"top must be at least 1, got {top}")
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise JiebangError(f"min_confidence must be in [0, 1], got {min_confidence}")
        calibration.require_model(embedder.model_id)
        if calibration.area is None:
            raise JiebangError("the calibration has no area model: bulk matching needs one")
        self.area_model = calibration.area
        self.embedder = embedder
        self.calibration = calibration
        # Decisions are per catalogue area: a challenge outside them (a posted one with an area
        # of its own) cannot be decided, and is left out and named in `skipped`.
        self.challenges = [c for c in challenges if c.area_no in self.area_model.areas]
        self.skipped = [c.id for c in challenges if c.area_no not in self.area_model.areas]
        if not self.challenges:
            raise JiebangError("none of the challenges is in a catalogue area")
        self.top = top
        self.min_confidence = (
            self.area_model.threshold if min_confidence is None else min_confidence
        )
        self.evidence = EvidenceMode(evidence)
        self.index = ChallengeIndex(
            embedder, self.challenges, calibration.ranking, self.area_model.areas
        )
        self._challenge_bigrams = [_bigrams(c.text) for c in self.challenges]

    def fingerprint(self) -> dict[str, object]:
        """What decides the output; a checkpoint is only resumed under the same fingerprint."""
        digest = hashlib.sha1(self.calibration.to_json().encode()).hexdigest()[:12]
        return {
            "model": self.embedder.model_id,
            "calibration": digest,
            "challenges": [c.id for c in self.challenges],
            "top": self.top,
            "min_confidence": self.min_confidence,
            "evidence": str(self.evidence),
        }

    def encode(self, rows: Sequence[tuple[int, Patent]]) -> EncodedTexts:
        """All passages of (line, patent) pairs, encoded in one call: `match`'s encoding part,
        for a caller that overlaps it with matching the previous rows."""
        return self.index.encode([patent.text for _, patent in rows])

    def match(
        self, rows: Sequence[tuple[int, Patent]], encoded: EncodedTexts | None = None
    ) -> list[PatentMatches]:
        """Match (line, patent) pairs; encodes all their passages in one call, unless `encoded`
        (`encode(rows)`) is given."""
        if not rows:
            return []
        texts = [patent.text for _, patent in rows]
        retrieved = self.index.retrieve(texts, encoded)
        probability = self.probability(retrieved)
        picks = [self._pick(p) for p in probability]
        chosen = [
            [int(retrieved.best_challenge[i, a]) for a in areas] for i, areas in enumerate(picks)
        ]
        evidence = self._sentences(texts, chosen)
        results = []
        for i, ((line, patent), areas, js, said) in enumerate(
            zip(rows, picks, chosen, evidence, strict=True)
        ):
            matches = [
                ChallengeMatch(
                    rank=rank,
                    challenge_id=self.challenges[j].id,
                    area_no=self.challenges[j].area_no,
                    area=self.challenges[j].area,
                    challenge=self.challenges[j].text,
                    cosine=round(float(retrieved.cosine[i, j]), 4),
                    confidence=round(float(probability[i, a]), 4),
                    sentence=sentence,
                )
                for rank, (a, j, sentence) in enumerate(zip(areas, js, said, strict=True), start=1)
            ]
            results.append(
                PatentMatches(
                    line=line,
                    patent_id=patent.id,
                    title=patent.title,
                    applicants=patent.applicants,
                    matches=matches,
                    date=patent.date,
                )
            )
        return results

    def probability(self, retrieved: Retrieved) -> np.ndarray:
        """(texts × areas) P(the text addresses the area), from the area model."""
        return self.area_model.probability_for(retrieved.features, retrieved.vectors)

    def _pick(self, probability: np.ndarray) -> list[int]:
        """The most probable `top` areas, kept where P reaches the threshold."""
        order = np.argsort(-probability, kind="stable")[: self.top]
        return [int(a) for a in order if probability[a] >= self.min_confidence]

    def _sentences(self, texts: list[str], picks: list[list[int]]) -> list[list[str]]:
        split = [sentences(text) or [text] for text in texts]
        if self.evidence is EvidenceMode.dense:
            return self._dense_sentences(split, picks)

        def closest(parts: list[str], j: int) -> str:
            """The sentence sharing most bigrams with challenge `j`."""
            return max(parts, key=lambda s: _dice(_bigrams(s), self._challenge_bigrams[j]))

        return [[closest(parts, j) for j in js] for parts, js in zip(split, picks, strict=True)]

    def _dense_sentences(self, split: list[list[str]], picks: list[list[int]]) -> list[list[str]]:
        wanted = [parts if js else [] for parts, js in zip(split, picks, strict=True)]
        flat = [sentence for parts in wanted for sentence in parts]
        if not flat:
            return [[] for _ in split]
        challenge_vectors = self.embedder.encode_queries([c.query_text for c in self.challenges])
        scores = self.embedder.encode_passages(flat, progress=False) @ challenge_vectors.T
        chosen: list[list[str]] = []
        start = 0
        for parts, js in zip(wanted, picks, strict=True):
            block = scores[start : start + len(parts)]
            chosen.append([parts[int(np.argmax(block[:, j]))] for j in js])
            start += len(parts)
        return chosen


def _bigrams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0
